package dev.spikerev.models.revsnn;

import dev.spikerev.nn.SpikeModule;
import dev.spikerev.tensor.Scopes;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * A residual function F or G of a reversible block: {@code [T, B, C, ...] -> [T, B, C, ...]}, a complete T-step
 * sequence whose neurons start from rest on every call.
 *
 * <p>BatchNorm running statistics: the reference updates every BatchNorm inside F/G twice per training step (the
 * graph-free forward and the recompute in backward, quirk Q1). On the reversible path the recompute does the second
 * update by itself; the plain path sets {@link #bnPasses} to 2 so that each BatchNorm, in training mode, repeats its
 * statistics update once more on the same input (without graph).
 */
abstract class Residual extends SpikeModule {
    private int bnPasses = 1;

    /** Runs the function in its own pointer scope: only the result (and what autograd saved) stays alive. */
    public final Tensor forward(Tensor x) {
        return Scopes.keepOne(() -> inner(x));
    }

    protected abstract Tensor inner(Tensor x);

    void setBnPasses(int passes) { bnPasses = passes; }

    /** {@code bn(x)}, repeated without graph {@code bnPasses - 1} more times in training mode (stats only). */
    protected Tensor bn(Module bn, UnaryOperator<Tensor> forward, Tensor x) {
        Tensor y = forward.apply(x);
        if (bnPasses > 1 && bn.is_training()) {
            try (NoGradGuard ng = new NoGradGuard()) {
                for (int i = 1; i < bnPasses; i++) forward.apply(x).close();
            }
        }
        return y;
    }
}
