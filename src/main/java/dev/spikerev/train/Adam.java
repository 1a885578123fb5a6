package dev.spikerev.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.maximum_out;
import static org.bytedeco.pytorch.global.torch.zeros_like;

/**
 * {@code torch.optim.Adam} (torch 2.13 single-tensor path, the one used for CPU tensors), same op order:
 * <pre>
 * step += 1 (per-parameter 0-dim float32 tensor)
 * wd != 0: decoupled ? p *= 1 - lr*wd : g = g + wd*p
 * m.lerp_(g, 1-b1);  v = v*b2 + (1-b2)*g*g
 * bc1 = 1-b1^step, bc2 = 1-b2^step (float64);  amsgrad: vmax = max(vmax, v), use vmax
 * p.addcdiv_(m, sqrt(v)/sqrt(bc2) + eps, value=-lr/bc1)
 * </pre>
 * State per parameter with a grad: {@code step}, {@code exp_avg}, {@code exp_avg_sq} (+ {@code max_exp_avg_sq}).
 * Parameters whose grad is undefined are skipped and get no state. Not supported: complex params, capturable,
 * differentiable, fused, foreach (accepted as options for state-dict parity only).
 */
public class Adam extends Optimizer {

    public Adam(List<ParamGroup> groups, Map<String, ?> options) {
        this(groups, defaultOptions(false), options);
    }

    Adam(List<ParamGroup> groups, LinkedHashMap<String, Object> defaults, Map<String, ?> options) {
        super(groups, defaults, options);
    }

    /** torch's Adam ({@code decoupled=false}) or AdamW ({@code true}) defaults, in torch's key order. */
    public static LinkedHashMap<String, Object> defaultOptions(boolean decoupled) {
        LinkedHashMap<String, Object> d = new LinkedHashMap<>();
        d.put("lr", 1e-3);
        d.put("betas", List.of(0.9, 0.999));
        d.put("eps", 1e-8);
        d.put("weight_decay", decoupled ? (Object) 1e-2 : (Object) 0L);
        d.put("amsgrad", false);
        d.put("maximize", false);
        d.put("foreach", null);
        d.put("capturable", false);
        d.put("differentiable", false);
        d.put("fused", null);
        d.put("decoupled_weight_decay", decoupled);
        return d;
    }

    @Override
    protected void validate(ParamGroup g) {
        super.validate(g);
        double[] b = g.getPair("betas");
        if (g.getDouble("eps") < 0) throw new IllegalArgumentException("Invalid epsilon value: " + g.get("eps"));
        if (b[0] < 0 || b[0] >= 1) throw new IllegalArgumentException("Invalid beta parameter at index 0: " + b[0]);
        if (b[1] < 0 || b[1] >= 1) throw new IllegalArgumentException("Invalid beta parameter at index 1: " + b[1]);
        if (g.getDouble("weight_decay") < 0) throw new IllegalArgumentException("Invalid weight_decay value: " + g.get("weight_decay"));
        for (String k : new String[] {"capturable", "differentiable"})
            if (g.getBool(k)) throw new IllegalArgumentException(k + "=True is not supported");
        if (g.get("fused") instanceof Boolean f && f) throw new IllegalArgumentException("fused=True is not supported");
    }

    @Override
    protected void update() {
        List<ParamGroup> groups = paramGroups();
        for (int gi = 0; gi < groups.size(); gi++) {
            ParamGroup group = groups.get(gi);
            double[] betas = group.getPair("betas");
            double beta1 = betas[0], beta2 = betas[1];
            double lr = group.lr();
            double wd = group.getDouble("weight_decay");
            double eps = group.getDouble("eps");
            boolean amsgrad = group.getBool("amsgrad");
            boolean maximize = group.getBool("maximize");
            boolean decoupled = group.getBool("decoupled_weight_decay");
            for (int j = 0; j < group.params().size(); j++) {
                Tensor p = group.params().get(j);
                Tensor grad = gradOrNull(p);
                if (grad == null) continue;
                LinkedHashMap<String, Object> st = stateOf(groupOffset(gi) + j);
                if (st.isEmpty()) {
                    st.put("step", scalarStep(0.0));
                    st.put("exp_avg", persistent(zeros_like(p)));
                    st.put("exp_avg_sq", persistent(zeros_like(p)));
                    if (amsgrad) st.put("max_exp_avg_sq", persistent(zeros_like(p)));
                }
                if (maximize) grad = grad.neg();
                Tensor stepT = (Tensor) st.get("step");
                Tensor expAvg = (Tensor) st.get("exp_avg");
                Tensor expAvgSq = (Tensor) st.get("exp_avg_sq");
                stepT.add_(new Scalar(1.0));
                if (wd != 0) {
                    if (decoupled) p.mul_(new Scalar(1 - lr * wd));
                    else grad = grad.add(p, new Scalar(wd));
                }
                expAvg.lerp_(grad, new Scalar(1 - beta1));
                expAvgSq.mul_(new Scalar(beta2)).addcmul_(grad, grad, new Scalar(1 - beta2));
                double step = stepT.item_double();
                double bc1 = 1 - Math.pow(beta1, step);
                double bc2 = 1 - Math.pow(beta2, step);
                double stepSize = lr / bc1;
                double bc2Sqrt = Math.sqrt(bc2);
                Tensor denom;
                if (amsgrad) {
                    Tensor maxSq = (Tensor) st.get("max_exp_avg_sq");
                    if (maxSq == null) { // amsgrad switched on after state was created
                        maxSq = persistent(zeros_like(p));
                        st.put("max_exp_avg_sq", maxSq);
                    }
                    maximum_out(maxSq, maxSq, expAvgSq);
                    denom = maxSq.sqrt().div(new Scalar(bc2Sqrt)).add_(new Scalar(eps));
                } else {
                    denom = expAvgSq.sqrt().div(new Scalar(bc2Sqrt)).add_(new Scalar(eps));
                }
                p.addcdiv_(expAvg, denom, new Scalar(-stepSize));
            }
        }
    }
}
