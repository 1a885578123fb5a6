package dev.spikerev.models.revsnn;

import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.empty;

/** Time-merged application of stateless layers (SpikingJelly {@code SeqToANNContainer}). */
final class Seq {
    private Seq() {}

    /** {@code [T, B, ...] -> f([T*B, ...]) -> [T, B, ...']}. */
    static Tensor toAnn(Tensor x, UnaryOperator<Tensor> f) {
        long t = x.size(0), b = x.size(1);
        Tensor y = f.apply(x.flatten(0, 1));
        long[] ys = y.sizes().vec().get();
        long[] shape = new long[ys.length + 1];
        shape[0] = t;
        shape[1] = b;
        System.arraycopy(ys, 1, shape, 2, ys.length - 1);
        return y.reshape(shape);
    }

    /**
     * {@code x.unsqueeze(0).repeat(T, 1, ...)} for a 4-d {@code x}, kept in {@code x}'s layout (channels-last stays
     * channels-last; {@code repeat} writes row-major).
     */
    static Tensor repeat(Tensor x, int T) {
        long[] s = x.sizes().vec().get();
        Tensor flat = empty(new long[]{T * s[0], s[1], s[2], s[3]}, x.options(), new MemoryFormatOptional(x.suggest_memory_format()));
        Tensor out = flat.view(T, s[0], s[1], s[2], s[3]);
        flat.close();
        Tensor e = x.unsqueeze(0).expand(T, s[0], s[1], s[2], s[3]);
        out.copy_(e);
        e.close();
        return out;
    }
}
