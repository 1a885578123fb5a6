package dev.spikerev.models.baseline;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.autograd.SurrogateSpike;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import static org.bytedeco.pytorch.global.torch.stack;

/**
 * Multi-step LIF neuron (SpikingJelly {@code LIFNode}, {@code decay_input=True}, hard reset to {@code v_reset = 0},
 * reset not detached), time-major. Per step {@code t}:
 * <pre>
 *   charge: v = v + (x[t] - v) / tau
 *   fire:   s = H(v - vThreshold)          (surrogate gradient in backward, {@link SurrogateSpike})
 *   reset:  v = v * (1 - s)
 * </pre>
 * Stateless between calls: {@code v} starts at 0 in every {@link #forward}. No parameters.
 */
public final class MultiStepLIF {
    private final double tau;
    private final double vThreshold;
    private final Surrogate surrogate;

    public MultiStepLIF(double tau, double vThreshold, Surrogate surrogate) {
        if (!(tau >= 1.0)) throw new IllegalArgumentException("tau must be >= 1, found " + tau);
        this.tau = tau;
        this.vThreshold = vThreshold;
        this.surrogate = surrogate;
    }

    /** Spikes {@code [T, N, *]} for the input currents {@code [T, N, *]}. */
    public Tensor forward(Tensor x) {
        long T = x.size(0);
        TensorVector spikes = new TensorVector();
        Tensor v = null;
        for (long t = 0; t < T; t++) {
            Tensor xt = x.select(0, t);
            v = v == null ? xt.div(new Scalar(tau)) : v.add(xt.sub(v).div(new Scalar(tau)));
            Tensor s = SurrogateSpike.apply(v.sub(new Scalar(vThreshold)), surrogate);
            v = v.mul(s.neg().add(new Scalar(1.0)));
            spikes.push_back(s);
        }
        return stack(spikes);
    }

    /** Forward with constant input {@code x [N, *]} at every one of {@code T} steps (direct encoding). */
    public Tensor forwardConstant(Tensor x, long T) {
        return forward(x.unsqueeze(0).expand(prepend(T, x.sizes().vec().get())));
    }

    private static long[] prepend(long t, long[] shape) {
        long[] out = new long[shape.length + 1];
        out[0] = t;
        System.arraycopy(shape, 0, out, 1, shape.length);
        return out;
    }

    public double tau() { return tau; }

    public double vThreshold() { return vThreshold; }

    public Surrogate surrogate() { return surrogate; }
}
