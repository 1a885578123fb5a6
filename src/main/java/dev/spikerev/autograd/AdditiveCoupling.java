package dev.spikerev.autograd;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * The two-stream additive coupling of RevNet/RevSNN: {@code y1 = x1 + F(x2)}, {@code y2 = x2 + G(y1)};
 * inverse {@code x2 = y2 − G(y1)}, {@code x1 = y1 − F(x2)}.
 *
 * <p>Subclasses register the modules used by {@link #f} and {@link #g} as children (their names become state_dict
 * keys) and implement the two functions. The backward is the memory-lean recipe (cookbook §2b): recompute
 * {@code G(y1)} with {@code y1} as a leaf, backpropagate {@code dy2} (accumulates G's parameter grads), get
 * {@code x2 = y2 − G(y1)} from the same recompute, then recompute {@code F(x2)} and backpropagate
 * {@code dx1 = dy1 + y1.grad}. Only one F or G graph exists at a time.
 *
 * <p>{@link #recomputeState()} defaults to all buffers of this module (BatchNorm running stats), so
 * {@link ReversibleSequence.StatsPolicy#RESTORE} keeps them updated once per step. F and G must be deterministic
 * functions of their input and the parameters (neurons reset at the start of each call, no dropout).
 */
public abstract class AdditiveCoupling extends Module implements ReversibleBlock {

    /** The residual function applied to {@code x2}; same shape in and out. */
    protected abstract Tensor f(Tensor x2);

    /** The residual function applied to {@code y1}; same shape in and out. */
    protected abstract Tensor g(Tensor y1);

    /** {@code (y1, y2)} from {@code (x1, x2)}; the graph is recorded when grad mode is on. */
    public Tensor[] forward(Tensor x1, Tensor x2) {
        Tensor fx = f(x2);
        Tensor y1 = x1.add(fx);
        fx.close();
        Tensor gy = g(y1);
        Tensor y2 = x2.add(gy);
        gy.close();
        return new Tensor[] {y1, y2};
    }

    @Override public final Tensor[] forward(Tensor[] x) {
        return forward(x[0], x[1]);
    }

    @Override public Tensor[] inverse(Tensor[] y) {
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor gy = g(y[0]);
            Tensor x2 = y[1].sub(gy);
            gy.close();
            Tensor fx = f(x2);
            Tensor x1 = y[0].sub(fx);
            fx.close();
            return new Tensor[] {x1, x2};
        }
    }

    @Override public Grads backward(Tensor[] y, Tensor[] dy) {
        Tensor y1 = y[0], y2 = y[1], dy1 = dy[0], dy2 = dy[1];
        try (AutoGradMode on = new AutoGradMode(true)) {
            // G: recompute on y1 as a leaf, push dy2 through it
            Tensor z1 = y1.detach();
            z1.requires_grad_(true);
            Tensor gz = g(z1);
            Tensor x2;
            try (NoGradGuard ng = new NoGradGuard()) { x2 = y2.sub(gz); }
            backprop(gz, dy2);
            gz.close();
            Tensor dx1 = addGrad(dy1, z1);
            z1.close();
            // F: recompute on x2 as a leaf, push dx1 through it
            Tensor x2l = x2.detach();
            x2l.requires_grad_(true);
            Tensor fx = f(x2l);
            Tensor x1;
            try (NoGradGuard ng = new NoGradGuard()) { x1 = y1.sub(fx); }
            backprop(fx, dx1);
            fx.close();
            Tensor dx2 = addGrad(dy2, x2l);
            x2l.close();
            return new Grads(new Tensor[] {x1, x2}, new Tensor[] {dx1, dx2});
        }
    }

    /** {@code upstream + leaf.grad} (or a copy of {@code upstream} when the leaf got no gradient). */
    private static Tensor addGrad(Tensor upstream, Tensor leaf) {
        Tensor g = leaf.grad();
        if (!g.defined()) return upstream.clone();
        return upstream.add(g);
    }

    private static void backprop(Tensor out, Tensor grad) {
        if (!out.requires_grad()) return; // F or G ignores its input and has no parameters
        TensorVector ov = new TensorVector(out), gv = new TensorVector(grad), none = new TensorVector();
        BoolOptional retain = new BoolOptional(false);
        org.bytedeco.pytorch.global.torch.backward(ov, gv, retain, false, none);
        ov.close(); gv.close(); none.close(); retain.close();
    }

    /** All buffers of this module and its children (live handles). */
    @Override public List<Tensor> recomputeState() {
        TensorVector b = buffers(true);
        List<Tensor> out = new ArrayList<>();
        for (long i = 0; i < b.size(); i++) out.add(new Tensor(b.get(i)));
        b.close();
        return out;
    }
}
