package dev.spikerev.train;

import dev.spikerev.tensor.Ops;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.where;

/**
 * Adaptive gradient clipping (timm {@code adaptive_clip_grad}, used by T-RevSNN with {@code TRAIN.CLIP_GRAD}), unit-wise
 * over output rows: {@code max = max(||p_row||, eps) * clip_factor}; where {@code ||g_row|| >= max} the row's gradient
 * is scaled by {@code max / max(||g_row||, 1e-6)}. Row norm = norm over every dim but 0 (1-d tensors: whole tensor).
 */
public final class AdaptiveGradClip {
    private AdaptiveGradClip() {}

    public static void apply(List<Tensor> params, double clipFactor, double eps) {
        try (NoGradGuard ng = new NoGradGuard()) {
            for (Tensor p : params) {
                Tensor g = p.grad();
                if (!g.defined()) continue;
                Tensor maxNorm = unitwiseNorm(p.detach()).clamp_(Ops.so(eps)).mul_(Ops.s(clipFactor));
                Tensor gradNorm = unitwiseNorm(g);
                Tensor clipped = g.mul(maxNorm.div(gradNorm.clamp(Ops.so(1e-6))));
                g.copy_(where(gradNorm.lt(maxNorm), g, clipped));
            }
        }
    }

    static Tensor unitwiseNorm(Tensor x) {
        ScalarOptional two = Ops.so(2.0);
        if (x.dim() <= 1) return x.norm(Ops.s(2.0));
        long[] dims = new long[(int) x.dim() - 1];
        for (int i = 0; i < dims.length; i++) dims[i] = i + 1;
        return x.norm(two, dims, true);
    }
}
