package dev.spikerev.train;

import dev.spikerev.tensor.Natives;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LambTest {
    @BeforeAll
    static void natives() {
        Natives.init();
    }

    /** T-RevSNN recipe: revcol groups [decay (default 0.01), no_decay (0.0)], trust_clip, eps 1e-8, global clip 1.0. */
    @Test
    void trevsnnRecipeMatchesTimm() {
        OptimCase c = new OptimCase(11, 3);
        List<ParamGroup> groups = ParamGroups.revcolWeightDecay(c.params, Set.of(), Set.of());
        assertEquals(List.of(5, 4), groups.stream().map(g -> g.params().size()).toList());
        try (Lamb opt = new Lamb(groups, Map.of("lr", 2e-3, "eps", 1e-8, "betas", List.of(0.9, 0.999), "trust_clip", true))) {
            double d = OptimizerParity.run("lamb trevsnn", c, opt,
                    "opt = Lamb(revcol_groups(), trust_clip=True, lr=2e-3, eps=1e-8, betas=(0.9, 0.999))", 3, 1e-6);
            System.out.println("[lamb] trevsnn recipe max diff " + d);
        }
    }

    /** always_adapt (trust ratio on no-decay params), no grad averaging, no bias correction, clipping off. */
    @Test
    void alwaysAdaptNoClipMatchesTimm() {
        OptimCase c = new OptimCase(12, 3);
        Map<String, Object> o = new HashMap<>();
        o.put("lr", 5e-3);
        o.put("always_adapt", true);
        o.put("grad_averaging", false);
        o.put("bias_correction", false);
        o.put("max_grad_norm", null);
        try (Lamb opt = new Lamb(ParamGroups.timmWeightDecay(c.params, 0.05, List.of()), o)) {
            OptimizerParity.run("lamb always_adapt", c, opt,
                    "opt = Lamb(timm_groups(0.05), lr=5e-3, always_adapt=True, grad_averaging=False, bias_correction=False, max_grad_norm=None)",
                    3, 1e-6);
        }
    }

    /** caution + decoupled (corrected) decay + a smaller global clip. */
    @Test
    void cautionDecoupledMatchesTimm() {
        OptimCase c = new OptimCase(13, 3);
        try (Lamb opt = new Lamb(ParamGroups.timmWeightDecay(c.params, 0.1, List.of("alpha*")),
                Map.of("lr", 1e-2, "caution", true, "decoupled_decay", true, "corrected_weight_decay", true, "max_grad_norm", 0.5))) {
            OptimizerParity.run("lamb caution/decoupled", c, opt,
                    "groups = timm_groups(0.1)\n"
                            + "a = params['alpha0']\n"
                            + "groups[1]['params'] = [p for p in groups[1]['params'] if p is not a]\n"
                            + "groups[0]['params'] = [p for n, p in params.items() if p.ndim <= 1 or n.endswith('.bias') or n == 'alpha0']\n"
                            + "opt = Lamb(groups, lr=1e-2, caution=True, decoupled_decay=True, corrected_weight_decay=True, max_grad_norm=0.5)",
                    3, 1e-6);
        }
    }
}
