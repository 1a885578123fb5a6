package dev.spikerev.train;

import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A small "model" (named parameters of mixed rank, one all-zero weight, one frozen-by-absence-of-grad parameter) and a
 * deterministic gradient per step. Both sides receive identical float32 values; Java produces the grads by
 * backward of {@code sum(p * G)}, which gives exactly {@code G}.
 */
final class OptimCase {
    final LinkedHashMap<String, Tensor> params = new LinkedHashMap<>();
    /** initial parameter values (copies) */
    final LinkedHashMap<String, Tensor> init = new LinkedHashMap<>();
    /** grads.get(step).get(name); names absent in a step's map get no grad that step. */
    final List<LinkedHashMap<String, Tensor>> grads = new ArrayList<>();

    static final String[] NAMES = {"stem.weight", "stem.bias", "alpha0", "bn.weight", "bn.bias", "fc.weight", "fc.bias",
            "zero.weight", "nograd.weight"};
    static final long[][] SHAPES = {{4, 3, 3, 3}, {4}, {1, 4, 1, 1}, {4}, {4}, {5, 4}, {5}, {3, 2}, {2, 2}};

    OptimCase(long seed, int steps) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < NAMES.length; i++) {
            Tensor p = NAMES[i].equals("zero.weight") ? PyBridge.random(rnd, 0, SHAPES[i]) : PyBridge.random(rnd, 0.5, SHAPES[i]);
            init.put(NAMES[i], p.clone());
            p.requires_grad_(true);
            params.put(NAMES[i], p);
        }
        // step scales: large (global-norm clip active), tiny, medium
        double[] scales = {3.0, 0.01, 0.4, 2.0, 0.05, 1.0};
        for (int s = 0; s < steps; s++) {
            LinkedHashMap<String, Tensor> g = new LinkedHashMap<>();
            for (int i = 0; i < NAMES.length; i++) {
                if (NAMES[i].equals("nograd.weight")) continue;
                g.put(NAMES[i], PyBridge.random(rnd, scales[s % scales.length], SHAPES[i]));
            }
            grads.add(g);
        }
    }

    /** zero_grad(set_to_none) then grads of step {@code s} via backward. */
    void setGrads(Optimizer opt, int s) {
        opt.zeroGrad();
        for (Map.Entry<String, Tensor> e : grads.get(s).entrySet())
            params.get(e.getKey()).mul(e.getValue()).sum().backward();
    }

    /** Inputs for Python: p.NAME (initial values) and g{s}.NAME. */
    LinkedHashMap<String, Tensor> inputs() {
        LinkedHashMap<String, Tensor> in = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : init.entrySet()) in.put("p." + e.getKey(), e.getValue());
        for (int s = 0; s < grads.size(); s++)
            for (Map.Entry<String, Tensor> e : grads.get(s).entrySet()) in.put("g" + s + "." + e.getKey(), e.getValue());
        return in;
    }

    /** Python: builds `params` (OrderedDict name -> leaf) from the inputs and `set_grads(s)`. */
    static final String PY_SETUP = """
            D = load(sys.argv[1])
            NAMES = [k[2:] for k in D if k.startswith('p.')]
            params = collections.OrderedDict((n, D['p.' + n].clone().requires_grad_(True)) for n in NAMES)
            def set_grads(s):
                for n, p in params.items():
                    p.grad = D['g%d.%s' % (s, n)].clone() if ('g%d.%s' % (s, n)) in D else None
            def revcol_groups():
                decay, no_decay = [], []
                for n, p in params.items():
                    (no_decay if (p.ndim == 1 or n.endswith('.bias')) else decay).append(p)
                return [{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}]
            def timm_groups(wd):
                decay, no_decay = [], []
                for n, p in params.items():
                    (no_decay if (wd == 0 or p.ndim <= 1 or n.endswith('.bias')) else decay).append(p)
                g = []
                if no_decay: g.append({'params': no_decay, 'weight_decay': 0.})
                if decay: g.append({'params': decay, 'weight_decay': wd})
                return g
            def out_params(prefix):
                for n, p in params.items():
                    out(prefix + n, p)
                    if p.grad is not None:
                        out(prefix + 'grad.' + n, p.grad)
            def out_state(opt, prefix):
                for i, p in enumerate([p for g in opt.param_groups for p in g['params']]):
                    for k, v in opt.state[p].items():
                        if isinstance(v, torch.Tensor):
                            out('%s%d.%s' % (prefix, i, k), v)
                for gi, g in enumerate(opt.param_groups):
                    if 'step' in g:
                        out('%sgroup%d.step' % (prefix, gi), g['step'])
            """;
}
