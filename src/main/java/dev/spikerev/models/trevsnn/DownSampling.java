package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.Conv2d;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/** {@code y = BN(Conv2d(S(x)))}, conv without bias. Names: {@code encode_conv}, {@code encode_bn}. */
public class DownSampling extends SpikeModule {
    final Conv2d encodeConv;
    final BatchNorm2dImpl encodeBn;

    public DownSampling(long in, long out, long kernel, long stride, long padding) {
        super();
        encodeConv = register_module("encode_conv", new Conv2d(in, out, kernel, stride, padding, 1, false));
        encodeBn = register_module("encode_bn", new BatchNorm2dImpl(new BatchNormOptions(out)));
    }

    public Tensor forward(Tensor x) {
        Tensor s = Quant.spike(x, is_training());
        Tensor c = encodeConv.forward(s);
        s.close();
        Tensor out = encodeBn.forward(c);
        c.close();
        return out;
    }
}
