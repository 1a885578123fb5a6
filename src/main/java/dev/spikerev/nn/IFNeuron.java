package dev.spikerev.nn;

import dev.spikerev.autograd.Surrogate;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.add_out;

/**
 * SpikingJelly {@code MultiStepIFNode}: {@code H[t] = V[t-1] + X[t]} (integrate and fire, no leak); see
 * {@link MultiStepNeuron} for fire, reset and backward. Defaults as SpikingJelly: vThreshold 1, vReset 0,
 * detach_reset false, surrogate Sigmoid(alpha = 4).
 */
public class IFNeuron extends MultiStepNeuron {
    public IFNeuron(double vThreshold, Double vReset, boolean detachReset, Surrogate surrogate) {
        super(vThreshold, vReset, detachReset, surrogate);
    }

    /** vThreshold 1, hard reset to 0, with the given reset detaching and surrogate. */
    public IFNeuron(boolean detachReset, Surrogate surrogate) { this(1.0, 0.0, detachReset, surrogate); }

    @Override protected Tensor charge(Tensor v, Tensor x) { return v.add(x); }

    @Override protected Tensor chargeInto(Tensor out, Tensor v, Tensor x) {
        if (out == null) return v.add(x);
        add_out(out, v, x);
        return out;
    }

    @Override protected double dHdX() { return 1.0; }

    @Override protected double dHdV() { return 1.0; }
}
