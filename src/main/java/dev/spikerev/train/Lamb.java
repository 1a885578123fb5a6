package dev.spikerev.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.clamp_max;
import static org.bytedeco.pytorch.global.torch.linalg_vector_norm;
import static org.bytedeco.pytorch.global.torch.stack;
import static org.bytedeco.pytorch.global.torch.where;
import static org.bytedeco.pytorch.global.torch.zeros_like;

/**
 * timm {@code timm.optim.Lamb} (NVLAMB variant of apex FusedLAMB), as in timm 1.0.29 (the version the T-RevSNN
 * fixtures were made with), same operation order so float32 results match bit for bit on CPU:
 * <pre>
 * clip = clamp(||stack(||g_i||_2)||_2 / max_grad_norm, min=1)          once per step over ALL params with grads
 * per group: step += 1 (0-dim float32 tensor kept in the group); bc1 = 1-b1^step, bc2 = 1-b2^step (float64)
 *   per param: g.div_(clip)                  (in place: p.grad holds the clipped grad afterwards)
 *     m = m*b1 + g*(1-b1 if grad_averaging else 1);  v = v*b2 + (1-b2)*g*g
 *     u = (m / bc1) / (sqrt(v) / sqrt(bc2) + eps)
 *     wd != 0: u += wd*p  (decoupled_decay: p -= lr*wd*p instead)
 *     wd != 0 or always_adapt: r = ||p||/||u|| (1 if either norm is 0), trust_clip: r = min(r, 1); u *= r
 *     p -= lr*u
 * </pre>
 * Defaults (timm): lr 1e-3, bias_correction True, betas (0.9, 0.999), eps 1e-6, weight_decay 0.01,
 * grad_averaging True, max_grad_norm 1.0, trust_clip False, always_adapt False, caution False,
 * decoupled_decay False, corrected_weight_decay False. {@code max_grad_norm} is read from the optimizer defaults
 * (not the group), as timm does; {@code null} disables the global clip.
 * State: {@code exp_avg}, {@code exp_avg_sq} per parameter; {@code step} per group.
 * T-RevSNN builds it as {@code Lamb(groups, trust_clip=True, lr=BASE_LR, eps=1e-8, betas=(0.9, 0.999))}.
 *
 * <p>Older timm (0.6.x) differs slightly and is not reproduced: global norm {@code sqrt(sum g^2)} (shape [1]) with
 * {@code where(norm > max, norm/max, 1)}, clipping always on, {@code step} a Python int in the group, no
 * caution/decoupled keys. A 0.6.x state dict still loads: a numeric {@code step} becomes a float32 tensor, missing
 * keys get the defaults (as timm 1.0's {@code __setstate__} does).
 *
 * <p>Measured against a transcription of timm 1.0.29 run on torch 2.13 CPU: grads, {@code exp_avg},
 * {@code exp_avg_sq} and {@code step} identical; parameters within 1 float32 ulp, because torch 2.13's CPU float32
 * {@code sqrt} is off by 1 ulp on some elements while libtorch 2.10's is correctly rounded.
 */
public final class Lamb extends Optimizer {

    public Lamb(List<ParamGroup> groups, Map<String, ?> options) {
        super(groups, defaultOptions(), options);
    }

    /** timm's defaults, in its key order. */
    public static LinkedHashMap<String, Object> defaultOptions() {
        LinkedHashMap<String, Object> d = new LinkedHashMap<>();
        d.put("lr", 1e-3);
        d.put("bias_correction", true);
        d.put("betas", List.of(0.9, 0.999));
        d.put("eps", 1e-6);
        d.put("weight_decay", 0.01);
        d.put("grad_averaging", true);
        d.put("max_grad_norm", 1.0);
        d.put("trust_clip", false);
        d.put("always_adapt", false);
        d.put("caution", false);
        d.put("decoupled_decay", false);
        d.put("corrected_weight_decay", false);
        return d;
    }

    @Override
    protected void validate(ParamGroup g) {
        super.validate(g);
        if (g.getDouble("eps") < 0) throw new IllegalArgumentException("Invalid epsilon: " + g.get("eps"));
        if (g.getDouble("weight_decay") < 0) throw new IllegalArgumentException("Invalid weight_decay: " + g.get("weight_decay"));
    }

    /** timm {@code _get_clip_grad_norm}: the global-norm divisor (>= 1), or {@code null} when disabled or no grads. */
    private Tensor clipDivisor() {
        Object mgn = defaults().get("max_grad_norm");
        if (mgn == null) return null;
        TensorVector norms = new TensorVector();
        for (Tensor p : params()) {
            Tensor g = gradOrNull(p);
            if (g != null) norms.push_back(linalg_vector_norm(g));
        }
        if (norms.size() == 0) return null; // Python would fail in torch.stack([]); nothing to clip
        Tensor global = linalg_vector_norm(stack(norms));
        return global.div(new Scalar(((Number) mgn).doubleValue())).clamp_(new ScalarOptional(new Scalar(1.0)));
    }

    @Override
    protected void update() {
        Tensor clip = clipDivisor();
        List<ParamGroup> groups = paramGroups();
        for (int gi = 0; gi < groups.size(); gi++) {
            ParamGroup group = groups.get(gi);
            boolean biasCorrection = group.getBool("bias_correction");
            double[] betas = group.getPair("betas");
            double beta1 = betas[0], beta2 = betas[1];
            double beta3 = group.getBool("grad_averaging") ? 1 - beta1 : 1.0;

            Object stepObj = group.options.get("step");
            Tensor stepT;
            if (stepObj instanceof Tensor t) {
                stepT = t;
            } else {
                stepT = scalarStep(0.0);
                group.options.put("step", stepT);
            }
            stepT.add_(new Scalar(1.0));

            boolean anyGrad = false;
            for (Tensor p : group.params()) if (gradOrNull(p) != null) { anyGrad = true; break; }
            if (!anyGrad) continue;

            double step = stepT.item_double();
            double bc1 = biasCorrection ? 1 - Math.pow(beta1, step) : 1.0;
            double bc2 = biasCorrection ? 1 - Math.pow(beta2, step) : 1.0;
            double lr = group.lr();
            double eps = group.getDouble("eps");
            double wd = group.getDouble("weight_decay");

            List<Integer> idx = new ArrayList<>();
            List<Tensor> ps = new ArrayList<>(), gs = new ArrayList<>();
            for (int j = 0; j < group.params().size(); j++) {
                Tensor p = group.params().get(j);
                Tensor grad = gradOrNull(p);
                if (grad == null) continue;
                idx.add(groupOffset(gi) + j);
                ps.add(p);
                gs.add(grad);
            }
            // flat: a few ops over the whole group (wins where per-op overhead dominates: small tensors, and CUDA, where
            // each op is a kernel launch); per parameter: each tensor's work stays in cache (wins for large CPU tensors)
            Consts c = new Consts(beta1, beta2, beta3, bc1, bc2, lr, eps, wd);
            if (!group.getBool("caution") && !ps.isEmpty() && flatSuits(idx, ps)) {
                flat(gi, group, idx, ps, gs, clip, c);
            } else {
                for (int k = 0; k < ps.size(); k++) perParam(group, ps.get(k), gs.get(k), stateOf(idx.get(k)), clip, c);
            }
        }
    }

    /**
     * The update of one group as a few ops over all its elements at once ({@link Flat}): {@code exp_avg} and
     * {@code exp_avg_sq} of the group live in two flat buffers (the state entries are views of them, so state dicts and
     * checkpoints are unchanged), the gradients are gathered once, and only the norms of the trust ratio run per
     * tensor. Same arithmetic, element by element, as {@link #perParam}: the results are the same bits.
     */
    private void flat(int gi, ParamGroup group, List<Integer> idx, List<Tensor> ps, List<Tensor> gs, Tensor clip, Consts c) {
        Tensor[] mv = flatState(gi, idx, ps);
        Tensor expAvg = mv[0], expAvgSq = mv[1];
        Tensor grad = Flat.gather(gs);
        if (clip != null) {
            grad.div_(clip);
            Tensor[] gv = Flat.views(grad, gs);
            for (int k = 0; k < gv.length; k++) gs.get(k).copy_(gv[k]); // p.grad holds the clipped grad, as in timm
        }
        expAvg.mul_(c.beta1).add_(grad, c.beta3);
        expAvgSq.mul_(c.beta2).addcmul_(grad, grad, c.oneMinusBeta2);
        Tensor denom = expAvgSq.sqrt().div_(c.sqrtBc2).add_(c.eps);
        Tensor update = expAvg.div(c.bc1).div_(denom);
        Tensor[] u = Flat.views(update, ps);
        if (c.wd != 0) {
            if (group.getBool("decoupled_decay")) {
                Scalar decay = new Scalar(-decoupledScale(group, c.lr) * c.wd);
                for (Tensor p : ps) p.add_(p, decay);
            } else {
                for (int k = 0; k < u.length; k++) u[k].add_(ps.get(k), c.wdS);
            }
        }
        if (c.wd != 0 || group.getBool("always_adapt")) {
            TensorVector wNorms = new TensorVector(), uNorms = new TensorVector();
            for (int k = 0; k < u.length; k++) {
                wNorms.push_back(ps.get(k).norm(c.two));
                uNorms.push_back(u[k].norm(c.two));
            }
            Tensor trust = trustRatio(stack(wNorms), stack(uNorms), group.getBool("trust_clip"));
            update.mul_(Flat.spread(trust, ps));
        }
        for (int k = 0; k < u.length; k++) ps.get(k).add_(u[k], c.negLr);
    }

    /** The lr that scales decoupled weight decay: lr, or lr²/base lr with {@code corrected_weight_decay} (timm). */
    private double decoupledScale(ParamGroup group, double lr) {
        return group.getBool("corrected_weight_decay") ? lr * lr / ((Number) defaults().get("lr")).doubleValue() : lr;
    }

    /** {@code ||p||/||u||} (1 where either is 0), clipped at 1 with trust_clip; elementwise over the stacked norms. */
    private static Tensor trustRatio(Tensor wNorm, Tensor gNorm, boolean trustClip) {
        Tensor trust = where(wNorm.gt(new Scalar(0.0)), where(gNorm.gt(new Scalar(0.0)), wNorm.div(gNorm), new Scalar(1.0)), new Scalar(1.0));
        return trustClip ? clamp_max(trust, new Scalar(1.0)) : trust;
    }

    /** Flat {@code exp_avg}/{@code exp_avg_sq} of group {@code gi} over the parameters {@code idx}, (re)built when needed. */
    private Tensor[] flatState(int gi, List<Integer> idx, List<Tensor> ps) {
        FlatState f = flatStates.get(gi);
        if (f != null && f.idx.equals(idx)) {
            boolean same = true;
            for (int k = 0; k < idx.size() && same; k++) {
                Map<String, Object> st = stateOf(idx.get(k));
                same = st.get("exp_avg") == f.m[k] && st.get("exp_avg_sq") == f.v[k];
            }
            if (same) return new Tensor[]{f.mFlat, f.vFlat};
        }
        // first step, a loaded state dict, or another set of parameters with grads: gather what exists, zeros elsewhere
        TensorVector ms = new TensorVector(), vs = new TensorVector();
        for (int k = 0; k < idx.size(); k++) {
            Map<String, Object> st = stateOf(idx.get(k));
            Tensor p = ps.get(k);
            ms.push_back(st.get("exp_avg") instanceof Tensor t ? t.reshape(-1) : zeros_like(p).reshape(-1));
            vs.push_back(st.get("exp_avg_sq") instanceof Tensor t ? t.reshape(-1) : zeros_like(p).reshape(-1));
        }
        FlatState n = new FlatState(List.copyOf(idx), persistent(cat(ms)), persistent(cat(vs)));
        n.m = Flat.views(n.mFlat, ps);
        n.v = Flat.views(n.vFlat, ps);
        for (int k = 0; k < idx.size(); k++) {
            LinkedHashMap<String, Object> st = stateOf(idx.get(k));
            Object oldM = st.put("exp_avg", persistent(n.m[k])), oldV = st.put("exp_avg_sq", persistent(n.v[k]));
            if (oldM instanceof Tensor t) t.releaseReference();
            if (oldV instanceof Tensor t) t.releaseReference();
        }
        if (f != null) { f.mFlat.releaseReference(); f.vFlat.releaseReference(); }
        flatStates.put(gi, n);
        return new Tensor[]{n.mFlat, n.vFlat};
    }

    /** The flat buffers of one group and the per-parameter views handed out as its state entries. */
    private static final class FlatState {
        final List<Integer> idx;
        final Tensor mFlat, vFlat;
        Tensor[] m, v;

        FlatState(List<Integer> idx, Tensor mFlat, Tensor vFlat) {
            this.idx = idx;
            this.mFlat = mFlat;
            this.vFlat = vFlat;
        }
    }

    private final Map<Integer, FlatState> flatStates = new HashMap<>();

    @Override
    public void close() {
        for (FlatState f : flatStates.values()) {
            f.mFlat.releaseReference();
            f.vFlat.releaseReference();
        }
        flatStates.clear();
        super.close();
    }

    /** Groups whose mean tensor size is at most this run {@link #flat} on the CPU. */
    static final long FLAT_MAX_MEAN_NUMEL = 1 << 16;

    /** Whether the parameters {@code idx} suit {@link #flat}; decided once per parameter set (not one JNI size query per tensor per step). */
    private boolean flatSuits(List<Integer> idx, List<Tensor> ps) {
        return flatSuits.computeIfAbsent(List.copyOf(idx), k -> {
            long numel = 0;
            for (Tensor p : ps) numel += p.numel();
            return ps.get(0).is_cuda() || numel <= FLAT_MAX_MEAN_NUMEL * ps.size();
        });
    }

    private final Map<List<Integer>, Boolean> flatSuits = new HashMap<>();

    /** The step's constants as Scalars, made once per group (each Scalar is a native allocation). */
    private static final class Consts {
        final double lr, wd;
        final Scalar beta1, beta3, beta2, oneMinusBeta2, sqrtBc2, eps, bc1, wdS, negLr, two;

        Consts(double beta1, double beta2, double beta3, double bc1, double bc2, double lr, double eps, double wd) {
            this.lr = lr;
            this.wd = wd;
            this.beta1 = new Scalar(beta1);
            this.beta3 = new Scalar(beta3);
            this.beta2 = new Scalar(beta2);
            this.oneMinusBeta2 = new Scalar(1 - beta2);
            this.sqrtBc2 = new Scalar(Math.sqrt(bc2));
            this.eps = new Scalar(eps);
            this.bc1 = new Scalar(bc1);
            this.wdS = new Scalar(wd);
            this.negLr = new Scalar(-lr);
            this.two = new Scalar(2.0);
        }
    }

    /** timm's per-parameter loop body (large CPU tensors, and {@code caution}). */
    private void perParam(ParamGroup group, Tensor p, Tensor grad, LinkedHashMap<String, Object> st, Tensor clip, Consts c) {
        if (clip != null) grad.div_(clip);

        if (st.isEmpty()) {
            st.put("exp_avg", persistent(zeros_like(p)));
            st.put("exp_avg_sq", persistent(zeros_like(p)));
        }
        Tensor expAvg = (Tensor) st.get("exp_avg");
        Tensor expAvgSq = (Tensor) st.get("exp_avg_sq");

        expAvg.mul_(c.beta1).add_(grad, c.beta3);
        expAvgSq.mul_(c.beta2).addcmul_(grad, grad, c.oneMinusBeta2);

        Tensor denom = expAvgSq.sqrt().div_(c.sqrtBc2).add_(c.eps);
        Tensor update = expAvg.div(c.bc1).div_(denom);

        if (group.getBool("caution")) {
            Tensor mask = update.mul(grad).gt(new Scalar(0.0)).to(grad.scalar_type());
            mask.div_(mask.mean().clamp_(new ScalarOptional(new Scalar(1e-3))));
            update.mul_(mask);
        }

        if (c.wd != 0) {
            if (group.getBool("decoupled_decay")) {
                p.add_(p, new Scalar(-decoupledScale(group, c.lr) * c.wd));
            } else {
                update.add_(p, c.wdS);
            }
        }

        if (c.wd != 0 || group.getBool("always_adapt")) {
            Tensor wNorm = p.norm(c.two);
            Tensor gNorm = update.norm(c.two);
            update.mul_(trustRatio(wNorm, gNorm, group.getBool("trust_clip")));
        }
        p.add_(update, c.negLr);
    }
}
