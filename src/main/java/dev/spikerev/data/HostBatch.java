package dev.spikerev.data;

import java.util.Arrays;

/**
 * A batch as plain Java arrays, assembled by a loader worker before any tensor exists.
 *
 * <p>{@code input} is row-major with shape {@code shape} ({@code [B, C, H, W]} or {@code [B, T, C, H, W]});
 * {@code target} holds the class index of each row; {@code soft} is {@code null} or a {@code [B, numClasses]}
 * row-major soft-target matrix (mixup / label smoothing); {@code indices} are the dataset indices of the rows.
 */
public final class HostBatch {
    public final float[] input;
    public final long[] shape;
    public final long[] target;
    public float[] soft;
    public final int numClasses;
    public final int[] indices;

    public HostBatch(float[] input, long[] shape, long[] target, float[] soft, int numClasses, int[] indices) {
        this.input = input;
        this.shape = shape;
        this.target = target;
        this.soft = soft;
        this.numClasses = numClasses;
        this.indices = indices;
        if (Sample.numel(Arrays.stream(shape).mapToInt(Math::toIntExact).toArray()) != input.length) {
            throw new IllegalArgumentException("batch input has " + input.length + " values, shape "
                    + Arrays.toString(shape));
        }
    }

    /** Number of rows. */
    public int size() {
        return target.length;
    }

    /** Values per row. */
    public int rowSize() {
        return target.length == 0 ? 0 : input.length / target.length;
    }
}
