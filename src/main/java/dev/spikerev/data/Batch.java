package dev.spikerev.data;

import dev.spikerev.tensor.Natives;
import dev.spikerev.tensor.Scopes;
import org.bytedeco.pytorch.Tensor;

/**
 * One training batch as tensors: {@code input} float32 {@code [B, C, H, W]} (or {@code [B, T, C, H, W]} for event
 * frames), {@code target} int64 {@code [B]}, and {@code softTarget} float32 {@code [B, numClasses]} or {@code null}
 * (present when mixup/cutmix or label smoothing ran). Tensors live on the CPU; move them with {@code to(device)}.
 *
 * <p>Made on the calling thread by {@link DataLoader.Epoch#next()}: if that thread has an open
 * {@link org.bytedeco.javacpp.PointerScope}, the tensors belong to it; otherwise the batch owns them. Either way,
 * {@link #close()} frees them (closing twice, or after the scope closed, is harmless).
 */
public final class Batch implements AutoCloseable {
    private final Tensor input;
    private final Tensor target;
    private final Tensor softTarget;
    private final int[] indices;
    private final int index;
    private boolean closed;

    private Batch(Tensor input, Tensor target, Tensor softTarget, int[] indices, int index) {
        this.input = input;
        this.target = target;
        this.softTarget = softTarget;
        this.indices = indices;
        this.index = index;
    }

    /** Makes the tensors for {@code hb} on the calling thread; {@code index} is the batch number in its epoch. */
    public static Batch of(HostBatch hb, int index) {
        Natives.init();
        Tensor in = Scopes.keepOne(() -> Tensor.create(hb.input, hb.shape));
        Tensor tg = Scopes.keepOne(() -> Tensor.create(hb.target, hb.target.length));
        Tensor soft = hb.soft == null ? null
                : Scopes.keepOne(() -> Tensor.create(hb.soft, hb.target.length, hb.numClasses));
        return new Batch(in, tg, soft, hb.indices.clone(), index);
    }

    private void check() {
        if (closed) throw new IllegalStateException("batch " + index + " is closed");
    }

    /** float32 input {@code [B, C, H, W]} or {@code [B, T, C, H, W]}. */
    public Tensor input() {
        check();
        return input;
    }

    /** int64 class indices {@code [B]}. */
    public Tensor target() {
        check();
        return target;
    }

    /** float32 soft targets {@code [B, numClasses]}, or {@code null} without mixup/smoothing. */
    public Tensor softTarget() {
        check();
        return softTarget;
    }

    /** Dataset indices of the rows (a copy). */
    public int[] indices() {
        return indices.clone();
    }

    /** Number of rows. */
    public int size() {
        return indices.length;
    }

    /** Position of this batch in its epoch (0-based, counting skipped batches). */
    public int index() {
        return index;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        input.close();
        target.close();
        if (softTarget != null) softTarget.close();
    }
}
