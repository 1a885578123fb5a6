package dev.spikerev.nn;

import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * {@code nn.Conv1d} (no padding, no dilation) with PyTorch's parameter names ({@code weight [O, I/groups, k]},
 * {@code bias [O]}) and default init (kaiming-uniform with a=sqrt(5): uniform(±1/sqrt(fan_in)), bias likewise).
 */
public class Conv1d extends SpikeModule {
    public final long inChannels, outChannels, kernel, stride;
    protected final Tensor weight, bias;

    public Conv1d(long in, long out, long kernel, long stride, boolean bias) {
        super();
        this.inChannels = in; this.outChannels = out; this.kernel = kernel; this.stride = stride;
        double bound = 1.0 / Math.sqrt(in * kernel);
        this.weight = Params.register(this, "weight", empty(out, in, kernel).uniform_(-bound, bound, new org.bytedeco.pytorch.GeneratorOptional()));
        this.bias = bias ? Params.register(this, "bias", empty(out).uniform_(-bound, bound, new org.bytedeco.pytorch.GeneratorOptional())) : null;
    }

    public Tensor weight() { return weight; }

    public Tensor bias() { return bias; }

    /** {@code [N, I, L] -> [N, O, L']}. */
    public Tensor forward(Tensor x) {
        Tensor y = conv1d(x, weight, Ops.opt(bias), new long[]{stride}, new long[]{0}, new long[]{1}, 1);
        OpCounter.conv(this, "conv1d", x, y, weight.size(1), weight.size(2));
        return y;
    }
}
