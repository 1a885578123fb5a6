package dev.spikerev.tensor;

import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.MemoryFormat;

/**
 * Memory order of strided tensors, and channels-last for time-major {@code [T, B, C, H, W]} tensors (NHWC per
 * {@code [T*B, C, H, W]} image). libtorch's {@code empty_like} and {@code clone} already give a dense tensor in the
 * memory order of a view with gaps (a channel half of a channels-last {@code [T, B, 2C, H, W]} stage tensor stays
 * NHWC), but its 5-d {@code cat} picks the row-major layout whatever its inputs'; {@link #cat} keeps theirs.
 */
public final class Layouts {
    private Layouts() {}

    /**
     * Dims from outermost to innermost in memory: size-1 dims first (their stride is meaningless), then by decreasing
     * stride; ties keep the logical order.
     */
    public static int[] memoryOrder(Tensor t) {
        int n = (int) t.dim();
        long[] size = Ops.shape(t);
        long[] stride = t.strides().vec().get();
        Integer[] dims = new Integer[n];
        for (int i = 0; i < n; i++) dims[i] = i;
        Arrays.sort(dims, (a, b) -> Long.compare(key(size, stride, b), key(size, stride, a))); // stable
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = dims[i];
        return out;
    }

    private static long key(long[] size, long[] stride, int d) { return size[d] == 1 ? Long.MAX_VALUE : stride[d]; }

    /**
     * {@code cat(ts, dim)} written in the memory order of {@code ts[0]} (for {@code dim >= 0}): channel halves of a
     * channels-last tensor give a channels-last tensor (libtorch's 5-d {@code cat} writes row-major); row-major inputs
     * take the plain path.
     */
    public static Tensor cat(Tensor[] ts, long dim) {
        int[] order = memoryOrder(ts[0]);
        boolean identity = true;
        for (int i = 0; i < order.length; i++) identity &= order[i] == i;
        if (identity) {
            TensorVector v = new TensorVector(ts);
            Tensor out = org.bytedeco.pytorch.global.torch.cat(v, dim);
            v.close();
            return out;
        }
        long[] perm = toLong(order);
        Tensor[] p = new Tensor[ts.length];
        for (int i = 0; i < ts.length; i++) p[i] = ts[i].permute(perm);
        int at = 0;
        while (order[at] != dim) at++;
        TensorVector v = new TensorVector(p);
        Tensor c = org.bytedeco.pytorch.global.torch.cat(v, at);
        v.close();
        for (Tensor x : p) x.close();
        Tensor out = c.permute(toLong(inverse(order)));
        c.close();
        return out;
    }

    /** Whether the {@code [T, B, C, H, W]} tensor {@code x} is channels-last (as a {@code [T*B, C, H, W]} tensor). */
    public static boolean isChannelsLast5d(Tensor x) {
        Tensor f = x.flatten(0, 1);
        boolean cl = !x.is_contiguous() && f.is_contiguous(MemoryFormat.ChannelsLast);
        f.close();
        return cl;
    }

    /** A channels-last copy of the {@code [T, B, C, H, W]} tensor {@code x} (recorded by autograd). */
    public static Tensor channelsLast5d(Tensor x) {
        long[] s = Ops.shape(x);
        Tensor f = x.flatten(0, 1);
        Tensor c = f.contiguous(MemoryFormat.ChannelsLast);
        f.close();
        Tensor out = c.view(s);
        c.close();
        return out;
    }

    private static int[] inverse(int[] order) {
        int[] inv = new int[order.length];
        for (int i = 0; i < order.length; i++) inv[order[i]] = i;
        return inv;
    }

    private static long[] toLong(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
    }
}
