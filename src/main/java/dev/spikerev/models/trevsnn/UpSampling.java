package dev.spikerev.models.trevsnn;

import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.upsample_nearest2d;

/** {@code y = upsample_nearest_x2(BN(Conv1x1(S(x))))}: conv and BN at low resolution, then nearest x2. */
public class UpSampling extends DownSampling {
    public UpSampling(long in, long out) {
        super(in, out, 1, 1, 0);
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = super.forward(x);
        long[] s = Ops.shape(y);
        Tensor out = upsample_nearest2d(y, 2 * s[2], 2 * s[3]);
        y.close();
        return out;
    }
}
