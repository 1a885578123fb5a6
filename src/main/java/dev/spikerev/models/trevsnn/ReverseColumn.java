package dev.spikerev.models.trevsnn;

import dev.spikerev.tensor.Ops;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Reversible backward of one T-RevSNN column (reference {@code ReverseFunction.backward}, spec 4.3), in the
 * reference's exact order so that gradients match bit for bit. Given the column's saved outputs {@code c0..c3} and
 * the gradients {@code g0r..g3r} arriving at them, it recomputes each level in train mode with grad enabled
 * (BatchNorm updates its running stats a second time, as upstream), accumulates parameter gradients (levels and
 * alphas) into {@code .grad}, reconstructs the column inputs {@code c_in = (1/alpha) * (c - Level(...))}, and
 * returns {@code [gx, g0_left, g1_left, g2_left, g3_left]}: the gradients for the stem output and the previous
 * column's outputs.
 */
final class ReverseColumn {
    private ReverseColumn() {}

    static Tensor[] backward(SubNet net, Tensor xSaved, Tensor[] cSaved, Tensor[] gRight) {
        Level[] l = net.levels;
        Tensor[] a = net.alpha;
        Tensor x = Ops.leaf(xSaved);
        Tensor c0 = Ops.leaf(cSaved[0]), c1 = Ops.leaf(cSaved[1]), c2 = Ops.leaf(cSaved[2]), c3 = Ops.leaf(cSaved[3]);

        Tensor g3up = gRight[3];
        Tensor g3left = noGrad(() -> g3up.mul(a[3]));
        Tensor oup3 = l[3].forward(c2, null);
        Ops.backward(oup3, g3up);
        Tensor c3in = noGrad(() -> a[3].reciprocal().mul(c3.sub(oup3)));
        Tensor g2up = noGrad(() -> gRight[2].add(c2.grad()));
        Tensor g2left = noGrad(() -> g2up.mul(a[2]));

        Tensor c3inL = Ops.leaf(c3in);
        Tensor oup2 = l[2].forward(c1, c3inL);
        Ops.backward(oup2, g2up);
        Ops.backward(c3in.mul(a[3]), g3up);                         // alpha3 grad
        Tensor c2in = noGrad(() -> a[2].reciprocal().mul(c2.sub(oup2)));
        if (c3inL.grad().defined()) g3left = g3left.add(c3inL.grad());
        Tensor g1up = noGrad(() -> gRight[1].add(c1.grad()));
        Tensor g1left = noGrad(() -> g1up.mul(a[1]));

        Tensor c2inL = Ops.leaf(c2in);
        Tensor oup1 = l[1].forward(c0, c2inL);
        Ops.backward(oup1, g1up);
        Ops.backward(c2in.mul(a[2]), g2up);                         // alpha2 grad
        Tensor c1in = noGrad(() -> a[1].reciprocal().mul(c1.sub(oup1)));
        Tensor g0up = noGrad(() -> gRight[0].add(c0.grad()));
        Tensor g0left = noGrad(() -> g0up.mul(a[0]));
        if (c2inL.grad().defined()) g2left = g2left.add(c2inL.grad());

        Tensor c1inL = Ops.leaf(c1in);
        Tensor oup0 = l[0].forward(x, c1inL);
        Ops.backward(oup0, g0up);
        Ops.backward(c1in.mul(a[1]), g1up);                         // alpha1 grad
        Tensor c0in = noGrad(() -> a[0].reciprocal().mul(c0.sub(oup0)));
        Tensor gx = new Tensor(x.grad()); // grad() is a reference into x, which dies with this scope: own a copy
        if (c1inL.grad().defined()) g1left = g1left.add(c1inL.grad());
        Ops.backward(c0in.mul(a[0]), g0up);                         // alpha0 grad
        return new Tensor[]{gx, g0left, g1left, g2left, g3left};
    }

    private static Tensor noGrad(java.util.function.Supplier<Tensor> f) {
        try (NoGradGuard ng = new NoGradGuard()) {
            return f.get();
        }
    }
}
