package dev.spikerev.models.revsnn;

import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.MultiStepNeuron;
import java.util.function.DoubleFunction;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Tensor;

/**
 * RevSFormer's G: {@code mlp1_lif -> mlp1_conv (1x1 D->hidden, bias) -> mlp1_bn -> mlp2_lif -> mlp2_conv (hidden->D,
 * bias) -> mlp2_bn} on {@code [T, B, D, H, W]}.
 */
final class Mlp extends Residual {
    final long hidden;
    final MultiStepNeuron mlp1Lif, mlp2Lif;
    final Conv2d mlp1Conv, mlp2Conv;
    final BatchNorm2dImpl mlp1Bn, mlp2Bn;

    Mlp(long in, long hidden, DoubleFunction<MultiStepNeuron> lif) {
        this.hidden = hidden;
        mlp1Lif = register_module("mlp1_lif", lif.apply(1.0));
        mlp1Conv = register_module("mlp1_conv", new Conv2d(in, hidden, 1, 1, 0, 1, true));
        mlp1Bn = register_module("mlp1_bn", new BatchNorm2dImpl(new BatchNormOptions(hidden)));
        mlp2Lif = register_module("mlp2_lif", lif.apply(1.0));
        mlp2Conv = register_module("mlp2_conv", new Conv2d(hidden, in, 1, 1, 0, 1, true));
        mlp2Bn = register_module("mlp2_bn", new BatchNorm2dImpl(new BatchNormOptions(in)));
    }

    @Override protected Tensor inner(Tensor x) {
        Tensor h = Seq.toAnn(mlp1Lif.forward(x), z -> bn(mlp1Bn, mlp1Bn::forward, mlp1Conv.forward(z)));
        return Seq.toAnn(mlp2Lif.forward(h), z -> bn(mlp2Bn, mlp2Bn::forward, mlp2Conv.forward(z)));
    }
}
