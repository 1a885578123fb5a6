package dev.spikerev.models.mpis;

import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * The reference's {@code VariationalHidDropout2d(p, spatial=False)}: one mask per forward with the full activation
 * shape {@code [B, C, H, W]}, {@code mask = Bernoulli(1 − p) / (1 − p)}, reused at every time step of the simulation
 * and in {@code f}; {@code y = mask · x} in training mode with {@code p > 0}, identity otherwise. Holds no
 * parameters (not in the state_dict), so it is a plain object, not a registered module.
 */
public final class VariationalDropout {
    final double p;
    private Tensor mask;

    VariationalDropout(double p) { this.p = p; }

    /**
     * Draws a fresh float32 mask of {@code shape} on {@code device} from that device's default generator (the
     * reference's {@code reset_mask}; on the CPU the same draws as {@code torch.zeros(shape).bernoulli_(1 - p)}).
     */
    void reset(long[] shape, org.bytedeco.pytorch.Device device) {
        if (p == 0) { mask = null; return; }
        Tensor m = zeros(shape, new org.bytedeco.pytorch.TensorOptions(device)).bernoulli_(1 - p, new GeneratorOptional());
        setMask(m.div(Ops.s(1 - p)));
    }

    /** Uses {@code m} (already scaled by {@code 1/(1−p)}) as the mask; for tests and reproducible training. */
    void setMask(Tensor m) {
        if (m != null) m.retainReference();
        if (mask != null) mask.releaseReference();
        mask = m;
    }

    Tensor mask() { return mask; }

    Tensor apply(Tensor x, boolean training) {
        if (!training || p == 0) return x;
        if (mask == null) throw new IllegalStateException("mpis dropout: no mask drawn before use (call reset first)");
        if (!java.util.Arrays.equals(Ops.shape(mask), Ops.shape(x)))
            throw new IllegalStateException("mpis dropout: mask shape " + java.util.Arrays.toString(Ops.shape(mask))
                    + " != activation shape " + java.util.Arrays.toString(Ops.shape(x))
                    + " (the reference derives mask shapes from stride_x = 2 and an input side that is a multiple of 8)");
        return mask.mul(x);
    }
}
