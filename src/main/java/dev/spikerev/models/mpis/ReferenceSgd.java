package dev.spikerev.models.mpis;

import dev.spikerev.models.FamilyModel;
import dev.spikerev.tensor.Ops;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code torch.optim.SGD} (single-tensor path, {@code maximize=False}) over a fixed parameter list, as the MPIS
 * scripts use it. Per parameter with a gradient (parameters whose {@code .grad} is undefined are skipped, weight
 * decay included):
 * <pre>
 * d = g + wd·θ
 * buf = d (first step)  |  buf = momentum·buf + (1 − dampening)·d
 * d = d + momentum·buf (nesterov)  |  d = buf
 * θ ← θ − lr·d
 * </pre>
 * {@link #zeroGrad} sets gradients to undefined ({@code set_to_none=True}). Interim: to be replaced by the shared
 * {@code dev.spikerev.train} SGD once it lands.
 */
public final class ReferenceSgd implements FamilyModel.Stepper {
    private final Module module;
    private final List<Tensor> params;
    private final Tensor[] momentumBuffer;
    private double lr;
    private final double momentum, dampening, weightDecay;
    private final boolean nesterov;

    public ReferenceSgd(Module module, List<Tensor> params, double lr, double momentum, double dampening,
                        double weightDecay, boolean nesterov) {
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new IllegalArgumentException("sgd: nesterov needs momentum > 0 and dampening 0");
        this.module = module;
        this.params = new ArrayList<>(params);
        this.momentumBuffer = new Tensor[params.size()];
        this.lr = lr;
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    public double lr() { return lr; }

    public void setLr(double lr) { this.lr = lr; }

    /** Momentum buffer of parameter {@code i} (null before its first step): the optimizer state. */
    public Tensor momentumBuffer(int i) { return momentumBuffer[i]; }

    @Override public void zeroGrad() { module.zero_grad(true); }

    @Override public void step() {
        try (NoGradGuard ng = new NoGradGuard()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                Tensor g = p.grad();
                if (!g.defined()) continue;
                Tensor d = weightDecay != 0 ? g.add(p, Ops.s(weightDecay)) : g;
                if (momentum != 0) {
                    Tensor buf = momentumBuffer[i];
                    if (buf == null) {
                        buf = d.clone().detach();
                        buf.retainReference();
                        momentumBuffer[i] = buf;
                    } else {
                        buf.mul_(Ops.s(momentum)).add_(d, Ops.s(1 - dampening));
                    }
                    d = nesterov ? d.add(buf, Ops.s(momentum)) : buf;
                }
                p.add_(d, Ops.s(-lr));
            }
        }
    }
}
