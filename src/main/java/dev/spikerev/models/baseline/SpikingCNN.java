package dev.spikerev.models.baseline;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.Params;
import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * A small BN-free spiking CNN (family {@code baseline}), the data-parallel reference and a quick MNIST model.
 * Shape legend {@code T} time steps, {@code N} batch, {@code C} = {@code channels}:
 * <pre>
 *   x [N, in_chans, H, W]            (direct encoding: the same image at every step; or time-major [T, N, in_chans, H, W])
 *   conv1 3x3 stride 2 pad 1         -&gt; [T, N, C, H/2, W/2]   (run once on [N, ...] when the input is static)
 *   LIF (multi-step)                 -&gt; spikes
 *   conv2 3x3 stride 2 pad 1         on [T*N, C, H/2, W/2] -&gt; [T, N, C, H/4, W/4]
 *   LIF (multi-step)                 -&gt; spikes
 *   mean over T, H, W                -&gt; [N, C]
 *   fc                               -&gt; logits [N, num_classes]
 * </pre>
 * state_dict keys (PyTorch names): {@code conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc.weight, fc.bias}.
 * Init: conv weights kaiming-normal ({@code std = sqrt(2 / fan_in)}; PyTorch's default uniform init gives currents
 * too small to ever reach the threshold of the second LIF layer without BatchNorm, so that layer would be silent),
 * biases and {@code fc} as PyTorch's defaults. No buffers, no BatchNorm: a batch's loss is the mean
 * of per-sample losses, so gradients of a split batch average to the whole batch's gradient.
 */
public final class SpikingCNN extends SpikeModule {
    public final int channels, T, numClasses, inChans;
    final Conv2d conv1, conv2;
    final Tensor fcWeight, fcBias;
    final MultiStepLIF lif;

    private final SpikeModule fc;

    public SpikingCNN(int channels, int T, int numClasses, int inChans, double tau, double vThreshold, Surrogate surrogate) {
        super();
        if (channels < 1 || T < 1 || numClasses < 1 || inChans < 1)
            throw new IllegalArgumentException("SpikingCNN: channels, T, num_classes, in_chans must be >= 1, found "
                    + channels + ", " + T + ", " + numClasses + ", " + inChans);
        this.channels = channels;
        this.T = T;
        this.numClasses = numClasses;
        this.inChans = inChans;
        conv1 = register_module("conv1", new Conv2d(inChans, channels, 3, 2, 1, 1, true));
        conv2 = register_module("conv2", new Conv2d(channels, channels, 3, 2, 1, 1, true));
        try (NoGradGuard ng = new NoGradGuard()) {
            conv1.weight().normal_(0.0, Math.sqrt(2.0 / (inChans * 9)), new org.bytedeco.pytorch.GeneratorOptional());
            conv2.weight().normal_(0.0, Math.sqrt(2.0 / (channels * 9)), new org.bytedeco.pytorch.GeneratorOptional());
        }
        fc = register_module("fc", new SpikeModule());
        double bound = 1.0 / Math.sqrt(channels); // nn.Linear: kaiming-uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)); bias the same
        fcWeight = Params.register(fc, "weight", empty(numClasses, channels).uniform_(-bound, bound, new org.bytedeco.pytorch.GeneratorOptional()));
        fcBias = Params.register(fc, "bias", empty(numClasses).uniform_(-bound, bound, new org.bytedeco.pytorch.GeneratorOptional()));
        lif = new MultiStepLIF(tau, vThreshold, surrogate);
    }

    /** Logits {@code [N, num_classes]} for {@code [N, C, H, W]} (static) or {@code [T, N, C, H, W]} (time-major) input. */
    public Tensor forward(Tensor x) {
        Tensor s1;
        if (x.dim() == 4) {
            s1 = lif.forwardConstant(conv1.forward(x), T);
        } else if (x.dim() == 5) {
            s1 = lif.forward(seqToAnn(conv1, x));
        } else {
            throw new IllegalArgumentException("SpikingCNN: expected input [N, C, H, W] or [T, N, C, H, W], found "
                    + java.util.Arrays.toString(x.sizes().vec().get()));
        }
        Tensor s2 = lif.forward(seqToAnn(conv2, s1));
        Tensor feat = s2.mean(new long[]{0, 3, 4}, false, new ScalarTypeOptional()); // [N, C]
        Tensor y = linear(feat, fcWeight, new org.bytedeco.pytorch.TensorOptional(fcBias));
        dev.spikerev.nn.OpCounter.linear(fc, feat, y, fcWeight.size(1));
        return y;
    }

    /** Runs a stateless layer on {@code [T*N, ...]} and restores {@code [T, N, ...]}. */
    static Tensor seqToAnn(Conv2d layer, Tensor x) {
        long t = x.size(0), n = x.size(1);
        Tensor y = layer.forward(x.flatten(0, 1));
        long[] s = y.sizes().vec().get();
        return y.view(t, n, s[1], s[2], s[3]);
    }
}
