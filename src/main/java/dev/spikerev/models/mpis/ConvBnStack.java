package dev.spikerev.models.mpis;

import dev.spikerev.nn.SpikeModule;
import dev.spikerev.nn.Conv2d;
import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * An {@code nn.Sequential} of (Conv2d, BatchNorm2d, DBReLU) triples: the stem {@code downsample_init} (two triples,
 * names {@code 0,1,3,4}) and the head's {@code downsamp} / {@code incre_modules} (one triple, names {@code 0,1}).
 * Each triple computes {@code clamp(BN(conv(x)) / vth, 0, 1)} (DBReLU with a Python-float vth). PyTorch default init.
 */
public class ConvBnStack extends SpikeModule {
    private final Conv2d[] convs;
    private final BatchNorm2dImpl[] bns;
    private final double vth;

    /** {@code specs[i] = {in, out, kernel, stride, padding, bias(0/1)}}. */
    ConvBnStack(double vth, long[]... specs) {
        super();
        this.vth = vth;
        convs = new Conv2d[specs.length];
        bns = new BatchNorm2dImpl[specs.length];
        for (int i = 0; i < specs.length; i++) {
            long[] s = specs[i];
            convs[i] = register_module(Integer.toString(3 * i), new Conv2d(s[0], s[1], s[2], s[3], s[4], 1, s[5] != 0));
            bns[i] = register_module(Integer.toString(3 * i + 1), new BatchNorm2dImpl(new BatchNormOptions(s[1])));
        }
    }

    Tensor forward(Tensor x) {
        for (int i = 0; i < convs.length; i++)
            x = clamp(bns[i].forward(convs[i].forward(x)).div(Ops.s(vth)), Ops.so(0), Ops.so(1));
        return x;
    }
}
