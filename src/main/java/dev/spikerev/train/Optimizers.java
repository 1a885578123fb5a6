package dev.spikerev.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;

/** Optimizer and learning-rate schedule from a {@link TrainConfig}, with each family's parameter-group rule. */
public final class Optimizers {
    private Optimizers() {}

    /** named_parameters() in PyTorch order, aliases included (ParamGroups de-duplicates). */
    public static Map<String, Tensor> namedParameters(Module m) {
        return dev.spikerev.nn.StateDictIO.namedParameters(m);
    }

    /**
     * T-RevSNN: RevCol's {@code set_weight_decay} groups (decayed group gets {@code weight_decay}); other families:
     * timm's {@code param_groups_weight_decay} (no decay for ndim &lt;= 1 and biases).
     */
    public static Optimizer build(TrainConfig cfg, Module model) {
        TrainConfig.Optim o = cfg.optimizer;
        Map<String, Tensor> named = namedParameters(model);
        List<ParamGroup> groups = cfg.family.equals("t-revsnn")
                ? ParamGroups.revcolWeightDecay(named, List.of(), List.of())
                : ParamGroups.timmWeightDecay(named, o.weightDecay, List.of());
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("lr", o.lr);
        opts.put("weight_decay", o.weightDecay);
        switch (o.name) {
            case "lamb":
                opts.put("betas", List.copyOf(o.betas));
                opts.put("eps", o.eps);
                opts.put("max_grad_norm", o.maxGradNorm > 0 ? o.maxGradNorm : null);
                opts.put("trust_clip", o.trustClip);
                return new Lamb(groups, opts);
            case "adamw":
                opts.put("betas", List.copyOf(o.betas));
                opts.put("eps", o.eps);
                return new AdamW(groups, opts);
            case "sgd":
                opts.put("momentum", o.momentum);
                opts.put("nesterov", o.nesterov);
                return new SGD(groups, opts);
            default:
                throw new ConfigException("optimizer.name: unsupported '" + o.name + "'");
        }
    }

    /** lr as a function of the fractional epoch (updated every iteration). */
    public static LrSchedule schedule(TrainConfig cfg) {
        TrainConfig.Schedule s = cfg.schedule;
        double base = cfg.optimizer.lr;
        switch (s.name) {
            case "constant":
                return e -> e < s.warmupEpochs ? s.warmupLr + (base - s.warmupLr) * e / s.warmupEpochs : base;
            case "multistep":
                return e -> {
                    if (e < s.warmupEpochs) return s.warmupLr + (base - s.warmupLr) * e / s.warmupEpochs;
                    double lr = base;
                    for (int m : s.milestones) if (Math.floor(e) >= m) lr *= s.gamma;
                    return lr;
                };
            default:
                return LrSchedule.revcolCosine(base, s.warmupLr, s.minLr, s.warmupEpochs, cfg.train.epochs);
        }
    }
}
