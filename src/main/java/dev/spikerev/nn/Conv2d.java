package dev.spikerev.nn;

import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * {@code nn.Conv2d} with PyTorch's parameter names ({@code weight [O, I/groups, kh, kw]}, {@code bias [O]})
 * and PyTorch's default init (kaiming-uniform with a=sqrt(5)). {@link #sharing} builds a second module over the
 * same parameter tensors, like Python's {@code copy.copy(module)}.
 */
public class Conv2d extends SpikeModule {
    public final long inChannels, outChannels, kernel, stride, padding, groups;
    protected final Tensor weight, bias;

    public Conv2d(long in, long out, long kernel, long stride, long padding, long groups, boolean bias) {
        super();
        this.inChannels = in; this.outChannels = out; this.kernel = kernel;
        this.stride = stride; this.padding = padding; this.groups = groups;
        long fanIn = in / groups * kernel * kernel;
        double bound = 1.0 / Math.sqrt(fanIn);
        this.weight = Params.register(this, "weight", empty(out, in / groups, kernel, kernel).uniform_(-bound, bound, new org.bytedeco.pytorch.GeneratorOptional()));
        this.bias = bias ? Params.register(this, "bias", empty(out).uniform_(-bound, bound, new org.bytedeco.pytorch.GeneratorOptional())) : null;
    }

    protected Conv2d(Conv2d shared) {
        super();
        this.inChannels = shared.inChannels; this.outChannels = shared.outChannels; this.kernel = shared.kernel;
        this.stride = shared.stride; this.padding = shared.padding; this.groups = shared.groups;
        this.weight = Params.register(this, "weight", shared.weight);
        this.bias = shared.bias == null ? null : Params.register(this, "bias", shared.bias);
    }

    /** A new module whose parameters are this module's tensors (weight sharing). */
    public Conv2d sharing() { return new Conv2d(this); }

    public Tensor weight() { return weight; }

    public Tensor bias() { return bias; }

    protected Tensor effectiveWeight() { return weight; }

    public Tensor forward(Tensor x) {
        Tensor y = conv2d(x, effectiveWeight(), Ops.opt(bias), new long[]{stride, stride}, new long[]{padding, padding},
                new long[]{1, 1}, groups);
        OpCounter.conv(this, "conv2d", x, y, inChannels / groups, kernel * kernel);
        return y;
    }
}
