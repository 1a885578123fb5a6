package dev.spikerev.models.revsnn;

import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;

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
}
