package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.SpikeList;
import dev.spikerev.nn.ScaledStdConv2d;
import dev.spikerev.tensor.Ops;
import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.leaky_relu;

/**
 * The spiking head (the reported prediction): {@code S(c3)} -&gt; mean over H, W -&gt; 1x1 ScaledStdConv2d
 * ({@code classifier1.0}) -&gt; leaky_relu(slope 1, i.e. identity: upstream's act schedule is a no-op) -&gt;
 * 1x1 ScaledStdConv2d ({@code classifier2}) -&gt; flatten.
 */
public class SpikeClassifier extends SpikeModule implements Head {
    final SpikeList<ScaledStdConv2d> classifier1;
    final ScaledStdConv2d classifier2;

    public SpikeClassifier(long in, long classes) {
        super();
        classifier1 = register_module("classifier1", new SpikeList<>());
        classifier1.add(new ScaledStdConv2d(in, classes, 1, 1));
        classifier2 = register_module("classifier2", new ScaledStdConv2d(classes, classes, 1, 1));
    }

    @Override
    public Tensor forward(Tensor c3) {
        Tensor x = Classifier.meanHW(Quant.spike(c3, is_training()));
        x = leaky_relu(classifier1.get(0).forward(x), Ops.s(1.0));
        Tensor y = classifier2.forward(x);
        return y.view(y.size(0), -1);
    }
}
