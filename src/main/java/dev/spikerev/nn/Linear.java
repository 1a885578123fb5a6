package dev.spikerev.nn;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code nn.Linear} (libtorch's own module: same parameter names, same init) that reports its calls to
 * {@link OpCounter}.
 */
public class Linear extends LinearImpl {
    private final long inFeatures;

    public Linear(long in, long out) {
        super(in, out);
        this.inFeatures = in;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = super.forward(x);
        OpCounter.linear(this, x, y, inFeatures);
        return y;
    }
}
