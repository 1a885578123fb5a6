package dev.spikerev.models.trevsnn;

import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * T-RevSNN's spike: the rounding quantizer {@code Q}.
 * <ul>
 *   <li>training: {@code s = floor(clamp(v, 0, 1) + 0.5)} (1 iff v &gt;= 0.5), backward = straight-through gated by
 *   the rectangle [0, 1] (boundaries pass). Built as {@code vc + (floor(vc + 0.5) - vc).detach()} with
 *   {@code vc = clamp(v, 0, 1)}: clamp's own backward is exactly that gate, the sum is exact in float
 *   ({@code 1 - vc} is exact for vc in [0.5, 1]), and autograd keeps only clamp's input.</li>
 *   <li>eval: {@code round(clamp(v, 0, 1))}, half-to-even, so exactly 0.5 gives 0 (the reference's eval path).</li>
 * </ul>
 */
public final class Quant {
    private Quant() {}

    public static Tensor spike(Tensor v, boolean training) {
        // temporaries are closed at their last use, as Python frees them (closing a handle never touches what autograd
        // saved); otherwise they live until the step's pointer scope closes: 5x the reference's GPU memory in inference
        Tensor vc = v.clamp(Ops.so(0.0), Ops.so(1.0));
        if (!training) {
            Tensor r = vc.round();
            vc.close();
            return r;
        }
        if (!GradMode.is_enabled() || !v.requires_grad()) {
            // no graph: vc + (floor(vc + 0.5) - vc) is exactly floor(vc + 0.5) (the sum is exact, see above), so the
            // graph-free column forwards write it in place: 3 passes and no temporaries instead of 5 and 4
            return vc.add_(Ops.s(0.5)).floor_();
        }
        Tensor step;
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor half = vc.add(Ops.s(0.5));
            Tensor fl = half.floor();
            half.close();
            step = fl.sub(vc);
            fl.close();
        }
        Tensor r = vc.add(step);
        vc.close();
        step.close();
        return r;
    }
}
