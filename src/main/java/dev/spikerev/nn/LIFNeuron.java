package dev.spikerev.nn;

import dev.spikerev.autograd.Surrogate;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * SpikingJelly {@code MultiStepLIFNode} (leaky integrate and fire), charge with {@code r = 1/tau} held as float32 and
 * the CuPy kernel's operation order:
 * <pre>
 *   decay_input, hard reset : H = V + r·(X − V + vReset)
 *   decay_input, soft reset : H = V + r·(X − V)
 *   no decay_input, hard    : H = V − r·(V − vReset) + X
 *   no decay_input, soft    : H = V·(1 − r) + X
 * </pre>
 * Gradients: {@code dH/dX = r} (decay_input) or 1, {@code dH/dV = 1 − 1/tau} (as float32). See
 * {@link MultiStepNeuron} for fire, reset and the BPTT backward.
 */
public class LIFNeuron extends MultiStepNeuron {
    protected final double tau;
    protected final boolean decayInput;
    private final double r;

    public LIFNeuron(double tau, boolean decayInput, double vThreshold, Double vReset, boolean detachReset, Surrogate surrogate) {
        super(vThreshold, vReset, detachReset, surrogate);
        if (!(tau > 1.0)) throw new IllegalArgumentException("LIF tau must be > 1, found " + tau);
        this.tau = tau;
        this.decayInput = decayInput;
        this.r = f32(1.0 / tau);
    }

    /** decay_input, hard reset to 0, surrogate Sigmoid(alpha = 4): the RevSNN configuration. */
    public LIFNeuron(double tau, double vThreshold, boolean detachReset) {
        this(tau, true, vThreshold, 0.0, detachReset, Surrogate.sigmoid());
    }

    public double tau() { return tau; }

    public boolean decayInput() { return decayInput; }

    @Override protected Tensor charge(Tensor v, Tensor x) {
        Scalar rs = new Scalar(r);
        if (decayInput) {
            Tensor d = x.sub(v);
            if (vReset != null) d = d.add(new Scalar(vReset));
            return v.add(d.mul(rs));
        }
        if (vReset != null) {
            Tensor leak = v.sub(new Scalar(vReset)).mul(rs);
            return v.sub(leak).add(x);
        }
        return v.mul(new Scalar(f32(1.0 - r))).add(x);
    }

    @Override protected double dHdX() { return decayInput ? r : 1.0; }

    @Override protected double dHdV() { return f32(1.0 - 1.0 / tau); }

    @Override public String toString() { return super.toString().replace(")", ", tau=" + tau + ", decay_input=" + decayInput + ")"); }
}
