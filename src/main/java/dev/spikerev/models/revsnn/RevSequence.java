package dev.spikerev.models.revsnn;

import dev.spikerev.autograd.ReversibleSequence;
import dev.spikerev.nn.SpikeList;
import dev.spikerev.nn.SpikeModule;
import dev.spikerev.tensor.Layouts;
import dev.spikerev.tensor.Scopes;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;


/**
 * The reference's {@code ReversibleSequence(nn.ModuleList(blocks))} on {@code [T, B, 2C, ...]} (split on dim 2),
 * state keys {@code reversible_blocks.{j}.f_block.*}, {@code .g_block.*}.
 *
 * <p>Reversible ({@code reversible = true}): {@link ReversibleSequence} runs the blocks without graph and keeps only
 * the output; {@code loss.backward()} reconstructs each block's input from its output and recomputes F/G with
 * BatchNorm in training mode (second statistics update, {@link ReversibleSequence.StatsPolicy#UPDATE_TWICE}).
 * Plain ({@code false}): the same blocks through ordinary autograd (BPTT, all activations kept), with the second
 * BatchNorm update done explicitly so that buffers match the reversible path.
 */
final class RevSequence extends SpikeModule {
    final SpikeList<RevBlock> blocks;
    final List<RevBlock> list;
    final ReversibleSequence engine;
    final boolean reversible;

    RevSequence(List<RevBlock> bs, boolean reversible) {
        blocks = register_module("reversible_blocks", new SpikeList<>());
        for (RevBlock b : bs) blocks.add(b);
        this.list = List.copyOf(bs);
        this.reversible = reversible;
        this.engine = new ReversibleSequence(list, 2, ReversibleSequence.StatsPolicy.UPDATE_TWICE);
        for (RevBlock b : list) {
            b.fBlock.setBnPasses(reversible ? 1 : 2);
            b.gBlock.setBnPasses(reversible ? 1 : 2);
        }
    }

    Tensor forward(Tensor x) {
        if (reversible) return engine.apply(x);
        TensorVector halves = x.chunk(2, 2);
        Tensor x1 = new Tensor(halves.get(0)), x2 = new Tensor(halves.get(1));
        halves.close();
        for (RevBlock b : list) {
            final Tensor a = x1, c = x2;
            Tensor[] y = Scopes.keep(() -> b.forward(a, c));
            a.close();
            c.close();
            x1 = y[0];
            x2 = y[1];
        }
        Tensor out = Layouts.cat(new Tensor[]{x1, x2}, 2);
        x1.close();
        x2.close();
        return out;
    }
}
