package dev.spikerev.autograd;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;

/** Helpers for Java tensor hooks ({@code TensorTensorHook}) that replace the gradient flowing through a tensor. */
public final class Hooks {
    private Hooks() {}

    /**
     * Returns {@code result} from a hook without a Java handle left on it: rebinds the hook's argument (autograd's own
     * copy of the gradient, which the returned value replaces anyway) to {@code result}, closes {@code result}'s handle
     * and returns the argument. A handle kept on the returned gradient (until its pointer scope closes) holds its use
     * count above 1, which stops autograd from accumulating into it in place and keeps it alive after use: measured,
     * RevSResNet21's reversible peak 30.1 -> 26.1 MiB per image.
     */
    public static TensorBase handBack(TensorBase grad, Tensor result) {
        grad.put(result);
        result.close();
        return grad;
    }
}
