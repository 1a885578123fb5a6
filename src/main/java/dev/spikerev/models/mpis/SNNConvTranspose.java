package dev.spikerev.models.mpis;

import dev.spikerev.nn.SpikeModule;
import dev.spikerev.nn.Params;
import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * The reference's {@code SNNConvTranspose(d_in, d_out)}: {@code y = drop(convT(x))} with
 * ConvTranspose2d(k 3, stride 2, padding 1, output_padding 1, no bias), which doubles the spatial size.
 * Name: {@code convT.weight [d_in, d_out, 3, 3]}. Init: U(−1, 1), then every output-channel slice {@code W[:, o]}
 * divided by its L2 norm.
 */
public class SNNConvTranspose extends SpikeModule {
    final ConvT convT;
    final VariationalDropout drop;

    SNNConvTranspose(long dIn, long dOut, double dropout) {
        super();
        convT = register_module("convT", new ConvT(dIn, dOut));
        drop = new VariationalDropout(dropout);
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor w = convT.weight;
            w.uniform_(-1, 1, new GeneratorOptional());
            Tensor norms = w.transpose(0, 1).flatten(1, -1).norm(Ops.so(2), new long[]{1}, true).view(1, dOut, 1, 1);
            w.div_(norms);
        }
    }

    Tensor forward(Tensor x) { return drop.apply(convT.forward(x), is_training()); }

    void copyFrom(SNNConvTranspose src) {
        try (NoGradGuard ng = new NoGradGuard()) {
            convT.weight.copy_(src.convT.weight);
        }
        drop.setMask(src.drop.mask() == null ? null : src.drop.mask().clone());
    }

    /** {@code nn.ConvTranspose2d(d_in, d_out, 3, stride 2, padding 1, output_padding 1, bias=False)}. */
    static final class ConvT extends SpikeModule {
        final Tensor weight;

        ConvT(long dIn, long dOut) {
            super();
            weight = Params.register(this, "weight", empty(dIn, dOut, 3, 3));
        }

        Tensor forward(Tensor x) {
            Tensor y = conv_transpose2d(x, weight, Ops.opt(null), new long[]{2, 2}, new long[]{1, 1}, new long[]{1, 1}, 1, 1, 1);
            // transposed conv: every input element meets every weight of its input channel once
            dev.spikerev.nn.OpCounter.conv(this, "conv_transpose2d", x, x, weight.size(1), weight.size(2) * weight.size(3));
            return y;
        }
    }
}
