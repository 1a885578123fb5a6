package dev.spikerev.autograd;

import static org.bytedeco.pytorch.global.torch.zeros_like;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * One invertible step of a {@link ReversibleSequence}: maps {@link #arity()} input streams to as many output streams
 * of the same shapes, and can rebuild its inputs from its outputs.
 *
 * <p>Contract for implementations:
 * <ul>
 * <li>{@link #forward(Tensor[])} and {@link #inverse(Tensor[])} are called by the engine under a no-grad guard; they
 *     must be differentiable libtorch expressions when grad mode is on (the default {@link #backward} recomputes
 *     {@code forward} with grad enabled).</li>
 * <li>Every method returns fresh tensor handles (never one of its arguments' Java objects; {@code t.detach()} gives
 *     a fresh handle to the same storage) and must not close, modify in place, or keep its arguments. The engine
 *     closes arguments and results when it no longer needs them.</li>
 * <li>{@link #backward} reconstructs the inputs, accumulates parameter gradients into {@code .grad} (exactly what
 *     plain autograd through {@code forward} would accumulate) and returns the inputs and their gradients.</li>
 * </ul>
 * Modules with state that a recompute would change (BatchNorm running stats, spiking neuron potentials) expose it via
 * {@link #recomputeState()} (saved/restored by the engine under {@link ReversibleSequence.StatsPolicy#RESTORE}) and
 * the {@link #beforeRecompute()}/{@link #afterRecompute()} hooks (e.g. to reset neurons). Randomness (dropout) is
 * not replayed.
 */
public interface ReversibleBlock {

    /** Number of streams in and out (2 for {@link AdditiveCoupling}). */
    default int arity() { return 2; }

    /** Outputs from inputs ({@code arity()} each). Called without graph in forward, with graph in the default backward. */
    Tensor[] forward(Tensor[] x);

    /** Inputs from outputs, without graph. */
    Tensor[] inverse(Tensor[] y);

    /**
     * Given the outputs {@code y} and {@code dy = dL/dy}: rebuilds the inputs, accumulates the parameter gradients and
     * returns {@code (x, dL/dx)}. Called with grad mode on. The default runs {@link #inverse} without graph, then
     * {@link #forward} with graph on detached copies of the inputs and backpropagates {@code dy} through it: correct
     * for any block, at the cost of one extra forward per block compared with a specialised backward such as
     * {@link AdditiveCoupling}'s.
     */
    default Grads backward(Tensor[] y, Tensor[] dy) {
        Tensor[] x;
        try (NoGradGuard ng = new NoGradGuard()) {
            x = inverse(y);
        }
        Tensor[] leaves = new Tensor[x.length];
        for (int i = 0; i < x.length; i++) {
            leaves[i] = x[i].detach();
            leaves[i].requires_grad_(true);
        }
        Tensor[] yr;
        try (AutoGradMode on = new AutoGradMode(true)) {
            yr = forward(leaves);
        }
        List<Tensor> outs = new ArrayList<>();
        List<Tensor> grads = new ArrayList<>();
        for (int i = 0; i < yr.length; i++) {
            if (yr[i].requires_grad()) { outs.add(yr[i]); grads.add(dy[i]); }
        }
        if (!outs.isEmpty()) {
            TensorVector ov = new TensorVector(outs.toArray(new Tensor[0]));
            TensorVector gv = new TensorVector(grads.toArray(new Tensor[0]));
            TensorVector none = new TensorVector();
            BoolOptional retain = new BoolOptional(false);
            org.bytedeco.pytorch.global.torch.backward(ov, gv, retain, false, none);
            ov.close(); gv.close(); none.close(); retain.close();
        }
        Tensor[] dx = new Tensor[x.length];
        for (int i = 0; i < x.length; i++) {
            Tensor g = leaves[i].grad();
            dx[i] = g.defined() ? new Tensor(g) : zeros_like(x[i]);
        }
        ReversibleSequence.closeAll(yr);
        ReversibleSequence.closeAll(leaves);
        return new Grads(x, dx);
    }

    /**
     * Tensors that a recompute in backward would update a second time (BatchNorm {@code running_mean},
     * {@code running_var}, {@code num_batches_tracked}). Live handles; the engine snapshots and restores their values.
     */
    default List<Tensor> recomputeState() { return List.of(); }

    /** Called right before {@link #backward} (e.g. reset neuron state so the recompute sees the forward's state). */
    default void beforeRecompute() {}

    /** Called right after {@link #backward}. */
    default void afterRecompute() {}

    /** Reconstructed inputs and their gradients, one per stream. */
    record Grads(Tensor[] x, Tensor[] dx) {}
}
