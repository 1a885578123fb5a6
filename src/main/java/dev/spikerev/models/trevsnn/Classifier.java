package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.SpikeList;
import dev.spikerev.nn.ScaledStdConv2d;
import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;

/** Intermediate head: mean over H, W of {@code c3} (not spiked), 1x1 ScaledStdConv2d, flatten. Name {@code classifier.0}. */
public class Classifier extends SpikeModule implements Head {
    final SpikeList<ScaledStdConv2d> classifier;

    public Classifier(long in, long classes) {
        super();
        classifier = register_module("classifier", new SpikeList<>());
        classifier.add(new ScaledStdConv2d(in, classes, 1, 1));
    }

    static Tensor meanHW(Tensor x) {
        return x.mean(new long[]{-1, -2}, true, new ScalarTypeOptional());
    }

    @Override
    public Tensor forward(Tensor c3) {
        Tensor y = classifier.get(0).forward(meanHW(c3));
        return y.view(y.size(0), -1);
    }
}
