package dev.spikerev.autograd;

import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.zeros;

import dev.spikerev.tensor.Layouts;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;
import org.bytedeco.pytorch.TensorVector;

/**
 * Runs a chain of {@link ReversibleBlock}s without keeping activations for backward, and plugs the reversible
 * backward into ordinary autograd so that a single {@code loss.backward()} trains the stem before it, the blocks,
 * and the head after it.
 *
 * <p>How it works. {@link #apply(Tensor)} splits the (graph-connected) input {@code x} into streams, runs every block
 * under no-grad (closing each level's tensors as it goes), and returns {@code out = y + (x − x.detach())}: its value is
 * exactly the blocks' output {@code y}, and autograd sees an identity from {@code out} to {@code x} that saves nothing;
 * {@code y} itself is freed, backward reads the values from {@code out}'s storage (which must not be changed in place).
 * A Java tensor hook on {@code out} fires inside {@code loss.backward()} once {@code dL/dout} is complete. It walks
 * the blocks in reverse, each rebuilding its inputs from its outputs and recomputing locally with grad on (which
 * accumulates the block parameters' {@code .grad}), and returns {@code dL/dx}, which autograd then carries on into the
 * stem. What stays alive between forward and backward is {@code out} (and whatever the head and stem save),
 * independent of the number of blocks.
 *
 * <pre>{@code
 * ReversibleSequence rev = new ReversibleSequence(blocks, 1, ReversibleSequence.StatsPolicy.RESTORE);
 * try (PointerScope step = new PointerScope()) {          // one scope per step (cookbook §8b)
 *     optimizer.zero_grad();
 *     Tensor h = stem.forward(images);                    // ordinary autograd
 *     Tensor z = rev.apply(h);                            // [N, 2C, H, W] -> [N, 2C, H, W], no activations kept
 *     Tensor loss = cross_entropy(head.forward(z), labels);
 *     loss.backward();                                    // head, then the blocks (hook), then the stem
 *     optimizer.step();
 * }                                                       // backward must run before the scope closes
 * }</pre>
 *
 * <p>Without grad mode (eval), or when neither {@code x} nor any block parameter requires grad, {@code apply} is a plain
 * forward with no hook. When only the parameters need grads (no stem), the output hangs on a 1-element leaf instead of
 * {@code x}.
 * Intermediate outputs (e.g. auxiliary heads between columns) are obtained by chaining several sequences: the
 * gradient that reaches a sequence's output is the sum from everything that used it.
 *
 * <p>Streams: {@link #apply(Tensor)} chunks its input into {@code arity} equal parts along {@code splitDim} (RevSNN:
 * the channel dim). {@link #applyStreams(Tensor...)} takes one tensor per stream of any shapes (packed internally into
 * one flat tensor) and returns views of one output tensor, one per stream.
 *
 * <p>BatchNorm in blocks: the recompute runs F/G in train mode again, so running stats would be updated twice per step.
 * {@link StatsPolicy#UPDATE_TWICE} keeps that (the reference RevSNN behaviour, quirk Q1); {@link StatsPolicy#RESTORE}
 * snapshots {@link ReversibleBlock#recomputeState()} before each block's backward and restores it afterwards, which
 * matches plain autograd.
 *
 * <p>Limits: the hook fires once (no {@code retain_graph} double backward through a sequence); a graph dropped before
 * backward leaves its hook pending until {@link #discardPending()}; the recompute of a block must reproduce the forward
 * (same neuron state, no dropout). Not thread-safe for concurrent {@code apply} calls on the same instance.
 */
public final class ReversibleSequence {

    /** What happens to state (BatchNorm running stats) that the backward recompute updates again. */
    public enum StatsPolicy {
        /** Keep the second update (reference behaviour of RevSNN/RevCol: stats move twice per step). */
        UPDATE_TWICE,
        /** Snapshot the block's {@link ReversibleBlock#recomputeState()} before its recompute and restore it after. */
        RESTORE
    }

    private final List<ReversibleBlock> blocks;
    private final int splitDim;
    private final int arity;
    private final StatsPolicy policy;
    private final PendingHooks<BackwardHook> pending = new PendingHooks<>(BackwardHook::release);

    /**
     * @param blocks   at least one block, all of the same arity
     * @param splitDim dimension along which {@link #apply(Tensor)} splits its input into streams
     * @param policy   how to treat state that the recompute updates again
     */
    public ReversibleSequence(List<? extends ReversibleBlock> blocks, int splitDim, StatsPolicy policy) {
        if (blocks == null || blocks.isEmpty()) throw new IllegalArgumentException("a reversible sequence needs at least one block");
        this.blocks = List.copyOf(blocks);
        this.arity = this.blocks.get(0).arity();
        for (ReversibleBlock b : this.blocks)
            if (b.arity() != arity)
                throw new IllegalArgumentException("all blocks must have the same arity; expected " + arity + ", found "
                        + b.arity() + " for " + b);
        if (arity < 1) throw new IllegalArgumentException("block arity must be >= 1, found " + arity);
        this.splitDim = splitDim;
        this.policy = Objects.requireNonNull(policy, "policy");
    }

    public List<ReversibleBlock> blocks() { return blocks; }
    public StatsPolicy policy() { return policy; }

    /**
     * Runs the blocks on {@code x} split into {@code arity} equal chunks along {@code splitDim}; returns a tensor of the
     * same shape, connected to {@code x}'s graph through the reversible backward (see the class comment).
     */
    public Tensor apply(Tensor x) {
        long size = x.size(splitDim);
        if (size % arity != 0)
            throw new IllegalArgumentException("input size " + size + " along dim " + splitDim
                    + " is not divisible into " + arity + " streams");
        return run(x, new ChunkLayout(splitDim, arity));
    }

    /**
     * Runs the blocks on one tensor per stream (any shapes; each block must keep every stream's shape). Returns one
     * tensor per stream: views of a single output that carries the reversible backward.
     */
    public Tensor[] applyStreams(Tensor... xs) {
        if (xs.length != arity) throw new IllegalArgumentException("expected " + arity + " streams, found " + xs.length);
        PackLayout layout = new PackLayout(xs);
        Tensor packed = layout.merge(xs);
        Tensor out = run(packed, layout);
        packed.close();
        Tensor[] streams = layout.split(out);
        out.close();
        return streams;
    }

    /** Number of backward hooks registered by {@code apply} that have not fired yet. */
    public int pendingBackwards() { return pending.size(); }

    /** Forgets the hooks of graphs that will never be backpropagated and frees the outputs they hold. */
    public void discardPending() { pending.discardAll(); }

    private Tensor run(Tensor x, Layout layout) {
        boolean inputGrad = x.requires_grad();
        boolean track = GradMode.is_enabled() && (inputGrad || blocksHaveTrainableParameters());
        Tensor xd = x.detach();
        Tensor[] s = layout.split(xd);
        xd.close();
        try (NoGradGuard ng = new NoGradGuard()) {
            for (ReversibleBlock b : blocks) {
                Tensor[] next = b.forward(s);
                closeAll(s);
                s = next;
            }
        }
        Tensor y = layout.merge(s);
        closeAll(s);
        if (!track) return y;
        Tensor out;
        if (inputGrad) {
            // out = (x − x.detach()) + y: value exactly y, gradient identity to x, nothing saved
            Tensor xd2 = x.detach();
            out = x.sub(xd2);
            xd2.close();
            out.add_(y);
        } else {
            // the input needs no gradient, but the blocks' parameters do: hang the output on a 1-element leaf
            Tensor anchor = zeros(new long[]{1}, y.options()); // y's dtype and device (float32 CPU leaf before)
            anchor.requires_grad_(true);
            Tensor ad = anchor.detach();
            Tensor zero = anchor.sub(ad);
            out = y.add(zero);
            anchor.close(); ad.close(); zero.close();
        }
        y.close(); // out holds the same values (0 + y): backward reads them from out's storage, so only one copy lives
        BackwardHook hook = new BackwardHook(out.detach(), layout, inputGrad);
        pending.add(hook);
        out.register_hook(hook);
        return out;
    }

    /** Whether any block parameter requires grad (blocks that are not Modules count as trainable). */
    private boolean blocksHaveTrainableParameters() {
        for (ReversibleBlock b : blocks) {
            if (!(b instanceof Module m)) return true;
            TensorVector ps = m.parameters(true);
            try {
                for (long i = 0; i < ps.size(); i++) if (ps.get(i).requires_grad()) return true;
            } finally {
                ps.close();
            }
        }
        return false;
    }

    /** Walks the blocks backwards from {@code (y, dy)}; returns {@code dL/dx} in the layout's packed form. */
    private Tensor backwardAll(Tensor yPacked, Tensor dyPacked, Layout layout) {
        try (AutoGradMode on = new AutoGradMode(true)) {
            Tensor[] y = layout.split(yPacked);
            Tensor[] dy = layout.split(dyPacked);
            for (int i = blocks.size() - 1; i >= 0; i--) {
                ReversibleBlock b = blocks.get(i);
                List<Tensor> state = policy == StatsPolicy.RESTORE ? b.recomputeState() : List.of();
                List<Tensor> snapshot = snapshot(state);
                b.beforeRecompute();
                ReversibleBlock.Grads r = b.backward(y, dy);
                b.afterRecompute();
                restore(state, snapshot);
                closeAll(y);
                closeAll(dy);
                y = r.x();
                dy = r.dx();
            }
            Tensor dx = layout.merge(dy);
            closeAll(y);
            closeAll(dy);
            return dx;
        }
    }

    private static List<Tensor> snapshot(List<Tensor> state) {
        if (state.isEmpty()) return List.of();
        List<Tensor> copy = new ArrayList<>(state.size());
        try (NoGradGuard ng = new NoGradGuard()) {
            for (Tensor t : state) copy.add(t.clone());
        }
        return copy;
    }

    private static void restore(List<Tensor> state, List<Tensor> snapshot) {
        if (state.isEmpty()) return;
        try (NoGradGuard ng = new NoGradGuard()) {
            for (int i = 0; i < state.size(); i++) {
                state.get(i).copy_(snapshot.get(i));
                snapshot.get(i).close();
                state.get(i).close();
            }
        }
    }

    static void closeAll(Tensor[] ts) {
        if (ts == null) return;
        for (Tensor t : ts) if (t != null) t.close();
    }

    /** The hook on a sequence output: runs the reversible backward when {@code dL/dout} is complete. */
    private final class BackwardHook extends TensorTensorHook {
        private Tensor y;
        private final long version;
        private final Layout layout;
        private final boolean inputGrad;

        BackwardHook(Tensor y, Layout layout, boolean inputGrad) {
            this.y = y;
            this.version = y._version();
            this.layout = layout;
            this.inputGrad = inputGrad;
        }

        @Override public TensorBase call(TensorBase grad) {
            try {
                if (y == null)
                    throw new IllegalStateException("reversible backward ran twice or after discardPending(); "
                            + "backpropagate through a ReversibleSequence output once per apply()");
                if (y._version() != version)
                    throw new IllegalStateException("a ReversibleSequence output was modified in place before backward; "
                            + "its backward rebuilds the blocks' inputs from it (use an out-of-place op)");
                Tensor g = new Tensor(grad);
                Tensor dx = backwardAll(y, g, layout);
                g.close();
                if (inputGrad) return Hooks.handBack(grad, dx);
                dx.close();
                return grad; // with the anchor leaf: the incoming gradient, which flows into the 1-element leaf only
            } finally {
                release();
                pending.remove(this);
            }
        }

        void release() {
            if (y != null) { y.close(); y = null; }
        }
    }

    /** How a packed tensor maps to streams. */
    private interface Layout {
        Tensor[] split(Tensor packed);
        Tensor merge(Tensor[] streams);
    }

    /** Equal chunks along one dim (views); merge concatenates in the streams' memory order. */
    private record ChunkLayout(int dim, int n) implements Layout {
        @Override public Tensor[] split(Tensor packed) {
            TensorVector v = packed.chunk(n, dim);
            Tensor[] out = new Tensor[n];
            for (int i = 0; i < n; i++) out[i] = new Tensor(v.get(i));
            v.close();
            return out;
        }
        @Override public Tensor merge(Tensor[] streams) { return Layouts.cat(streams, dim); } // keeps channels-last
    }

    /** Streams of any shapes flattened and concatenated into one 1-D tensor. */
    private static final class PackLayout implements Layout {
        private final long[][] shapes;
        private final long[] numels;

        PackLayout(Tensor[] xs) {
            shapes = new long[xs.length][];
            numels = new long[xs.length];
            for (int i = 0; i < xs.length; i++) {
                long[] s = new long[(int) xs[i].dim()];
                for (int d = 0; d < s.length; d++) s[d] = xs[i].size(d);
                shapes[i] = s;
                numels[i] = xs[i].numel();
            }
        }

        @Override public Tensor[] split(Tensor packed) {
            Tensor[] out = new Tensor[shapes.length];
            long off = 0;
            for (int i = 0; i < shapes.length; i++) {
                Tensor flat = packed.narrow(0, off, numels[i]);
                out[i] = flat.view(shapes[i]);
                flat.close();
                off += numels[i];
            }
            return out;
        }

        @Override public Tensor merge(Tensor[] streams) {
            Tensor[] flat = new Tensor[streams.length];
            for (int i = 0; i < streams.length; i++) flat[i] = streams[i].reshape(-1);
            TensorVector v = new TensorVector(flat);
            Tensor out = cat(v, 0);
            v.close();
            closeAll(flat);
            return out;
        }
    }
}
