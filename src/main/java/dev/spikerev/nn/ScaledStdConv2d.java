package dev.spikerev.nn;

import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * timm's {@code ScaledStdConv2d}: a Conv2d whose weight is standardised per output channel on the fly,
 * {@code w_hat = (w - mean) / sqrt(var + eps) * gain * scale} with {@code scale = gamma * fan_in ** -0.5}.
 * Computed exactly as timm does, through {@code batch_norm(training=true, momentum=0)} on the weight reshaped to
 * {@code [1, O, fan_in]} with affine weight {@code (gain * scale).view(-1)}: any other arithmetic misses the
 * reference's optimizer steps on rows with a tiny fan-in (see spec t-revsnn 2.2).
 * Parameters: {@code weight}, {@code bias}, {@code gain [O,1,1,1]} (registration order as in timm).
 */
public class ScaledStdConv2d extends Conv2d {
    public static final double EPS = 1e-6;
    private final Tensor gain;
    private final double scale;

    /** Padding defaults to timm's {@code ((stride - 1) + (k - 1)) // 2}. */
    public ScaledStdConv2d(long in, long out, long kernel, long stride) {
        this(in, out, kernel, stride, ((stride - 1) + (kernel - 1)) / 2);
    }

    public ScaledStdConv2d(long in, long out, long kernel, long stride, long padding) {
        super(in, out, kernel, stride, padding, 1, true);
        this.gain = Params.register(this, "gain", ones(out, 1, 1, 1));
        this.scale = Math.pow((double) (in * kernel * kernel), -0.5);
    }

    private ScaledStdConv2d(ScaledStdConv2d shared) {
        super(shared);
        this.gain = Params.register(this, "gain", shared.gain);
        this.scale = shared.scale;
    }

    @Override
    public ScaledStdConv2d sharing() { return new ScaledStdConv2d(this); }

    public Tensor gain() { return gain; }

    @Override
    protected Tensor effectiveWeight() {
        Tensor affine = gain.mul(Ops.s(scale)).view(-1);
        Tensor w = batch_norm(weight.reshape(1, outChannels, -1), Ops.opt(affine), Ops.opt(null),
                Ops.opt(null), Ops.opt(null), true, 0.0, EPS, true);
        return w.reshape_as(weight);
    }
}
