package dev.spikerev.models.trevsnn;

import dev.spikerev.models.FamilyModel;
import dev.spikerev.models.ModelFamily;
import dev.spikerev.train.GradClip;
import dev.spikerev.train.Lamb;
import dev.spikerev.train.Losses;
import dev.spikerev.train.Optimizer;
import dev.spikerev.train.ParamGroups;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import static org.bytedeco.pytorch.global.torch.stack;

/** T-RevSNN as parity, training and benchmarks drive it (family name {@code t-revsnn}). */
public final class TRevSNNFamily implements ModelFamily {
    @Override
    public String name() { return "t-revsnn"; }

    @Override
    @SuppressWarnings("unchecked")
    public FamilyModel build(Map<String, Object> meta) {
        Object c = meta.get("constructor");
        if (!(c instanceof Map)) throw new IllegalArgumentException("t-revsnn: meta.json has no 'constructor' object");
        double smoothing = meta.get("label_smoothing") instanceof Number n ? n.doubleValue() : 0.1;
        return new Model(new TRevSNN(TRevSNNConfig.fromConstructor((Map<String, Object>) c)), smoothing);
    }

    /**
     * The reference criterion {@code compound_loss_only_cls}: {@code sum(stack([CE_ls(h_i, y) * (i+1)/n ..., CE_ls(h_last, y)]))}
     * with timm's label-smoothing CE (plain CE when {@code smoothing == 0}).
     */
    public static Tensor compoundLoss(List<Tensor> heads, Tensor target, double smoothing) {
        TensorVector terms = new TensorVector();
        int n = heads.size();
        for (int i = 0; i < n; i++) terms.push_back(ce(heads.get(i), target, smoothing).mul(dev.spikerev.tensor.Ops.s((i + 1) / (double) n)));
        terms.push_back(ce(heads.get(n - 1), target, smoothing));
        return stack(terms).sum(new long[]{0}, false, new ScalarTypeOptional());
    }

    static Tensor ce(Tensor logits, Tensor target, double smoothing) {
        if (target.dim() == 2) return Losses.softTargetCrossEntropy(logits, target); // mixup: smoothing is in the target
        return smoothing > 0 ? Losses.labelSmoothingCrossEntropy(logits, target, smoothing) : Losses.crossEntropy(logits, target);
    }

    /**
     * The reference optimizer: timm Lamb(trust_clip=True, eps, betas) over RevCol's {@code set_weight_decay} groups
     * (decayed: ndim &gt; 1 and not .bias, weight decay 0.01 = Lamb's default; the rest 0), preceded by
     * adaptive gradient clipping when {@code clipGrad > 0}.
     */
    public static FamilyModel.Stepper lamb(TRevSNN net, double lr, double weightDecay, double eps, double[] betas,
                                           double maxGradNorm, boolean trustClip, double clipGrad, double agcEps) {
        Optimizer opt = lambOptimizer(net, lr, weightDecay, eps, betas, maxGradNorm, trustClip);
        return stepper(opt, clipGrad, agcEps);
    }

    /**
     * The reference's {@code build_optimizer} for 'lamb': timm {@code Lamb(set_weight_decay groups, trust_clip, lr,
     * eps, betas)}; group 0 = decayed (ndim &gt; 1, not .bias), group 1 = the rest with weight_decay 0. Parameter
     * indices (the optimizer state_dict's keys) follow {@code named_parameters()} with shared tensors once.
     */
    public static Lamb lambOptimizer(TRevSNN net, double lr, double weightDecay, double eps, double[] betas,
                                     double maxGradNorm, boolean trustClip) {
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("lr", lr);
        opts.put("eps", eps);
        opts.put("betas", List.of(betas[0], betas[1]));
        opts.put("weight_decay", weightDecay);
        opts.put("max_grad_norm", maxGradNorm);
        opts.put("trust_clip", trustClip);
        return new Lamb(ParamGroups.revcolWeightDecay(dev.spikerev.nn.StateDictIO.namedParameters(net), List.of(), List.of()), opts);
    }

    /** The reference recipe's step: adaptive gradient clipping (when {@code clipGrad > 0}), then {@code opt.step()}. */
    public static FamilyModel.Stepper stepper(Optimizer opt, double clipGrad, double agcEps) {
        List<Tensor> params = opt.params();
        return new FamilyModel.Stepper() {
            @Override public void zeroGrad() { opt.zeroGrad(); }

            @Override public void step() {
                if (clipGrad > 0) GradClip.adaptiveClipGrad(params, clipGrad, agcEps, 2.0);
                opt.step();
            }
        };
    }

    static final class Model implements FamilyModel {
        final TRevSNN net;
        final double smoothing;

        Model(TRevSNN net, double smoothing) {
            this.net = net;
            this.smoothing = smoothing;
        }

        @Override public Module module() { return net; }

        @Override public Tensor predict(Tensor input) {
            List<Tensor> outs = net.forward(input);
            return outs.get(outs.size() - 1);
        }

        @Override public Tensor[] forwardLoss(Tensor input, Tensor target) {
            net.train(true);
            List<Tensor> outs = net.forward(input);
            return new Tensor[]{outs.get(outs.size() - 1), compoundLoss(outs, target, smoothing)};
        }

        @Override public void backward(Tensor loss) { net.backward(loss); }

        @Override
        @SuppressWarnings("unchecked")
        public Stepper optimizer(Map<String, Object> m) {
            List<Number> betas = (List<Number>) m.getOrDefault("betas", List.of(0.9, 0.999));
            Map<String, Object> agc = (Map<String, Object>) m.get("adaptive_clip_grad");
            return lamb(net, num(m, "lr", 2e-3), num(m, "weight_decay_decay_group", 0.01), num(m, "eps", 1e-8),
                    new double[]{betas.get(0).doubleValue(), betas.get(1).doubleValue()}, num(m, "max_grad_norm", 1.0),
                    (Boolean) m.getOrDefault("trust_clip", true),
                    agc == null ? 0.0 : num(agc, "clip_factor", 0.02), agc == null ? 1e-3 : num(agc, "eps", 1e-3));
        }

        private static double num(Map<String, Object> m, String k, double d) {
            Object v = m.get(k);
            return v instanceof Number n ? n.doubleValue() : d;
        }
    }

    /** Parameters in optimizer order, de-duplicated (for trainers that need the plain list). */
    public static List<Tensor> uniqueParameters(Module m) {
        List<Tensor> out = new ArrayList<>();
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (Tensor t : dev.spikerev.nn.StateDictIO.namedParameters(m).values()) if (seen.add(t.unsafeGetTensorImpl().address())) out.add(t);
        return out;
    }
}
