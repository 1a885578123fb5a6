package dev.spikerev.models.revsnn;

import dev.spikerev.autograd.AdditiveCoupling;
import org.bytedeco.pytorch.Tensor;

/**
 * The reference's {@code ReversibleBlock(f_block, g_block, split_along_dim=2)}: {@code y1 = x1 + F(x2)},
 * {@code y2 = x2 + G(y1)} on the two channel halves; backward (via {@link AdditiveCoupling}) in the reference order:
 * recompute G on {@code y1}, backprop {@code dy2}, {@code x2 = y2 − G(y1)}; recompute F on {@code x2}, backprop
 * {@code dy1 + y1.grad}, {@code x1 = y1 − F(x2)}.
 */
final class RevBlock extends AdditiveCoupling {
    final Residual fBlock, gBlock;

    RevBlock(Residual f, Residual g) {
        super();
        fBlock = register_module("f_block", f);
        gBlock = register_module("g_block", g);
    }

    @Override protected Tensor f(Tensor x2) { return fBlock.forward(x2); }

    @Override protected Tensor g(Tensor y1) { return gBlock.forward(y1); }
}
