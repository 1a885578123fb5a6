package dev.spikerev.autograd;

import dev.spikerev.tensor.Ops;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * The backward half of a fixed-point layer {@code z* = f(z*, x)}: implicit differentiation gives
 * {@code dL/dθ = u · ∂f/∂θ} with the adjoint {@code u} solving
 * <pre>
 * u (I − J) = g,      J = ∂f/∂z at z*,   g = ∂L/∂z*
 * </pre>
 * i.e. the root of {@code G(u) = u J − u + g} (one vector-Jacobian product per evaluation), found with
 * {@link Broyden} from {@code u = 0}. The caller then back-propagates {@code u} through one recorded application of
 * {@code f} to reach the parameters. {@link #vjpOf} builds the VJP {@code v ↦ v J} of a recorded graph.
 * Memory: the graph of one {@code f} application plus Broyden's {@code 2·memory·B·N}; independent of how the
 * fixed point was found (e.g. a T-step simulation).
 */
public final class FixedPointAdjoint {
    private FixedPointAdjoint() {}

    /** The adjoint and the solver diagnostics. */
    public record Solution(Tensor u, Broyden.Result info) {}

    /**
     * Solves {@code u (I − J) = g} for a batch: {@code g} is {@code [B, ...]}, {@code vjp} maps a tensor of that shape
     * to {@code v J} (same shape). The returned {@code u} has {@code g}'s shape.
     */
    public static Solution solve(UnaryOperator<Tensor> vjp, Tensor g, Broyden.Options o) {
        long[] shape = Ops.shape(g);
        long b = shape[0], n = g.numel() / b;
        Tensor gFlat = g.reshape(b, n);
        UnaryOperator<Tensor> residual = x -> vjp.apply(x.reshape(shape)).reshape(b, n).sub(x).add(gFlat);
        Tensor x0 = zeros_like(gFlat);
        Broyden.Result r = Broyden.solve(residual, x0, o);
        return new Solution(r.x().reshape(shape), r);
    }

    /**
     * {@code v ↦ v · ∂out/∂in} over a recorded graph ({@code in} a leaf that requires grad, {@code out = f(in)}); the
     * graph is retained between calls and parameters' {@code .grad} are not touched.
     */
    public static UnaryOperator<Tensor> vjpOf(Tensor out, Tensor in) {
        return v -> {
            try (AutoGradMode on = new AutoGradMode(true)) {
                TensorVector r = grad(new TensorVector(out), new TensorVector(in), new TensorVector(v),
                        new BoolOptional(true), false, false);
                return new Tensor(r.get(0));
            }
        };
    }

    /** {@code |u − u J − g| / |g|}: how well {@code u} solves the adjoint equation (one extra VJP). */
    public static double relativeResidual(UnaryOperator<Tensor> vjp, Tensor u, Tensor g) {
        try (PointerScope ps = new PointerScope()) {
            double gn = g.norm().item_double();
            double rn = u.sub(vjp.apply(u)).sub(g).norm().item_double();
            return gn == 0 ? rn : rn / gn;
        }
    }
}
