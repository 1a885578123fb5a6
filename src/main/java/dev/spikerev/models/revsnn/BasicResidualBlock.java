package dev.spikerev.models.revsnn;

import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.MultiStepNeuron;
import dev.spikerev.nn.SpikeModule;
import java.util.function.Supplier;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Tensor;

/**
 * RevSResNet's F and G ({@code BasicResidualBlock(planes)}), spike first:
 * <pre>
 *   x [T,B,C,H,W] -> sn1 -> conv1 (3x3 C->C, no bias) -> BN -> sn2 -> conv2 (3x3) -> BN
 * </pre>
 * State keys {@code conv1.0.weight}, {@code conv1.1.*}, {@code conv2.0.weight}, {@code conv2.1.*}.
 */
final class BasicResidualBlock extends Residual {
    final ConvBn conv1, conv2;
    final MultiStepNeuron sn1, sn2;

    BasicResidualBlock(long planes, Supplier<MultiStepNeuron> neuron) {
        conv1 = register_module("conv1", new ConvBn(new Conv2d(planes, planes, 3, 1, 1, 1, false), planes));
        sn1 = register_module("sn1", neuron.get());
        conv2 = register_module("conv2", new ConvBn(new Conv2d(planes, planes, 3, 1, 1, 1, false), planes));
        sn2 = register_module("sn2", neuron.get());
    }

    @Override protected Tensor inner(Tensor x) {
        Tensor out = Seq.toAnn(sn1.forward(x), z -> conv1.forward(this, z));
        return Seq.toAnn(sn2.forward(out), z -> conv2.forward(this, z));
    }

    /** {@code SeqToANNContainer(conv, BatchNorm2d)}: children {@code 0} and {@code 1}. */
    static final class ConvBn extends SpikeModule {
        final Conv2d conv;
        final BatchNorm2dImpl bn;

        ConvBn(Conv2d conv, long channels) {
            this.conv = register_module("0", conv);
            this.bn = register_module("1", new BatchNorm2dImpl(new BatchNormOptions(channels)));
        }

        Tensor forward(Residual owner, Tensor x) {
            Tensor c = conv.forward(x);
            return owner.bn(bn, bn::forward, c);
        }
    }
}
