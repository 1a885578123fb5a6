package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.SpikeList;
import dev.spikerev.nn.ScaledStdConv2d;
import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/** DVS stem ({@code MS_PatchEmbed_DVS}, one per column): ScaledStdConv2d(2 -&gt; ch0, k3 s1 p1), full resolution. */
public class PatchEmbedDvs extends SpikeModule {
    final SpikeList<ScaledStdConv2d> down;

    public PatchEmbedDvs(long ch0) {
        super();
        down = register_module("down", new SpikeList<>());
        down.add(new ScaledStdConv2d(2, ch0, 3, 1, 1));
    }

    public Tensor forward(Tensor frame) {
        return down.get(0).forward(frame);
    }
}
