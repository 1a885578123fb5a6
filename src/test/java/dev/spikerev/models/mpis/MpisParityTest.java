package dev.spikerev.models.mpis;

import dev.spikerev.autograd.Broyden;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.train.SGD;
import dev.spikerev.tensor.Natives;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.spikerev.models.mpis.MpisAssert.*;
import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Parity with the reference's golden fixtures ({@code fixtures/mpis/<case>}): keys, eval/train logits, loss,
 * equilibrium a*, BN buffers after one train forward, one-step gradients, K SGD steps (state, losses, momentum,
 * eval logits) and the implicit-mode gradients. Tolerances from meta.json, never loosened.
 */
class MpisParityTest {
    @BeforeAll
    static void threads() { Natives.setThreads(2); }

    private static double[] tol(MpisFixture f, String g) { return f.tol(g); }

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void stateDictKeysMatchModelPth(String c) {
        MpisFixture f = MpisFixture.load(c);
        try (PointerScope ps = new PointerScope()) {
            MPISNet net = new MPISNet(MpisConfig.fromConstructor(f.constructor(), null));
            LinkedHashMap<String, Tensor> mine = StateDictIO.stateDict(net), ref = f.group("model");
            assertEquals(new ArrayList<>(ref.keySet()), new ArrayList<>(mine.keySet()), "state_dict keys (order included)");
            for (String k : ref.keySet()) {
                assertEquals(shape(ref.get(k)), shape(mine.get(k)), k + " shape");
                assertEquals(ref.get(k).scalar_type().value, mine.get(k).scalar_type().value, k + " dtype");
            }
            report(c + ": " + mine.size() + " state_dict keys equal model.pth's, in order");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void evalLogitsAndEquilibrium(String c) {
        MpisFixture f = MpisFixture.load(c);
        try (PointerScope ps = new PointerScope()) {
            MPISNet net = f.model(null);
            net.train(false);
            Tensor input = f.tensor("io/input"), inputCopy = input.clone();
            Tensor logits;
            try (NoGradGuard ng = new NoGradGuard()) {
                logits = net.forward(input);
            }
            exact("input untouched", input, inputCopy);
            double[] t = tol(f, "logits");
            double d = close(c + " logits_eval", logits, f.tensor("io/logits_eval"), t[0], t[1]);
            Tensor[] eq = net.lastEquilibrium();
            for (int k = 0; k < 2; k++) exact(c + " equilibrium eval." + k, eq[k], f.tensor("io/equilibrium/eval." + k));
            report(String.format("%s: logits_eval max|diff| %.2e; equilibrium eval exact (firing %.3f / %.3f)", c, d,
                    firing(eq[0]), firing(eq[1])));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void trainForwardLossStateAndGrads(String c) {
        MpisFixture f = MpisFixture.load(c);
        try (PointerScope ps = new PointerScope()) {
            MpisModel model = new MpisModel(f.model(null));
            MPISNet net = model.net();
            Tensor input = f.tensor("io/input"), inputCopy = input.clone();
            Tensor[] out = model.forwardLoss(input, f.tensor("io/target"));
            exact("input untouched", input, inputCopy);
            double[] tl = tol(f, "logits"), tls = tol(f, "loss"), tg = tol(f, "grads"), ts = tol(f, "after_steps");
            double dl = close(c + " logits_train", out[0], f.tensor("io/logits_train"), tl[0], tl[1]);
            double dloss = close(c + " loss", out[1], f.tensor("io/loss"), tls[0], tls[1]);
            Tensor[] eq = net.lastEquilibrium();
            for (int k = 0; k < 2; k++) exact(c + " equilibrium train." + k, eq[k], f.tensor("io/equilibrium/train." + k));
            Map<String, Tensor> sd = StateDictIO.stateDict(net), params = net.namedParameters();
            double dbn = 0;
            for (Map.Entry<String, Tensor> e : f.group("io/state_after_one_train_forward").entrySet()) {
                if (e.getKey().endsWith("num_batches_tracked")) exact(e.getKey(), sd.get(e.getKey()), e.getValue());
                else dbn = Math.max(dbn, close(c + " state_after_one_train_forward[" + e.getKey() + "]", sd.get(e.getKey()), e.getValue(), ts[0], ts[1]));
            }
            model.backward(out[1]);
            LinkedHashMap<String, Tensor> expected = f.group("io/grads");
            Map<String, Tensor> grads = new LinkedHashMap<>();
            for (String k : expected.keySet()) {
                Tensor p = params.get(k);
                assertNotNull(p, "no parameter " + k);
                assertTrue(p.grad().defined(), k + " has no gradient");
                grads.put(k, p.grad());
            }
            double dg = closeAll(c + " grads", grads, expected, tg[0], tg[1]);
            // parameters without gradient: the fusion conv and the frozen copy
            int withGrad = 0;
            for (Map.Entry<String, Tensor> e : net.uniqueNamedParameters().entrySet()) {
                String k = e.getKey();
                boolean has = e.getValue().grad().defined();
                if (has) withGrad++;
                if (k.startsWith("snn_func_copy.") || k.startsWith("snn_func.downsample0_1."))
                    assertFalse(has, k + " must not receive a gradient");
            }
            assertEquals(expected.size(), withGrad, "number of parameters with a gradient");
            report(String.format("%s: logits_train %.2e, loss %.2e (%.6f), BN buffers after 1 train fwd %.2e, grads %.2e over %d tensors; a* exact",
                    c, dl, dloss, out[1].item_double(), dbn, dg, expected.size()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void sgdStepsMatchAfterSteps(String c) {
        MpisFixture f = MpisFixture.load(c);
        try (PointerScope ps = new PointerScope()) {
            MpisModel model = new MpisModel(f.model(null));
            FamilyModel.Stepper opt = model.optimizer(f.optimizer());
            int steps = ((Number) f.meta.get("steps")).intValue();
            Tensor x = f.tensor("io/input"), y = f.tensor("io/target");
            Tensor expLosses = f.tensor("io/after_steps_losses");
            double[] tls = tol(f, "loss"), ts = tol(f, "after_steps"), tl = tol(f, "logits"), tg = tol(f, "grads");
            double dLoss = 0;
            for (int i = 0; i < steps; i++) {
                try (PointerScope step = new PointerScope()) {
                    Tensor[] out = model.forwardLoss(x.clone(), y);
                    opt.zeroGrad();
                    model.backward(out[1]);
                    opt.step();
                    dLoss = Math.max(dLoss, close(c + " after_steps_losses[" + i + "]", out[1], expLosses.select(0, i), tls[0], tls[1]));
                }
            }
            Map<String, Tensor> sd = StateDictIO.stateDict(model.net());
            double dState = 0;
            int n = 0;
            for (Map.Entry<String, Tensor> e : f.group("io/after_steps").entrySet()) {
                Tensor mine = sd.get(e.getKey());
                assertNotNull(mine, "missing key " + e.getKey());
                if (e.getKey().endsWith("num_batches_tracked")) exact(c + " after_steps[" + e.getKey() + "]", mine, e.getValue());
                else dState = Math.max(dState, close(c + " after_steps[" + e.getKey() + "]", mine, e.getValue(), ts[0], ts[1]));
                n++;
            }
            assertEquals(sd.size(), n, "after_steps covers every state_dict key");
            // optimizer state: momentum buffers (indices = model.parameters() order)
            SGD sgd = ((MpisModel.SgdStepper) opt).sgd();
            List<Tensor> params = model.net().uniqueParameters();
            double dMom = 0;
            int nMom = 0;
            for (int i = 0; i < params.size(); i++) {
                String key = "ckpt/optimizer/state/" + i + "/momentum_buffer";
                if (f.has(key)) {
                    dMom = Math.max(dMom, close(c + " momentum_buffer[" + i + "]", (Tensor) sgd.state(i).get("momentum_buffer"), f.tensor(key), tg[0], tg[1]));
                    nMom++;
                } else {
                    assertTrue(sgd.state(i).isEmpty(), "momentum buffer " + i + " should not exist");
                }
            }
            assertTrue(nMom > 0, "checkpoint has momentum buffers");
            model.net().train(false);
            Tensor le;
            try (NoGradGuard ng = new NoGradGuard()) {
                le = model.predict(x.clone());
            }
            double dLe = close(c + " logits_eval_after_steps", le, f.tensor("io/logits_eval_after_steps"), tl[0], tl[1]);
            report(String.format("%s: %d SGD steps: losses %.2e, after_steps %.2e over %d keys (counters exact), momentum %.2e over %d, logits_eval_after_steps %.2e",
                    c, steps, dLoss, dState, n, dMom, nMom, dLe));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void implicitGradientsMatchGradsImplicit(String c) {
        MpisFixture f = MpisFixture.load(c);
        try (PointerScope ps = new PointerScope()) {
            MpisConfig.Options opt = MpisConfig.Options.reference().withGradient(MpisConfig.Gradient.IMPLICIT);
            MpisModel model = new MpisModel(f.model(opt));
            List<String> warnings = new ArrayList<>();
            model.net().onWarning(warnings::add);
            Tensor[] out = model.forwardLoss(f.tensor("io/input"), f.tensor("io/target"));
            double[] tl = tol(f, "logits");
            close(c + " logits_train (implicit mode)", out[0], f.tensor("io/logits_train"), tl[0], tl[1]);
            model.backward(out[1]);
            assertTrue(warnings.isEmpty(), "warnings: " + warnings);
            Map<String, Tensor> sd = model.net().namedParameters();
            LinkedHashMap<String, Tensor> expected = f.group("io/grads_implicit");
            // Fixture-harness bug: implicit_grads() in ref_mpis.py takes every parameter whose name starts with
            // 'downsamp' as "head" and gives it the ordinary one-step gradient, which also catches the stem
            // 'downsample_init.*'. Under the spec's semantics (u pushed through f's graph, which reaches the stem via
            // X_0(stem(img))) the stem's implicit gradient differs. So for the stem keys the fixture holds the one-step
            // grads (asserted exactly below, so the exclusion fails loudly once the fixture is regenerated); our stem
            // gradient is checked against finite differences in MpisImplicitGradientTest instead.
            Map<String, Tensor> grads = new LinkedHashMap<>();
            int stem = 0;
            for (String k : new ArrayList<>(expected.keySet())) {
                if (k.startsWith("downsample_init.")) {
                    exact("fixture grads_implicit[" + k + "] == grads[" + k + "] (harness bug, see comment)", expected.remove(k), f.tensor("io/grads/" + k));
                    stem++;
                    continue;
                }
                grads.put(k, sd.get(k).grad());
            }
            double[] t = tol(f, "grads_implicit");
            double d = closeAll(c + " grads_implicit", grads, expected, t[0], t[1]);
            // the implicit gradient really differs from the one-step one on the implicit part
            double rel = relDiff(sd.get("network_s_1.conv.weight").grad(), f.tensor("io/grads/network_s_1.conv.weight"));
            assertTrue(rel > 1e-3, "implicit vs one-step gradient of network_s_1.conv.weight differ by only " + rel);
            Broyden.Result[] r = model.net().lastSolve();
            report(String.format("%s: grads_implicit max|diff| %.2e over %d tensors (%d stem keys excluded: fixture bug); "
                    + "implicit vs one-step rel. diff (network_s_1.conv.weight) %.3f; Broyden stream0 %s; stream1 %s",
                    c, d, expected.size(), stem, rel, r[0], r[1]));
            assertTrue(r[0].converged() && r[1].converged());
        }
    }

    static double relDiff(Tensor a, Tensor b) {
        return a.sub(b).norm().item_double() / b.norm().item_double();
    }

    static double firing(Tensor a) {
        return a.gt(new org.bytedeco.pytorch.Scalar(0)).to(ScalarType.Double).mean().item_double();
    }
}
