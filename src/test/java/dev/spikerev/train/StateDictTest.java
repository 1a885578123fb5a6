package dev.spikerev.train;

import dev.spikerev.tensor.Natives;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Optimizer state dicts: Java's structure equals Python's {@code optimizer.state_dict()} (types, key order, values)
 * and torch resumes from it; Java resumes from a Python-made state dict and continues exactly like Python.
 */
class StateDictTest {
    @BeforeAll
    static void natives() {
        Natives.init();
    }

    record Spec(String label, Function<OptimCase, Optimizer> java, String pyBuild) {}

    static final List<Spec> SPECS = List.of(
            new Spec("lamb trevsnn",
                    c -> new Lamb(ParamGroups.revcolWeightDecay(c.params, Set.of(), Set.of()),
                            Map.of("lr", 2e-3, "eps", 1e-8, "betas", List.of(0.9, 0.999), "trust_clip", true)),
                    "Lamb(revcol_groups(), trust_clip=True, lr=2e-3, eps=1e-8, betas=(0.9, 0.999))"),
            new Spec("adamw timm groups",
                    c -> new AdamW(ParamGroups.timmWeightDecay(c.params, 0.06, List.of()), Map.of("lr", 5e-4, "eps", 1e-8)),
                    "torch.optim.AdamW(timm_groups(0.06), lr=5e-4, eps=1e-8)"),
            new Spec("adamw amsgrad",
                    c -> new AdamW(ParamGroups.all(c.params), Map.of("lr", 1e-3, "amsgrad", true)),
                    "torch.optim.AdamW(list(params.values()), lr=1e-3, amsgrad=True)"),
            new Spec("sgd momentum",
                    c -> new SGD(ParamGroups.all(c.params), Map.of("lr", 0.1, "momentum", 0.9, "weight_decay", 1e-4)),
                    "torch.optim.SGD(list(params.values()), lr=0.1, momentum=0.9, weight_decay=1e-4)"));

    @Test
    void javaStateDictEqualsTorchAndTorchResumesFromIt() {
        for (Spec spec : SPECS) {
            OptimCase c = new OptimCase(41, 4);
            try (Optimizer opt = spec.java().apply(c)) {
                for (int s = 0; s < 2; s++) {
                    c.setGrads(opt, s);
                    opt.step();
                }
                LinkedHashMap<Object, Object> sd = opt.stateDict();
                LinkedHashMap<String, Tensor> in = c.inputs();
                for (Map.Entry<String, Tensor> e : c.params.entrySet()) in.put("j." + e.getKey(), e.getValue());
                String script = TimmLambPy.SOURCE + "\n" + OptimCase.PY_SETUP + "\n"
                        + "opt = " + spec.pyBuild() + "\n"
                        + "for s in range(2):\n    set_grads(s)\n    opt.step()\n"
                        + "ref = opt.state_dict()\n"
                        + "java = " + PyBridge.pyRepr(sd) + "\n"
                        + "outf('sd.maxdiff', same(ref, java, 'state_dict'))\n"
                        + "with torch.no_grad():\n    for n, p in params.items():\n        p.copy_(D['j.' + n])\n"
                        + "opt2 = " + spec.pyBuild() + "\n"
                        + "opt2.load_state_dict(java)\n"
                        + "for s in range(2, 4):\n    set_grads(s)\n    opt2.step()\n"
                        + "out_params('r.p.')\nout_state(opt2, 'r.s.')\n";
                PyBridge.Result py = PyBridge.run(script, in);
                System.out.printf("[state_dict] %-20s Java state_dict vs torch: same structure, max value diff %.3g%n", spec.label(), py.f("sd.maxdiff"));
                for (int s = 2; s < 4; s++) {
                    c.setGrads(opt, s);
                    opt.step();
                }
                OptimizerParity.compare(spec.label() + " torch resumed", c, opt, py, "r.", 1e-6);
            }
        }
    }

    @Test
    void javaResumesFromPythonStateDict() {
        for (Spec spec : SPECS) {
            OptimCase c = new OptimCase(42, 4);
            String script = TimmLambPy.SOURCE + "\n" + OptimCase.PY_SETUP + "\n"
                    + "opt = " + spec.pyBuild() + "\n"
                    + "for s in range(2):\n    set_grads(s)\n    opt.step()\n"
                    + "outj('sd', opt.state_dict())\n"
                    + "out_params('a.p.')\n"
                    + "for s in range(2, 4):\n    set_grads(s)\n    opt.step()\n"
                    + "out_params('r.p.')\nout_state(opt, 'r.s.')\n";
            PyBridge.Result py = PyBridge.run(script, c.inputs());
            try (NoGradGuard ng = new NoGradGuard()) {
                for (Map.Entry<String, Tensor> e : c.params.entrySet())
                    e.getValue().copy_(PyBridge.floatTensor(py.t("a.p." + e.getKey()), PyBridge.values(e.getValue()).length == 0 ? new long[0] : e.getValue().sizes().vec().get()));
            }
            Map<?, ?> sd = (Map<?, ?>) PyBridge.decode(py.j("sd"));
            try (Optimizer opt = spec.java().apply(c)) {
                opt.loadStateDict(sd);
                // the loaded options are Python's (e.g. step tensor, tuple betas as a list)
                Map<?, ?> g0 = (Map<?, ?>) ((List<?>) sd.get("param_groups")).get(0);
                for (Object k : g0.keySet())
                    if (!k.equals("params")) assertTrue(opt.paramGroups().get(0).has((String) k), spec.label() + ": loaded group lacks " + k);
                assertEquals(((Map<?, ?>) sd.get("state")).size(), ((Map<?, ?>) opt.stateDict().get("state")).size());
                for (int s = 2; s < 4; s++) {
                    c.setGrads(opt, s);
                    opt.step();
                }
                OptimizerParity.compare(spec.label() + " Java resumed", c, opt, py, "r.", 1e-6);
            }
        }
    }

    @Test
    void loadRejectsMismatchedGroups() {
        OptimCase c = new OptimCase(43, 1);
        try (SGD a = new SGD(ParamGroups.timmWeightDecay(c.params, 0.1, List.of()), Map.of("lr", 0.1));
             SGD b = new SGD(ParamGroups.all(c.params), Map.of("lr", 0.1))) {
            assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(a.stateDict()));
        }
    }

    @Test
    void stateDictShapeForLamb() {
        OptimCase c = new OptimCase(44, 1);
        try (Lamb opt = new Lamb(ParamGroups.revcolWeightDecay(c.params, Set.of(), Set.of()), Map.of("lr", 2e-3, "trust_clip", true))) {
            c.setGrads(opt, 0);
            opt.step();
            LinkedHashMap<Object, Object> sd = opt.stateDict();
            assertEquals(List.of("state", "param_groups"), List.copyOf(sd.keySet()));
            List<?> groups = (List<?>) sd.get("param_groups");
            Map<?, ?> g1 = (Map<?, ?>) groups.get(1);
            assertEquals(List.of("weight_decay", "lr", "bias_correction", "betas", "eps", "grad_averaging", "max_grad_norm",
                    "trust_clip", "always_adapt", "caution", "decoupled_decay", "corrected_weight_decay", "step", "params"), List.copyOf(g1.keySet()));
            assertInstanceOf(Tensor.class, g1.get("step"));
            assertEquals(List.of(5L, 6L, 7L, 8L), g1.get("params"));
            Map<?, ?> st = (Map<?, ?>) sd.get("state");
            assertEquals(8, st.size()); // nograd.weight has no state
            assertEquals(List.of("exp_avg", "exp_avg_sq"), List.copyOf(((Map<?, ?>) st.get(0L)).keySet()));
        }
    }
}
