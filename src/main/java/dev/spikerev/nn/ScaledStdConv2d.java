package dev.spikerev.nn;

import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.T_TensorTensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * timm's {@code ScaledStdConv2d}: a Conv2d whose weight is standardised per output channel on the fly,
 * {@code w_hat = (w - mean) / sqrt(var + eps) * gain * scale} with {@code scale = gamma * fan_in ** -0.5}.
 * Computed exactly as timm does, through {@code batch_norm(training=true, momentum=0)} on the weight reshaped to
 * {@code [1, O, fan_in]} with affine weight {@code (gain * scale).view(-1)}: any other arithmetic misses the
 * reference's optimizer steps on rows with a tiny fan-in (see spec t-revsnn 2.2).
 * Parameters: {@code weight}, {@code bias}, {@code gain [O,1,1,1]} (registration order as in timm).
 *
 * <p>Standardise once, use many times. Without a graph (grad mode off, or no parameter needing grad) the standardised
 * weight is computed once and reused until {@code weight} or {@code gain} changes (their version counters and storages
 * are the key: an optimizer step or a state_dict load invalidates it), so evaluation and T-RevSNN's graph-free column
 * forwards standardise each weight once, and modules that share parameters ({@link #sharing}) share it. With
 * {@link #deferWeightGradient} on (T-RevSNN's reversible step, CPU), the uses that need a graph get the same values as
 * one autograd leaf, whose gradient - the sum over all uses - {@link #finishDeferred} pushes through the
 * standardisation once ({@code native_batch_norm_backward} with the statistics of the cached forward, the function
 * autograd itself calls) into {@code weight.grad} and {@code gain.grad}. With a single use per step that is autograd's
 * result bit for bit; a weight used by several columns gets the backward of the summed gradient instead of the sum of
 * the backwards (equal up to float rounding). Values are always the bits of a fresh computation.
 */
public class ScaledStdConv2d extends Conv2d {
    public static final double EPS = 1e-6;
    private final Tensor gain;
    private final double scale;
    private final Standardised cache;
    private boolean defer;

    /** Padding defaults to timm's {@code ((stride - 1) + (k - 1)) // 2}. */
    public ScaledStdConv2d(long in, long out, long kernel, long stride) {
        this(in, out, kernel, stride, ((stride - 1) + (kernel - 1)) / 2);
    }

    public ScaledStdConv2d(long in, long out, long kernel, long stride, long padding) {
        super(in, out, kernel, stride, padding, 1, true);
        this.gain = Params.register(this, "gain", ones(out, 1, 1, 1));
        this.scale = Math.pow((double) (in * kernel * kernel), -0.5);
        this.cache = new Standardised();
    }

    private ScaledStdConv2d(ScaledStdConv2d shared) {
        super(shared);
        this.gain = Params.register(this, "gain", shared.gain);
        this.scale = shared.scale;
        this.cache = shared.cache; // the same parameters: one standardised weight
        shared.cache.users++;
    }

    /** Whether another module uses this module's parameters ({@link #sharing}). */
    public boolean sharesParameters() { return cache.users > 1; }

    @Override
    public ScaledStdConv2d sharing() { return new ScaledStdConv2d(this); }

    public Tensor gain() { return gain; }

    /**
     * On: uses with a graph share one leaf carrying the cached standardised weight (CPU only; elsewhere, or off, each
     * such use standardises with its own graph). The caller must call {@link #finishDeferred} after the backward.
     */
    public void deferWeightGradient(boolean on) {
        defer = on;
        cache.dropLeaf();
    }

    /** Pushes the gradient gathered on the deferred leaf into {@code weight.grad} / {@code gain.grad}; idempotent. */
    public void finishDeferred() { cache.finish(this); }

    @Override
    protected Tensor effectiveWeight() {
        boolean graph = GradMode.is_enabled() && (weight.requires_grad() || gain.requires_grad());
        if (!graph) return cache.value(this);
        if (defer && weight.device().is_cpu()) return cache.leaf(this);
        return standardised();
    }

    private Tensor affine() { return gain.mul(Ops.s(scale)).view(-1); }

    /** timm's standardisation with autograd's graph. */
    private Tensor standardised() {
        Tensor affine = affine();
        Tensor w = batch_norm(weight.reshape(1, outChannels, -1), Ops.opt(affine), Ops.opt(null),
                Ops.opt(null), Ops.opt(null), true, 0.0, EPS, true);
        return w.reshape_as(weight);
    }

    /**
     * The graph-free standardised weight of one parameter set, the statistics it was computed with (CPU), the key it
     * is valid for, and the leaf of a deferred backward.
     */
    private static final class Standardised {
        private Tensor value, mean, invstd, leaf;
        private int users = 1;
        private long weightVersion, gainVersion, weightData, gainData;

        /** A new handle on the standardised weight, recomputed when the key changed. */
        synchronized Tensor value(ScaledStdConv2d m) {
            refresh(m);
            return new Tensor(value);
        }

        /** A new handle on the leaf that gathers the gradient of every use (created on first use). */
        synchronized Tensor leaf(ScaledStdConv2d m) {
            refresh(m);
            if (leaf == null) {
                leaf = keep(value.detach().requires_grad_(true));
            }
            return new Tensor(leaf);
        }

        synchronized void finish(ScaledStdConv2d m) {
            if (leaf == null) return;
            Tensor g = leaf.grad();
            if (g.defined() && mean != null) {
                try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
                    Tensor w3 = m.weight.reshape(1, m.outChannels, -1);
                    Tensor affine = m.affine();
                    org.bytedeco.javacpp.BoolPointer mask = new org.bytedeco.javacpp.BoolPointer(3); // input, weight, no bias
                    mask.put(0, true).put(1, true).put(2, false);
                    T_TensorTensorTensor_T r = native_batch_norm_backward(g.reshape(1, m.outChannels, -1), w3.detach(),
                            Ops.opt(affine.detach()), Ops.opt(null), Ops.opt(null), Ops.opt(mean), Ops.opt(invstd), true, EPS,
                            mask);
                    // the tails as autograd runs them: reshape to the weight (AccumulateGrad), mul by scale into gain
                    TensorVector outs = new TensorVector(w3, affine), grads = new TensorVector(r.get0(), r.get1());
                    org.bytedeco.pytorch.global.torch.backward(outs, grads, new BoolOptional(false), false, new TensorVector());
                }
            }
            dropLeaf();
        }

        synchronized void dropLeaf() {
            if (leaf != null) { leaf.releaseReference(); leaf = null; }
        }

        private void refresh(ScaledStdConv2d m) {
            long wv = m.weight._version(), gv = m.gain._version();
            long wd = m.weight.data_ptr().address(), gd = m.gain.data_ptr().address();
            if (value != null && wv == weightVersion && gv == gainVersion && wd == weightData && gd == gainData) return;
            if (leaf != null && leaf.grad().defined())
                throw new IllegalStateException("ScaledStdConv2d: weights changed before the deferred weight gradient was finished");
            dropLeaf();
            release();
            try (NoGradGuard ng = new NoGradGuard()) {
                if (m.weight.device().is_cpu()) {
                    // the CPU batch_norm is native_batch_norm: the same bits, and its statistics for finish()
                    T_TensorTensorTensor_T r = native_batch_norm(m.weight.reshape(1, m.outChannels, -1), Ops.opt(m.affine()),
                            Ops.opt(null), Ops.opt(null), Ops.opt(null), true, 0.0, EPS);
                    value = keep(r.get0().reshape_as(m.weight));
                    mean = keep(new Tensor(r.get1())); // own handles: get1() points into the tuple
                    invstd = keep(new Tensor(r.get2()));
                } else {
                    value = keep(m.standardised());
                }
            }
            weightVersion = wv; gainVersion = gv; weightData = wd; gainData = gd;
        }

        private void release() {
            for (Tensor t : new Tensor[]{value, mean, invstd}) if (t != null) t.releaseReference();
            value = mean = invstd = null;
        }

        /** Keeps {@code t} alive past the caller's pointer scope (released by {@link #release} / {@link #dropLeaf}). */
        private static Tensor keep(Tensor t) {
            t.retainReference();
            return t;
        }
    }
}
