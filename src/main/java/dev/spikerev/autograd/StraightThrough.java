package dev.spikerev.autograd;

import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * Straight-through composites: a tensor whose forward value is one thing and whose gradient is another, built from
 * plain libtorch ops (Java cannot define an autograd {@code Node}).
 *
 * <p>The core identity is {@code out = value + (x − x.detach()) · scale}: {@code x − x.detach()} is exactly 0 for
 * finite {@code x} (so {@code out == value} bit for bit) and has gradient 1 w.r.t. {@code x}, so
 * {@code dL/dx = dL/dout · scale}. Autograd saves only {@code scale} (the {@code mul}'s other operand); the
 * {@code sub} and the final {@code add} save nothing. A {@code bool} scale is saved as 1 byte per element.
 * Non-finite {@code x} turns the forward value into NaN (inf − inf).
 */
public final class StraightThrough {
    private StraightThrough() {}

    /**
     * {@code value} in forward, {@code dL/dx = dL/dout · scale} in backward. {@code value} and {@code scale} are used
     * as constants (their own graphs, if any, are ignored). Without grad mode or when {@code x} does not require
     * grad, returns a fresh handle to {@code value} with no graph.
     */
    public static Tensor apply(Tensor x, Tensor value, Tensor scale) {
        if (!GradMode.is_enabled() || !x.requires_grad()) return value.detach();
        Tensor xd = x.detach();
        Tensor carrier = x.sub(xd);
        Tensor sd = scale.detach();
        Tensor scaled = carrier.mul(sd);
        Tensor vd = value.detach();
        Tensor out = vd.add(scaled);
        xd.close(); carrier.close(); sd.close(); scaled.close(); vd.close();
        return out;
    }

    /**
     * Rectangle-gated straight-through estimator: forward {@code forwardValue}, backward
     * {@code dL/dx = dL/dout} where {@code lo <= x <= hi} (boundaries pass) and 0 elsewhere. Saves a bool mask.
     */
    public static Tensor rectGated(Tensor x, double lo, double hi, Tensor forwardValue) {
        if (!GradMode.is_enabled() || !x.requires_grad()) return forwardValue.detach();
        Tensor mask;
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor ge = x.ge(new Scalar(lo));
            Tensor le = x.le(new Scalar(hi));
            mask = ge.logical_and(le);
            ge.close(); le.close();
        }
        Tensor out = apply(x, forwardValue, mask);
        mask.close();
        return out;
    }

    /**
     * The T-RevSNN spike quantizer in training mode ({@code Quant}, t-revsnn spec §2.1): forward
     * {@code floor(clamp(v, 0, 1) + 0.5)} (so {@code v >= 0.5} gives 1, exactly 0.5 rounds up), backward
     * {@code dL/dv = dL/ds} for {@code 0 <= v <= 1}, else 0.
     */
    public static Tensor quantize(Tensor v) {
        Tensor s;
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor c = clamp01(v);
            c.add_(new Scalar(0.5));
            s = c.floor();
            c.close();
        }
        Tensor out = rectGated(v, 0.0, 1.0, s);
        s.close();
        return out;
    }

    /**
     * The T-RevSNN quantizer in eval mode: {@code round(clamp(v, 0, 1))} with torch's round-half-to-even (so
     * exactly 0.5 gives 0, unlike {@link #quantize(Tensor)}). No gradient.
     */
    public static Tensor quantizeEval(Tensor v) {
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor c = clamp01(v);
            Tensor r = c.round();
            c.close();
            return r;
        }
    }

    /** {@code clamp(v, 0, 1)} as a fresh tensor without graph (call under no-grad). */
    private static Tensor clamp01(Tensor v) {
        Tensor c = v.clamp_min(new Scalar(0.0));
        c.clamp_max_(new Scalar(1.0));
        return c;
    }
}
