package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.Params;
import dev.spikerev.nn.ScaledStdConv2d;
import dev.spikerev.tensor.Ops;
import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.ones;

/**
 * One column ("time step"): four levels and the learned per-channel shortcut scales {@code alpha0..3}
 * ({@code [1, ch[k], 1, 1]}, init 0.5). Recurrence (levels run bottom-up, each seeing the new lower level and the
 * previous column's upper level):
 * <pre>
 * c0 = Level0(x,  c1) + c0 * alpha0
 * c1 = Level1(c0, c2) + c1 * alpha1
 * c2 = Level2(c1, c3) + c2 * alpha2
 * c3 = Level3(c2)     + c3 * alpha3
 * </pre>
 * In the first column the previous states are zero: the shortcut term is {@code 0 * alpha} (a zero tensor).
 */
public class SubNet extends SpikeModule {
    final boolean firstCol;
    final Tensor[] alpha = new Tensor[4];
    final Level[] levels = new Level[4];

    public SubNet(long[] ch, long kernel, boolean firstCol, ScaledStdConv2d[] pwReuse, Conv2d[] dwReuse) {
        super();
        this.firstCol = firstCol;
        for (int k = 0; k < 4; k++) alpha[k] = Params.register(this, "alpha" + k, ones(1, ch[k], 1, 1).mul(Ops.s(0.5)));
        for (int k = 0; k < 4; k++)
            levels[k] = register_module("level" + k, new Level(k, ch, kernel, firstCol, pwReuse[k], dwReuse[k]));
    }

    /** In place, without grad: {@code alpha <- sign(alpha) * max(|alpha|, 1e-3)} (so a zero alpha stays zero). */
    void clampAlphas() {
        try (NoGradGuard ng = new NoGradGuard()) {
            for (Tensor a : alpha) {
                Tensor sign = a.sign();
                a.abs_().clamp_(Ops.so(1e-3));
                a.mul_(sign);
            }
        }
    }

    /** {@code Level_k(inputs) + c_prev * alpha_k}; {@code cPrev == null} stands for the integer 0 of column 0. */
    Tensor shortcut(int k, Tensor levelOut, Tensor cPrev) {
        Tensor s = cPrev == null ? alpha[k].mul(Ops.s(0.0)) : cPrev.mul(alpha[k]);
        return levelOut.add(s);
    }

    /** Column forward with whatever grad mode is active. {@code c[k] == null} in the first column. */
    Tensor[] forward(Tensor x, Tensor[] c) {
        Tensor c0 = shortcut(0, levels[0].forward(x, c[1]), c[0]);
        Tensor c1 = shortcut(1, levels[1].forward(c0, c[2]), c[1]);
        Tensor c2 = shortcut(2, levels[2].forward(c1, c[3]), c[2]);
        Tensor c3 = shortcut(3, levels[3].forward(c2, null), c[3]);
        return new Tensor[]{c0, c1, c2, c3};
    }
}
