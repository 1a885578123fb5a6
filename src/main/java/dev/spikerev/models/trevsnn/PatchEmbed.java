package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.SpikeList;
import dev.spikerev.nn.ScaledStdConv2d;
import dev.spikerev.tensor.Ops;
import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.leaky_relu;

/**
 * Stem ({@code MS_PatchEmbed}): {@code SConv(ch0 -> ch0, k3 s2 p1)(leaky_relu(SConv(in -> ch0, k7 s2 p3)(img), 1))},
 * output at H/4. Names {@code down1.0}, {@code down2.0}.
 */
public class PatchEmbed extends SpikeModule {
    final SpikeList<ScaledStdConv2d> down1, down2;

    public PatchEmbed(long inChans, long ch0) {
        super();
        down1 = register_module("down1", new SpikeList<>());
        down1.add(new ScaledStdConv2d(inChans, ch0, 7, 2, 3));
        down2 = register_module("down2", new SpikeList<>());
        down2.add(new ScaledStdConv2d(ch0, ch0, 3, 2, 1));
    }

    public Tensor forward(Tensor img) {
        return down2.get(0).forward(leaky_relu(down1.get(0).forward(img), Ops.s(1.0)));
    }
}
