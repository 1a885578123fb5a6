package dev.spikerev.models.mpis;

import dev.spikerev.nn.SpikeModule;
import dev.spikerev.nn.Conv2d;
import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * The reference's {@code SNNConv(d_in, d_out, k, stride, padding, bias=True, BN=True)}:
 * <pre>
 * y = drop( BN( conv(x) ) )                          BN per {@link BnMode}
 * y = drop( (conv(x) − mean) / std · γ + β )         "manual BN" (neuro simulation, given mean/std)
 * </pre>
 * Names: {@code conv.weight [d_out, d_in, k, k]}, {@code conv.bias}, {@code bn.*} (eps 1e-5, momentum 0.1).
 * Init: conv weight U(−1, 1), then every output filter {@code W[o]} divided by its L2 norm; bias 0; γ 1, β 0.
 */
public class SNNConv extends SpikeModule {
    final Conv2d conv;
    final BatchNorm2dImpl bn;
    final VariationalDropout drop;

    SNNConv(long dIn, long dOut, long kernel, long stride, long padding, double dropout) {
        super();
        conv = register_module("conv", new Conv2d(dIn, dOut, kernel, stride, padding, 1, true));
        bn = register_module("bn", new BatchNorm2dImpl(new BatchNormOptions(dOut)));
        drop = new VariationalDropout(dropout);
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor w = conv.weight();
            w.uniform_(-1, 1, new GeneratorOptional());
            Tensor norms = w.flatten(1, -1).norm(Ops.so(2), new long[]{1}, true).view(dOut, 1, 1, 1);
            w.div_(norms);
            conv.bias().zero_();
        }
    }

    /** {@code drop(BN(conv(x)))} with the BN in {@code mode}. */
    Tensor forward(Tensor x, BnMode mode) {
        Tensor z = conv.forward(x);
        if (mode == BnMode.MODULE || !is_training()) z = bn.forward(z);
        else z = batch_norm(z, Ops.opt(bn.weight()), Ops.opt(bn.bias()), Ops.opt(bn.running_mean()),
                Ops.opt(bn.running_var()), false, 0.1, 1e-5, false);
        return drop.apply(z, is_training());
    }

    /** {@code drop((conv(x) − mean)/std · γ + β)}: BN with given statistics, no running-stat update. */
    Tensor forwardManual(Tensor x, Tensor mean, Tensor std) {
        Tensor z = conv.forward(x).sub(mean).div(std).mul(bn.weight().reshape(1, -1, 1, 1)).add(bn.bias().reshape(1, -1, 1, 1));
        return drop.apply(z, is_training());
    }

    /** {@code conv(x)}: the reference's {@code forward_linear}. */
    Tensor forwardLinear(Tensor x) { return conv.forward(x); }

    /** The reference's {@code copy(target)}: conv weight/bias, BN γ/β/running stats and the dropout mask (not the counter). */
    void copyFrom(SNNConv src) {
        try (NoGradGuard ng = new NoGradGuard()) {
            conv.weight().copy_(src.conv.weight());
            conv.bias().copy_(src.conv.bias());
            bn.weight().copy_(src.bn.weight());
            bn.bias().copy_(src.bn.bias());
            bn.running_mean().copy_(src.bn.running_mean());
            bn.running_var().copy_(src.bn.running_var());
        }
        drop.setMask(src.drop.mask() == null ? null : src.drop.mask().clone());
    }
}
