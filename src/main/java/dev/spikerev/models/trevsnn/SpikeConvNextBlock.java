package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.Params;
import dev.spikerev.nn.ScaledStdConv2d;
import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.ones;

/**
 * {@code MS_SpikeConvNextBlock} (block 0 of a level, with layer scale {@code gamma}) and
 * {@code MS_SpikeConvNextBlock_Reuse} (block 1: no gamma, second half shared by all columns):
 * <pre>
 * h = S(x); h = dwconv1(h); h = pwconv1(h)   (C -&gt; 4C); h = S(h); h = pwconv2(h) (4C -&gt; C); h = dwconv2(h)
 * y = x + h * gamma        (block 0)        y = x + h        (block 1)
 * </pre>
 */
public class SpikeConvNextBlock extends SpikeModule {
    final Tensor gamma;
    final Conv2d dwconv1;
    final ScaledStdConv2d pwconv1;
    final ScaledStdConv2d pwconv2;
    final Conv2d dwconv2;

    /** Block 0: own pwconv2/dwconv2 and a gamma parameter. */
    public SpikeConvNextBlock(long channels, long kernel) {
        super();
        gamma = Params.register(this, "gamma", ones(1, channels, 1, 1));
        dwconv1 = register_module("dwconv1", depthwise(channels, kernel));
        pwconv1 = register_module("pwconv1", new ScaledStdConv2d(channels, 4 * channels, 1, 1));
        pwconv2 = register_module("pwconv2", new ScaledStdConv2d(4 * channels, channels, 1, 1));
        dwconv2 = register_module("dwconv2", depthwise(channels, kernel));
    }

    /** Block 1: second half shares the given modules' parameter tensors ({@code *_reuse}). */
    public SpikeConvNextBlock(long channels, long kernel, ScaledStdConv2d pwconv2Reuse, Conv2d dwconv2Reuse) {
        super();
        gamma = null;
        dwconv1 = register_module("dwconv1", depthwise(channels, kernel));
        pwconv1 = register_module("pwconv1", new ScaledStdConv2d(channels, 4 * channels, 1, 1));
        pwconv2 = register_module("pwconv2_reuse", pwconv2Reuse.sharing());
        dwconv2 = register_module("dwconv2_reuse", dwconv2Reuse.sharing());
    }

    static Conv2d depthwise(long channels, long kernel) {
        return new Conv2d(channels, channels, kernel, 1, kernel / 2, channels, true);
    }

    public Tensor forward(Tensor x) {
        boolean train = is_training();
        // each intermediate handle is closed at its last use (see Quant.spike)
        Tensor s1 = Quant.spike(x, train);
        Tensor a = dwconv1.forward(s1);
        s1.close();
        Tensor b = pwconv1.forward(a);
        a.close();
        Tensor s2 = Quant.spike(b, train);
        b.close();
        Tensor c = pwconv2.forward(s2);
        s2.close();
        Tensor h = dwconv2.forward(c);
        c.close();
        if (gamma != null) {
            Tensor hg = h.mul(gamma);
            h.close();
            h = hg;
        }
        Tensor out = x.add(h);
        h.close();
        return out;
    }
}
