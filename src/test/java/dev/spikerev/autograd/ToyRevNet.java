package dev.spikerev.autograd;

import static org.bytedeco.pytorch.global.torch.*;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * Test network: stem conv3x3(3 -> 2C) -> n additive-coupling blocks (F, G = conv3x3(C -> C) [+ BN] + ReLU) -> global
 * average pool -> linear(2C -> 10). {@link #forwardPlain} runs the blocks with ordinary autograd,
 * {@link #forwardRev} through a {@link ReversibleSequence}.
 */
final class ToyRevNet extends Module {
    final Conv2dImpl stem;
    final Module blockList;
    final List<Block> blocks = new ArrayList<>();
    final LinearImpl head;
    final int c;

    ToyRevNet(int c, int nBlocks, boolean bn) {
        this(c, nBlocks, bn, null);
    }

    /** With {@code spike != null}, F and G end in a surrogate spike instead of ReLU. */
    ToyRevNet(int c, int nBlocks, boolean bn, Surrogate spike) {
        this.c = c;
        stem = register_module("stem", conv(3, 2 * c));
        // names may not contain dots: "blocks.0" is child "0" of a container "blocks". Every Java-created Module
        // must stay strongly reachable from Java (a field), or virtual calls such as zero_grad() hit a collected object.
        blockList = register_module("blocks", new Module());
        for (int i = 0; i < nBlocks; i++) blocks.add(blockList.register_module(Integer.toString(i), new Block(c, bn, spike)));
        head = register_module("head", new LinearImpl(2 * c, 10));
    }

    static Conv2dImpl conv(int cin, int cout) {
        Conv2dOptions o = new Conv2dOptions(cin, cout, new LongPointer(3, 3));
        o.padding().put(new LongPointer(1, 1));
        return new Conv2dImpl(o);
    }

    Tensor headLoss(Tensor z, Tensor target) {
        Tensor pooled = adaptive_avg_pool2d(z, new long[] {1, 1}).flatten(1, -1);
        return cross_entropy(head.forward(pooled), target);
    }

    Tensor forwardPlain(Tensor img, Tensor target) {
        Tensor h = stem.forward(img);
        TensorVector parts = h.chunk(2, 1);
        Tensor a = new Tensor(parts.get(0)), b = new Tensor(parts.get(1));
        for (Block blk : blocks) {
            Tensor[] y = blk.forward(a, b);
            a = y[0];
            b = y[1];
        }
        return headLoss(cat(new TensorVector(a, b), 1), target);
    }

    Tensor forwardRev(ReversibleSequence rev, Tensor img, Tensor target) {
        Tensor h = stem.forward(img);
        Tensor z = rev.apply(h);
        h.close();
        return headLoss(z, target);
    }

    ReversibleSequence sequence(ReversibleSequence.StatsPolicy policy) {
        return new ReversibleSequence(blocks, 1, policy);
    }

    static final class Block extends AdditiveCoupling {
        final Conv2dImpl fConv, gConv;
        final BatchNorm2dImpl fBn, gBn;

        final Surrogate spike;

        Block(int c, boolean bn, Surrogate spike) {
            this.spike = spike;
            fConv = register_module("f_conv", conv(c, c));
            fBn = bn ? register_module("f_bn", new BatchNorm2dImpl(new BatchNormOptions(c))) : null;
            gConv = register_module("g_conv", conv(c, c));
            gBn = bn ? register_module("g_bn", new BatchNorm2dImpl(new BatchNormOptions(c))) : null;
        }

        @Override protected Tensor f(Tensor x2) {
            Tensor t = fConv.forward(x2);
            if (fBn != null) {
                Tensor u = fBn.forward(t);
                t.close();
                t = u;
            }
            Tensor r = spike == null ? relu(t) : SurrogateSpike.apply(t, spike);
            t.close(); // close intermediates: a live handle keeps its tensor alive
            return r;
        }

        @Override protected Tensor g(Tensor y1) {
            Tensor t = gConv.forward(y1);
            if (gBn != null) {
                Tensor u = gBn.forward(t);
                t.close();
                t = u;
            }
            Tensor r = spike == null ? relu(t) : SurrogateSpike.apply(t, spike);
            t.close(); // close intermediates: a live handle keeps its tensor alive
            return r;
        }
    }
}
