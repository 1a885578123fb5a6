package dev.spikerev.checkpoint;

import java.util.Arrays;
import org.bytedeco.pytorch.LongArrayRef;
import org.bytedeco.pytorch.Tensor;

/** Small read-only helpers over libtorch tensors used by the checkpoint code. */
public final class TensorInfo {
    private TensorInfo() {}

    public static long[] shape(Tensor t) { return toArray(t.sizes()); }

    public static long[] strides(Tensor t) { return toArray(t.strides()); }

    static long[] toArray(LongArrayRef r) {
        long n = r.size();
        long[] a = new long[(int) n];
        for (int i = 0; i < n; i++) a[i] = r.get(i);
        return a;
    }

    /** Python dtype name ({@code float32}), or libtorch's name for types checkpoints do not support. */
    public static String dtypeName(Tensor t) {
        DType d = DType.of(t.scalar_type());
        return d != null ? d.pythonName : String.valueOf(t.scalar_type());
    }

    /** e.g. {@code float32[2, 3, 7, 7]}; a 0-d tensor is {@code int64[]}. */
    public static String describe(Tensor t) {
        if (t == null || t.isNull() || !t.defined()) return "Tensor(undefined)";
        return dtypeName(t) + Arrays.toString(shape(t));
    }
}
