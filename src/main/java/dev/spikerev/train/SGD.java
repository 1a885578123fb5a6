package dev.spikerev.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code torch.optim.SGD} (single-tensor path):
 * <pre>
 * g = maximize ? -g : g;  wd != 0: g = g + wd*p
 * momentum != 0: buf = (first step) clone(g) : buf*momentum + (1-dampening)*g;  g = nesterov ? g + momentum*buf : buf
 * p -= lr*g
 * </pre>
 * State {@code momentum_buffer} only when momentum != 0 and only for parameters that had a grad.
 * Defaults: lr 1e-3, momentum 0, dampening 0, weight_decay 0, nesterov False, maximize False (the ints stay
 * {@link Long} 0 as in Python).
 */
public final class SGD extends Optimizer {

    public SGD(List<ParamGroup> groups, Map<String, ?> options) {
        super(groups, defaultOptions(), options);
    }

    public static LinkedHashMap<String, Object> defaultOptions() {
        LinkedHashMap<String, Object> d = new LinkedHashMap<>();
        d.put("lr", 1e-3);
        d.put("momentum", 0L);
        d.put("dampening", 0L);
        d.put("weight_decay", 0L);
        d.put("nesterov", false);
        d.put("maximize", false);
        d.put("foreach", null);
        d.put("differentiable", false);
        d.put("fused", null);
        return d;
    }

    @Override
    protected void validate(ParamGroup g) {
        super.validate(g);
        if (g.getDouble("momentum") < 0) throw new IllegalArgumentException("Invalid momentum value: " + g.get("momentum"));
        if (g.getDouble("weight_decay") < 0) throw new IllegalArgumentException("Invalid weight_decay value: " + g.get("weight_decay"));
        if (g.getBool("nesterov") && (g.getDouble("momentum") <= 0 || g.getDouble("dampening") != 0))
            throw new IllegalArgumentException("Nesterov momentum requires a momentum and zero dampening");
        if (g.getBool("differentiable")) throw new IllegalArgumentException("differentiable=True is not supported");
        if (g.get("fused") instanceof Boolean f && f) throw new IllegalArgumentException("fused=True is not supported");
    }

    @Override
    protected void update() {
        List<ParamGroup> groups = paramGroups();
        for (int gi = 0; gi < groups.size(); gi++) {
            ParamGroup group = groups.get(gi);
            double lr = group.lr();
            double wd = group.getDouble("weight_decay");
            double momentum = group.getDouble("momentum");
            double dampening = group.getDouble("dampening");
            boolean nesterov = group.getBool("nesterov");
            boolean maximize = group.getBool("maximize");
            for (int j = 0; j < group.params().size(); j++) {
                Tensor p = group.params().get(j);
                Tensor grad = gradOrNull(p);
                if (grad == null) continue;
                if (maximize) grad = grad.neg();
                if (wd != 0) grad = grad.add(p, new Scalar(wd));
                if (momentum != 0) {
                    LinkedHashMap<String, Object> st = stateOf(groupOffset(gi) + j);
                    Tensor buf = (Tensor) st.get("momentum_buffer");
                    if (buf == null) {
                        buf = persistent(grad.detach().clone());
                        st.put("momentum_buffer", buf);
                    } else {
                        buf.mul_(new Scalar(momentum)).add_(grad, new Scalar(1 - dampening));
                    }
                    grad = nesterov ? grad.add(buf, new Scalar(momentum)) : buf;
                }
                p.add_(grad, new Scalar(-lr));
            }
        }
    }
}
