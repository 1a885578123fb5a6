package dev.spikerev.nn;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.tensor.Scopes;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import static org.bytedeco.pytorch.global.torch.empty_like;
import static org.bytedeco.pytorch.global.torch.ge_out;
import static org.bytedeco.pytorch.global.torch.stack;
import static org.bytedeco.pytorch.global.torch.zeros_like;

/**
 * A multi-step spiking neuron over a time-major sequence {@code [T, N, ...]} with SpikingJelly's (0.0.0.0.12)
 * charge / fire / reset semantics, per element and time step:
 * <pre>
 *   charge : H[t] = f(V[t-1], X[t])            (subclass: IF, LIF)
 *   fire   : S[t] = H[t] &gt;= vThreshold ? 1 : 0
 *   reset  : hard (vReset != null): V[t] = S[t] ? vReset : H[t]
 *            soft (vReset == null): V[t] = S[t] ? H[t] - vThreshold : H[t]
 *   V[-1]  = vReset (0 for soft reset)
 * </pre>
 * State lives for one {@link #forward} call only: every call starts from {@code V[-1]}, which is what the reference's
 * {@code reset_net} after every batch (and around every reversible recompute) amounts to; nothing leaks between
 * batches, and a recompute in backward sees exactly the forward's state.
 *
 * <p>Backward is the fused BPTT of the CuPy kernels ({@code MultiStep*NodePTT}), with {@code sg[t] = g'(H[t] - vTh)}:
 * <pre>
 *   gH[t] = gS[t]·sg[t] + gH[t+1]·k·dV/dH[t]       k = dH[t+1]/dV[t] (LIF: 1 - 1/tau, IF: 1)
 *   gX[t] = gH[t]·dH/dX                             (LIF with decay_input: 1/tau, else 1)
 *   dV/dH = 1 - S (hard, detach_reset) | 1 - S + (vReset - H)·sg (hard) | 1 (soft, detach_reset) | 1 - vTh·sg (soft)
 * </pre>
 * Java cannot define an autograd node, so the forward values are computed without a graph and the gradient is carried
 * by a zero-valued linear graph over time ({@code c[t] = (X[t] − X[t].detach())·dH/dX + c[t-1]·dV/dH[t-1]·k},
 * output {@code S + stack(c[t]·sg[t])}) whose backward performs exactly the recursion above, in the kernel's
 * operation order. Autograd keeps {@code sg[t]} (float) and {@code dV/dH[t]} (a 1-byte mask with detach_reset, hard
 * reset) per step; the reference keeps {@code H} and {@code S}.
 */
public abstract class MultiStepNeuron extends SpikeModule {
    protected final double vThreshold;
    /** Reset potential; {@code null} = soft reset (subtract the threshold). */
    protected final Double vReset;
    protected final boolean detachReset;
    protected final Surrogate surrogate;

    private boolean recording;
    private double lastFiringRate = Double.NaN;

    protected MultiStepNeuron(double vThreshold, Double vReset, boolean detachReset, Surrogate surrogate) {
        super();
        if (surrogate == null) throw new IllegalArgumentException("surrogate must not be null");
        this.vThreshold = vThreshold;
        this.vReset = vReset;
        this.detachReset = detachReset;
        this.surrogate = surrogate;
    }

    /** {@code H[t]} from {@code V[t-1]} and {@code X[t]} (values only; called without graph). */
    protected abstract Tensor charge(Tensor v, Tensor x);

    /** {@code dH[t]/dX[t]}: a float32-representable constant. */
    protected abstract double dHdX();

    /** {@code dH[t+1]/dV[t]}: a float32-representable constant. */
    protected abstract double dHdV();

    public double vThreshold() { return vThreshold; }

    public Double vReset() { return vReset; }

    public boolean detachReset() { return detachReset; }

    public Surrogate surrogate() { return surrogate; }

    /** When on, every {@link #forward} stores the mean of its spike tensor ({@link #lastFiringRate()}); costs a sync. */
    public void setRecording(boolean on) { recording = on; }

    /** Mean spike rate over all elements of the last recorded forward; NaN if none. */
    public double lastFiringRate() { return lastFiringRate; }

    /** Spikes {@code [T, ...]} (same dtype as {@code xSeq}) for the input sequence {@code xSeq [T, ...]}, from V = V[-1]. */
    public Tensor forward(Tensor xSeq) {
        if (xSeq.dim() < 2)
            throw new IllegalArgumentException("multi-step neuron expects [T, N, ...], found a " + xSeq.dim() + "-d tensor");
        Tensor s = Scopes.keepOne(() -> run(xSeq));
        if (recording) {
            try (NoGradGuard ng = new NoGradGuard()) {
                Tensor m = s.to(org.bytedeco.pytorch.global.torch.ScalarType.Double).mean();
                lastFiringRate = m.item_double();
                m.close();
            }
        }
        return s;
    }

    private Tensor run(Tensor xSeq) {
        int T = (int) xSeq.size(0);
        boolean grad = GradMode.is_enabled() && xSeq.requires_grad();
        Tensor[] h = new Tensor[T];
        Scalar vth = new Scalar(vThreshold);
        Tensor spikes, hAll = null;
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor xd = xSeq.detach();
            spikes = empty_like(xd);                     // S[t] written in place, in the input's dtype
            Tensor v = zeros_like(xd.select(0, 0));
            if (vReset != null && vReset != 0.0) v.fill_(new Scalar(vReset));
            for (int t = 0; t < T; t++) {
                h[t] = charge(v, xd.select(0, t));
                Tensor st = spikes.select(0, t);
                ge_out(st, h[t], vth);                   // S[t] = H[t] >= vTh, as 0/1 values
                v.close();
                v = t == T - 1 ? null : reset(h[t], st);
                st.close();
                if (!grad) h[t].close();                 // inference keeps only the spikes
            }
            if (grad) hAll = stack(new TensorVector(h));
        }
        if (!grad) return spikes;

        double rx = dHdX(), k = dHdV();
        Tensor sg, dvdh;
        try (NoGradGuard ng = new NoGradGuard()) {
            sg = surrogate.grad(hAll.sub(vth));          // sg[t] = g'(H[t] - vTh), all t at once
            dvdh = dVdH(hAll, spikes, sg);
        }
        Tensor z = xSeq.sub(xSeq.detach());             // value 0, gradient identity to X
        if (rx != 1.0) z = z.mul(new Scalar(rx));
        TensorVector zs = z.unbind(0);
        TensorVector dv = dvdh == null ? null : dvdh.unbind(0);
        Tensor[] c = new Tensor[T];
        Tensor carry = null;
        for (int t = 0; t < T; t++) {
            c[t] = carry == null ? zs.get(t) : zs.get(t).add(k != 1.0 ? carry.mul(new Scalar(k)) : carry);
            if (t < T - 1) carry = dv == null ? c[t] : c[t].mul(dv.get(t));
        }
        return spikes.add(stack(new TensorVector(c)).mul(sg));
    }

    /**
     * {@code V[t]} from {@code H[t]} and the 0/1 spikes {@code S[t]}, exactly (each branch gives the same bits as
     * {@code S ? reset value : H}): reset to 0 as {@code H + (-1)·H·S} (H - H = +0 where S = 1, H + -0 = H where 0);
     * soft as {@code H - vTh·S}; another reset value by masking.
     */
    private Tensor reset(Tensor h, Tensor s) {
        if (vReset == null) return h.sub(s, new Scalar(vThreshold));
        if (vReset == 0.0) return h.addcmul(h, s, new Scalar(-1.0));
        Tensor fire = s.gt(new Scalar(0.0));
        Tensor v = h.masked_fill(fire, new Scalar(vReset));
        fire.close();
        return v;
    }

    /** {@code dV[t]/dH[t]} as a tensor from the 0/1 spikes {@code s}, or null when it is identically 1. */
    private Tensor dVdH(Tensor h, Tensor s, Tensor sg) {
        if (vReset != null) {
            if (detachReset) return s.eq(new Scalar(0.0));                     // 1 - S, as a 1-byte mask
            Tensor notFire = s.neg().add(new Scalar(1.0));                       // 1 - S + (vReset - H)·sg
            return notFire.add(h.neg().add(new Scalar(vReset)).mul(sg));
        }
        if (detachReset) return null;                                       // 1
        return sg.mul(new Scalar(vThreshold)).neg().add(new Scalar(1.0));   // 1 - vTh·sg
    }

    @Override public String toString() {
        return getClass().getSimpleName() + "(v_threshold=" + vThreshold + ", v_reset=" + vReset + ", detach_reset="
                + detachReset + ", surrogate=" + surrogate + ")";
    }

    /** A float64 constant rounded to float32, as the CuPy kernels and the stand-in hold it. */
    protected static double f32(double v) { return (float) v; }
}
