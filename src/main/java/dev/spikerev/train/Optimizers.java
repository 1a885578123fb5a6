package dev.spikerev.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/** Optimizer and learning-rate schedule from a {@link TrainConfig}, with each family's parameter-group rule. */
public final class Optimizers {
    private Optimizers() {}

    /**
     * Parameter groups as each family's reference script builds them:
     * <ul>
     * <li>t-revsnn: RevCol's {@code set_weight_decay} groups (decayed group gets {@code weight_decay});</li>
     * <li>revsnn CIFAR RevSResNet ({@code train_resnet_origin.py}) and mpis ({@code static_data.py} /
     * {@code neuro_data.py}): {@code torch.optim.X(model.parameters(), weight_decay=wd)}, one group, every parameter
     * decayed;</li>
     * <li>other revsnn models (the timm scripts) and baseline: timm's {@code param_groups_weight_decay} (no decay for
     * ndim &lt;= 1 and biases; one group when weight_decay is 0).</li>
     * </ul>
     */
    public static Optimizer build(TrainConfig cfg, Module model) {
        TrainConfig.Optim o = cfg.optimizer;
        Map<String, Tensor> named = dev.spikerev.nn.StateDictIO.namedParameters(model); // aliases included: ParamGroups de-duplicates
        List<ParamGroup> groups;
        if (cfg.family.equals("t-revsnn")) groups = ParamGroups.revcolWeightDecay(named, List.of(), List.of());
        else if (oneGroupScript(cfg)) groups = ParamGroups.all(named);
        else groups = ParamGroups.timmWeightDecay(named, o.weightDecay, List.of());
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
            case "adam":
                opts.put("betas", List.copyOf(o.betas));
                opts.put("eps", o.eps);
                return new Adam(groups, opts);
            case "sgd":
                opts.put("momentum", o.momentum);
                opts.put("nesterov", o.nesterov);
                return new SGD(groups, opts);
            default:
                throw new ConfigException("optimizer.name: unsupported '" + o.name + "'");
        }
    }

    /**
     * Whether the family's reference script puts every parameter into one group ({@code model.parameters()}): mpis,
     * and revsnn's CIFAR RevSResNet ({@code train_resnet_origin.py}).
     */
    public static boolean oneGroupScript(TrainConfig cfg) {
        if (cfg.family.equals("mpis")) return true;
        return cfg.family.equals("revsnn") && dev.spikerev.models.revsnn.RevSNNCheckpoint.Layout.of(cfg.model)
                == dev.spikerev.models.revsnn.RevSNNCheckpoint.Layout.RESNET_ORIGIN;
    }

    /** lr as a function of the fractional epoch (updated every iteration); {@code stepsPerEpoch} for {@code warmup_iters}. */
    public static LrSchedule schedule(TrainConfig cfg, int stepsPerEpoch) {
        LrSchedule epochs = epochSchedule(cfg);
        int n = cfg.schedule.warmupIters;
        if (n <= 0) return epochs;
        return e -> {
            long it = Math.round(e * stepsPerEpoch);
            double lr = epochs.lr(e);
            return it < n ? lr * (it + 1) / n : lr;
        };
    }

    /** The schedule without {@code warmup_iters}. */
    static LrSchedule epochSchedule(TrainConfig cfg) {
        TrainConfig.Schedule s = cfg.schedule;
        double base = cfg.optimizer.lr;
        if (s.warmupIters > 0) s = withoutWarmupEpochs(s);
        final TrainConfig.Schedule fs = s;
        switch (s.name) {
            case "timm-cosine": {
                LrSchedule.TimmCosine tc = timmCosine(cfg.optimizer.lr, fs, cfg.train.epochs, 1);
                return e -> tc.lr(Math.floor(e));
            }
            case "constant":
                return e -> e < fs.warmupEpochs ? fs.warmupLr + (base - fs.warmupLr) * e / fs.warmupEpochs : base;
            case "multistep":
                return e -> {
                    if (e < fs.warmupEpochs) return fs.warmupLr + (base - fs.warmupLr) * e / fs.warmupEpochs;
                    double lr = base;
                    for (int m : fs.milestones) if (Math.floor(e) >= m) lr *= fs.gamma;
                    return lr;
                };
            default:
                return LrSchedule.revcolCosine(base, fs.warmupLr, fs.minLr, fs.warmupEpochs, cfg.train.epochs);
        }
    }

    /** timm {@code CosineLRScheduler} of a {@code timm-cosine} (or, for checkpoints, {@code cosine}) schedule. */
    public static LrSchedule.TimmCosine timmCosine(TrainConfig cfg, int numGroups) {
        return timmCosine(cfg.optimizer.lr, cfg.schedule, cfg.train.epochs, numGroups);
    }

    private static LrSchedule.TimmCosine timmCosine(double lr, TrainConfig.Schedule s, int epochs, int numGroups) {
        return LrSchedule.timmCosine(lr, Math.max(1, epochs - s.cooldownEpochs))
                .optLrMin(s.minLr).optWarmup((int) Math.ceil(s.warmupEpochs), s.warmupLr).optCycleDecay(s.gamma)
                .optNumGroups(numGroups).build();
    }

    private static TrainConfig.Schedule withoutWarmupEpochs(TrainConfig.Schedule s) {
        TrainConfig.Schedule c = new TrainConfig.Schedule();
        c.name = s.name;
        c.warmupEpochs = 0;
        c.warmupLr = s.warmupLr;
        c.minLr = s.minLr;
        c.milestones = s.milestones;
        c.gamma = s.gamma;
        c.cooldownEpochs = s.cooldownEpochs;
        return c;
    }
}
