package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.SpikeList;
import dev.spikerev.tensor.Scopes;
import dev.spikerev.nn.ScaledStdConv2d;
import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/** {@code Level_k(c_down, c_up) = Block1(Block0(Fusion_k(c_down, c_up)))}. Names: {@code fusion}, {@code blocks.0/1}. */
public class Level extends SpikeModule {
    final Fusion fusion;
    final SpikeList<SpikeConvNextBlock> blocks;

    public Level(int level, long[] ch, long kernel, boolean firstCol, ScaledStdConv2d pwReuse, Conv2d dwReuse) {
        super();
        fusion = register_module("fusion", new Fusion(level, ch, firstCol));
        blocks = register_module("blocks", new SpikeList<>());
        blocks.add(new SpikeConvNextBlock(ch[level], kernel));
        blocks.add(new SpikeConvNextBlock(ch[level], kernel, pwReuse, dwReuse));
    }

    /**
     * Runs in its own pointer scope so that only the output handle survives: intermediates that autograd does not
     * save are freed now (as Python frees them), not when the training step's scope closes.
     */
    public Tensor forward(Tensor cDown, Tensor cUp) {
        return Scopes.keepOne(() -> {
            Tensor x = fusion.forward(cDown, cUp);
            return blocks.get(1).forward(blocks.get(0).forward(x));
        });
    }
}
