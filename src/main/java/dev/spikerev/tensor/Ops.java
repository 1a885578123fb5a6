package dev.spikerev.tensor;

import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;

import static org.bytedeco.pytorch.global.torch.*;

/** Small spelling helpers over the presets' optional/scalar wrappers. */
public final class Ops {
    private Ops() {}

    public static Scalar s(double v) { return new Scalar(v); }

    public static ScalarOptional so(double v) { return new ScalarOptional(new Scalar(v)); }

    /** std::optional&lt;Tensor&gt;: empty when {@code t} is null. */
    public static TensorOptional opt(Tensor t) { return t == null ? new TensorOptional() : new TensorOptional(t); }

    /** {@code torch.autograd.backward(out, grad)}, accumulating into leaves' {@code .grad}. */
    public static void backward(Tensor out, Tensor grad) {
        org.bytedeco.pytorch.global.torch.backward(new TensorVector(out), new TensorVector(grad),
                new BoolOptional(true), false, new TensorVector());
    }

    /** A detached copy that is a fresh autograd leaf. */
    public static Tensor leaf(Tensor t) { return t.detach().requires_grad_(true); }

    /** Shape as a long[]. */
    public static long[] shape(Tensor t) { return t.sizes().vec().get(); }

    public static Tensor zerosLike(Tensor t) { return zeros_like(t); }
}
