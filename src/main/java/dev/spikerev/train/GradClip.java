package dev.spikerev.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import java.util.ArrayList;
import java.util.List;

import static org.bytedeco.pytorch.global.torch.ScalarType;
import static org.bytedeco.pytorch.global.torch.clamp_max;
import static org.bytedeco.pytorch.global.torch.linalg_vector_norm;
import static org.bytedeco.pytorch.global.torch.stack;
import static org.bytedeco.pytorch.global.torch.where;

/** Gradient clipping in place on {@code p.grad}, matching torch / timm. Parameters without a grad are skipped. */
public final class GradClip {
    private GradClip() {}

    /**
     * {@code torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)} (torch 2.13): total norm = the
     * {@code norm_type}-norm of the per-grad norms ({@code inf}: max of abs); every grad is multiplied by
     * {@code clamp(max_norm / (total + 1e-6), max=1)}. Returns the total norm as a double (0 if no grads).
     * Non-finite norms are not an error (torch's default {@code error_if_nonfinite=False}).
     */
    public static double clipGradNorm(List<Tensor> params, double maxNorm, double normType) {
        try (PointerScope scope = new PointerScope()) {
            NoGradGuard ng = new NoGradGuard();
            try {
                List<Tensor> grads = grads(params);
                if (grads.isEmpty()) return 0.0;
                TensorVector norms = new TensorVector();
                for (Tensor g : grads) norms.push_back(linalg_vector_norm(g, new Scalar(normType), new org.bytedeco.pytorch.LongArrayRefOptional(), false, new org.bytedeco.pytorch.ScalarTypeOptional()));
                Tensor total = linalg_vector_norm(stack(norms), new Scalar(normType), new org.bytedeco.pytorch.LongArrayRefOptional(), false, new org.bytedeco.pytorch.ScalarTypeOptional());
                Tensor coef = total.add(new Scalar(1e-6)).reciprocal().mul(new Scalar(maxNorm));
                Tensor clamped = clamp_max(coef, new Scalar(1.0));
                for (Tensor g : grads) g.mul_(clamped);
                return total.item_double();
            } finally {
                ng.close();
            }
        }
    }

    /** {@code clip_grad_norm_(params, max_norm)} with the 2-norm. */
    public static double clipGradNorm(List<Tensor> params, double maxNorm) {
        return clipGradNorm(params, maxNorm, 2.0);
    }

    /** {@code torch.nn.utils.clip_grad_value_(params, clip_value)}: {@code g.clamp_(-v, v)}. */
    public static void clipGradValue(List<Tensor> params, double clipValue) {
        try (PointerScope scope = new PointerScope()) {
            NoGradGuard ng = new NoGradGuard();
            try {
                for (Tensor g : grads(params))
                    g.clamp_(new ScalarOptional(new Scalar(-clipValue)), new ScalarOptional(new Scalar(clipValue)));
            } finally {
                ng.close();
            }
        }
    }

    /**
     * timm {@code adaptive_clip_grad(params, clip_factor, eps, norm_type)} (AGC, used by T-RevSNN with
     * clip_factor 0.02, eps 1e-3): unit-wise norms over all dims but 0 (whole tensor for ndim <= 1);
     * {@code max = clamp(||p||, min=eps) * clip_factor}; where {@code ||g|| < max} keep g, else
     * {@code g * (max / clamp(||g||, min=1e-6))}.
     */
    public static void adaptiveClipGrad(List<Tensor> params, double clipFactor, double eps, double normType) {
        try (PointerScope scope = new PointerScope()) {
            NoGradGuard ng = new NoGradGuard();
            try {
                // constants made once (a Scalar is a native allocation: ~2 us each, 5 per parameter before)
                Scalar ord = new Scalar(normType), clip = new Scalar(clipFactor), one = new Scalar(1.0);
                ScalarOptional ordOpt = new ScalarOptional(ord), epsMin = new ScalarOptional(new Scalar(eps)),
                        tiny = new ScalarOptional(new Scalar(1e-6));
                for (Tensor p : params) {
                    Tensor g = p.grad();
                    if (!g.defined()) continue;
                    Tensor maxNorm = unitwiseNorm(p, ord, ordOpt).clamp_(epsMin).mul_(clip);
                    Tensor gradNorm = unitwiseNorm(g, ord, ordOpt);
                    // where(||g|| < max, g, g * (max / clamp(||g||, 1e-6))) as one in-place multiply by
                    // where(||g|| < max, 1, max / clamp(||g||, 1e-6)): g * 1 is g, so the bits are the same
                    Tensor factor = where(gradNorm.lt(maxNorm), one, maxNorm.div(gradNorm.clamp(tiny)));
                    g.mul_(factor);
                }
            } finally {
                ng.close();
            }
        }
    }

    private static Tensor unitwiseNorm(Tensor x, Scalar ord, ScalarOptional ordOpt) {
        if (x.dim() <= 1) return x.norm(ord);
        long[] dims = new long[(int) x.dim() - 1];
        for (int i = 0; i < dims.length; i++) dims[i] = i + 1;
        return x.norm(ordOpt, dims, true);
    }

    private static List<Tensor> grads(List<Tensor> params) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor p : params) {
            Tensor g = p.grad();
            if (g.defined()) out.add(g);
        }
        return out;
    }
}
