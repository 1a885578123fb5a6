package dev.spikerev.nn;

import dev.spikerev.autograd.Hooks;
import dev.spikerev.autograd.Surrogate;
import dev.spikerev.tensor.Scopes;
import dev.spikerev.autograd.PendingHooks;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;

import static org.bytedeco.pytorch.global.torch.addcmul_out;
import static org.bytedeco.pytorch.global.torch.empty_like;
import static org.bytedeco.pytorch.global.torch.ge_out;
import static org.bytedeco.pytorch.global.torch.mul_out;
import static org.bytedeco.pytorch.global.torch.sub_out;
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
 * Java cannot define an autograd node, so the forward values are computed without a graph, written into a copy of X
 * ({@code X.clone()}, whose backward is the identity and saves nothing): the spikes' values with an identity graph to
 * X. A Java tensor hook on it turns
 * {@code dL/dS} into {@code dL/dX} with the recursion above, one time step at a time ({@link BpttHook}), in the
 * kernel's operation order. The hook holds {@code sg[t]} (float) and, for hard reset with detach_reset, nothing else:
 * {@code dV/dH = 1 - S} is read from the output spikes, which the next layer saves anyway. The reference keeps
 * {@code H} and {@code S}. Pending hooks are held by this class until they fire ({@link #discardPendingHooks()} for
 * graphs dropped without backward).
 */
public abstract class MultiStepNeuron extends SpikeModule {
    protected final double vThreshold;
    /** Reset potential; {@code null} = soft reset (subtract the threshold). */
    protected final Double vReset;
    protected final boolean detachReset;
    protected final Surrogate surrogate;

    private boolean recording;
    private boolean keepInput;
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

    /**
     * {@link #charge} written into {@code out} (a time slice of the membrane tensor that backward needs; null: return a
     * new tensor). Subclasses whose charge is one op override this to skip the copy.
     */
    protected Tensor chargeInto(Tensor out, Tensor v, Tensor x) {
        Tensor h = charge(v, x);
        if (out == null) return h;
        out.copy_(h);
        h.close();
        return out;
    }

    /** {@code dH[t]/dX[t]}: a float32-representable constant. */
    protected abstract double dHdX();

    /** {@code dH[t+1]/dV[t]}: a float32-representable constant. */
    protected abstract double dHdV();

    public double vThreshold() { return vThreshold; }

    public Double vReset() { return vReset; }

    public boolean detachReset() { return detachReset; }

    public Surrogate surrogate() { return surrogate; }

    /**
     * On: backward keeps the input {@code X} (a reference, no copy) instead of the surrogate derivatives and recomputes
     * {@code H} and {@code sg} from it - the same ops in the same order, so the same bits. For a neuron whose input is
     * held anyway (the output of a reversible sequence, which its backward keeps) this saves one float tensor of the
     * input's size per call; elsewhere it costs the same memory and one more pass of the neuron. The input must not be
     * changed in place before backward (checked).
     */
    public void setKeepInputForBackward(boolean on) { keepInput = on; }

    public boolean keepsInputForBackward() { return keepInput; }

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
        boolean grad = GradMode.is_enabled() && xSeq.requires_grad();
        Tensor spikes, hAll = null;
        // with grad, S is written into a copy of X: autograd sees an identity from the output to X (the copy saves
        // nothing), its values are the spikes, and the hook turns dL/dS into dL/dX
        Tensor out = grad ? xSeq.clone() : null;
        boolean keep = grad && keepInput;
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor xd = xSeq.detach();
            spikes = grad ? out.detach() : empty_like(xd); // S[t] written in place, in the input's dtype
            if (grad && !keep) hAll = empty_like(xd);    // H[t] charged straight into its slice: no stack copy
            simulate(xd, hAll, spikes, true);
        }
        if (!grad) return spikes;

        BpttHook hook;
        if (keep) {
            spikes.close();
            hook = new BpttHook(this, xSeq.detach(), out.detach());
        } else {
            Tensor[] d = derivatives(hAll, spikes);
            spikes.close(); // the handle only: the values are out's
            hook = new BpttHook(this, d[0], d[1], out.detach());
        }
        PENDING.add(hook);
        out.register_hook(hook);
        return out;
    }

    /**
     * The charge / fire / reset loop over {@code x [T, ...]} from {@code V[-1]}: {@code H[t]} into {@code hAll}'s slices
     * (null: one reused buffer), and either the spikes into {@code spikes} ({@code fire}) or, with {@code fire} false,
     * the given spikes read for the resets (backward's recompute: the same {@code H} bits as the forward's).
     */
    private void simulate(Tensor x, Tensor hAll, Tensor spikes, boolean fire) {
        int T = (int) x.size(0);
        Scalar vth = new Scalar(vThreshold);
        Tensor v = zeros_like(x.select(0, 0));           // V between steps, rewritten in place by every reset
        if (vReset != null && vReset != 0.0) v.fill_(new Scalar(vReset));
        Tensor hBuf = hAll == null ? empty_like(v) : null; // without H kept one buffer serves every step
        for (int t = 0; t < T; t++) {
            Tensor slot = hAll != null ? hAll.select(0, t) : hBuf;
            Tensor ht = chargeInto(slot, v, x.select(0, t));
            Tensor st = spikes.select(0, t);
            if (fire) ge_out(st, ht, vth);               // S[t] = H[t] >= vTh, as 0/1 values
            if (t < T - 1) resetInto(v, ht, st);
            st.close();
            if (hAll != null) slot.close();              // a view of hAll
        }
        v.close();
        if (hBuf != null) hBuf.close();
    }

    /** {@code {sg, dV/dH or null}} from {@code H [T, ...]} (consumed: closed, or reused as sg's memory) and the spikes. */
    private Tensor[] derivatives(Tensor hAll, Tensor spikes) {
        try (NoGradGuard ng = new NoGradGuard()) {
            // sg[t] = g'(H[t] - vTh), all t at once; in H's own memory unless dV/dH reads H again below
            boolean needH = vReset != null && !detachReset;
            Scalar vth = new Scalar(vThreshold);
            Tensor sg;
            if (needH) {
                sg = surrogate.gradInPlace(hAll.sub(vth));
            } else {
                hAll.sub_(vth);
                sg = surrogate.gradInPlace(hAll); // takes over hAll (gradInPlace owns its argument)
            }
            Tensor dvdh = vReset != null && detachReset ? null : dVdH(hAll, spikes, sg); // hard + detach: 1 - S, from the output
            if (needH) hAll.close();
            return new Tensor[]{sg, dvdh};
        }
    }

    /** Hooks registered by forwards whose backward has not run yet. */
    private static final PendingHooks<BpttHook> PENDING = new PendingHooks<>(h -> { h.release(); fired(h); });

    /** Hooks that have fired; their native objects are freed at the next hook call (not while one is running). */
    private static final List<BpttHook> FIRED = new ArrayList<>();

    private static void fired(BpttHook h) {
        synchronized (FIRED) { FIRED.add(h); }
    }

    private static void releaseFired() {
        synchronized (FIRED) {
            for (BpttHook h : FIRED) h.releaseReference();
            FIRED.clear();
        }
    }

    /** Number of neuron backward hooks still waiting for their backward. */
    public static int pendingHooks() { return PENDING.size(); }

    /** Forgets every pending hook and frees what it holds; only when no graph containing them will be backpropagated. */
    public static void discardPendingHooks() {
        PENDING.discardAll();
        releaseFired();
    }

    /**
     * The BPTT recursion (class comment) on {@code dL/dS [T, ...]}, from the last step to the first:
     * {@code gH[t] = gS[t]·sg[t] + (gH[t+1]·k)·dV/dH[t]}, {@code gX[t] = gH[t]·dH/dX}. Holds {@code sg} and, for
     * hard reset with detach_reset, only the output spikes (shared with whoever saved them) for {@code dV/dH = 1 - S},
     * computed as {@code g - g·S}; otherwise a precomputed {@code dV/dH} (null = 1).
     */
    private static final class BpttHook extends TensorTensorHook {
        private final MultiStepNeuron neuron;
        private Tensor sg, dvdh, spikes, input;
        private final long inputVersion;
        private final double rx, k;
        private final boolean oneMinusS;

        /** Keeps the derivatives computed in forward. */
        BpttHook(MultiStepNeuron n, Tensor sg, Tensor dvdh, Tensor spikes) {
            this(n, sg, dvdh, spikes, null);
        }

        /** Keeps the input and recomputes the derivatives when it fires. */
        BpttHook(MultiStepNeuron n, Tensor input, Tensor spikes) {
            this(n, null, null, spikes, input);
        }

        private BpttHook(MultiStepNeuron n, Tensor sg, Tensor dvdh, Tensor spikes, Tensor input) {
            this.neuron = n;
            this.sg = sg;
            this.dvdh = dvdh;
            this.spikes = spikes;
            this.input = input;
            this.inputVersion = input == null ? 0 : input._version();
            this.rx = n.dHdX();
            this.k = n.dHdV();
            this.oneMinusS = n.vReset != null && n.detachReset;
            // this runs in a short pointer scope (a block's, or run()'s own): the hook keeps its tensors and itself
            // alive until it has fired (a hook freed before its backward would crash it); released by release() and
            // releaseFired()
            for (Tensor t : new Tensor[]{sg, dvdh, spikes, input}) if (t != null) t.retainReference();
            retainReference();
        }

        @Override public TensorBase call(TensorBase grad) {
            releaseFired();
            try (PointerScope scope = new PointerScope()) {
                if (spikes == null) throw new IllegalStateException("neuron backward ran twice or after discardPendingHooks()");
                if (input != null) {
                    if (input._version() != inputVersion)
                        throw new IllegalStateException("a neuron's input was modified in place before its backward "
                                + "(setKeepInputForBackward needs it unchanged)");
                    Tensor hAll;
                    try (NoGradGuard ng = new NoGradGuard()) {
                        hAll = empty_like(input);
                        neuron.simulate(input, hAll, spikes, false); // H again, resets from the forward's spikes
                    }
                    Tensor[] d = neuron.derivatives(hAll, spikes);
                    sg = d[0];
                    dvdh = d[1];
                }
                Tensor g = new Tensor(grad);
                int T = (int) g.size(0);
                Tensor gx = empty_like(g);
                Tensor tmp = T > 1 ? empty_like(g.select(0, 0)) : null; // one step's carry, reused (no per-step tensors)
                Scalar kS = new Scalar(k), minusOne = new Scalar(-1.0);
                for (int t = T - 1; t >= 0; t--) {
                    Tensor gh = gx.select(0, t);
                    mul_out(gh, g.select(0, t), sg.select(0, t));
                    if (t < T - 1) {
                        Tensor next = gx.select(0, t + 1);
                        if (k != 1.0) mul_out(tmp, next, kS); else tmp.copy_(next);
                        if (oneMinusS) tmp.addcmul_(tmp, spikes.select(0, t), minusOne); // tmp·(1 - S[t]) for 0/1 spikes
                        else if (dvdh != null) tmp.mul_(dvdh.select(0, t));
                        gh.add_(tmp);
                    }
                }
                if (rx != 1.0) gx.mul_(new Scalar(rx));
                return Hooks.handBack(grad, gx);
            } finally {
                release();
                PENDING.remove(this);
                fired(this);
            }
        }

        void release() {
            if (input != null) {
                input.releaseReference(); input = null;
                sg = dvdh = null; // recomputed in call(), owned by its scope
            }
            if (sg != null) { sg.releaseReference(); sg = null; }
            if (dvdh != null) { dvdh.releaseReference(); dvdh = null; }
            if (spikes != null) { spikes.releaseReference(); spikes = null; }
        }
    }

    /**
     * {@code V[t]} from {@code H[t]} and the 0/1 spikes {@code S[t]}, exactly (each branch gives the same bits as
     * {@code S ? reset value : H}): reset to 0 as {@code H + (-1)·H·S} (H - H = +0 where S = 1, H + -0 = H where 0);
     * soft as {@code H - vTh·S}; another reset value by masking.
     */
    private void resetInto(Tensor v, Tensor h, Tensor s) {
        if (vReset == null) {
            sub_out(v, h, s, new Scalar(vThreshold));                          // H - vTh·S
        } else if (vReset == 0.0) {
            addcmul_out(v, h, h, s, new Scalar(-1.0));                         // H - H·S
        } else {
            v.copy_(h);
            Tensor fire = s.gt(new Scalar(0.0));
            v.masked_fill_(fire, new Scalar(vReset));
            fire.close();
        }
    }

    /**
     * {@code dV[t]/dH[t]} as a tensor from the 0/1 spikes {@code s}, or null when it is identically 1. Not called for
     * hard reset with detach_reset: there the hook reads {@code 1 - S} from the output spikes.
     */
    private Tensor dVdH(Tensor h, Tensor s, Tensor sg) {
        if (vReset != null) {
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
