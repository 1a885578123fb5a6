package dev.spikerev.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.TreeMap;

/**
 * A learning-rate schedule as a pure function of time: {@code lr(t)}. What {@code t} means (epoch, fractional epoch,
 * update count) is fixed by the implementation and its factory method. All groups share one base lr here (true for
 * every reference recipe); {@link #apply} writes {@code lr * lr_scale} into groups that carry an {@code lr_scale}.
 */
public interface LrSchedule {

    /** The learning rate at time {@code t}. */
    double lr(double t);

    /** Sets the optimizer's groups to {@code lr(t)} (Python: the scheduler's {@code step}/{@code step_update}). */
    default void apply(Optimizer optimizer, double t) {
        optimizer.setLr(lr(t));
    }

    // ------------------------------------------------------------------ T-RevSNN

    /**
     * T-RevSNN / RevCol {@code CosLRScheduler.step_update(optimizer, epoch + idx/steps_per_epoch, config)}, called
     * every iteration with the fractional epoch {@code e}:
     * {@code e < warmup: warmupLr + (baseLr - warmupLr) * e / warmup}, else
     * {@code minLr + (baseLr - minLr) * 0.5 * (1 + cos(pi * (e - warmup) / (epochs - warmup)))}.
     * (The linear batch-size scaling of BASE/WARMUP/MIN_LR is the caller's job.) No scheduler state is saved upstream.
     */
    static LrSchedule revcolCosine(double baseLr, double warmupLr, double minLr, double warmupEpochs, double epochs) {
        return e -> {
            if (e < warmupEpochs) return (baseLr - warmupLr) * e / warmupEpochs + warmupLr;
            return minLr + (baseLr - minLr) * 0.5 * (1. + Math.cos(Math.PI * (e - warmupEpochs) / (epochs - warmupEpochs)));
        };
    }

    // ------------------------------------------------------------------ timm

    /** timm {@code CosineLRScheduler}; build with {@link TimmCosine#builder(double, int)}. */
    static TimmCosine.Builder timmCosine(double baseLr, int tInitial) {
        return TimmCosine.builder(baseLr, tInitial);
    }

    /**
     * timm {@code CosineLRScheduler} (timm 0.6.12 .. 1.0.29 arithmetic; noise not supported). {@code t} is the epoch
     * ({@code t_in_epochs=True}, Python {@code scheduler.step(epoch)}) or the update count ({@code step_update}).
     * RevSNN: {@code t_initial=epochs, lr_min=1e-5, warmup_t=warmup_epochs, warmup_lr_init=1e-5,
     * cycle_decay=0.1 (decay_rate), cycle_limit=1}, stepped per epoch with {@code step(epoch + 1)} after each epoch
     * and constructed before training (so epoch 0 runs at {@code lr(0) = warmup_lr_init}); the extra cooldown epochs
     * fall past {@code t_initial} and get {@code lr_min}.
     */
    final class TimmCosine implements LrSchedule {
        private final double baseLr, lrMin, cycleMul, cycleDecay, warmupLrInit, kDecay, warmupStep;
        private final int tInitial, cycleLimit, warmupT;
        private final boolean warmupPrefix, tInEpochs;
        private final int numGroups;

        private TimmCosine(Builder b) {
            if (b.tInitial <= 0) throw new IllegalArgumentException("t_initial must be > 0, found " + b.tInitial);
            if (b.lrMin < 0) throw new IllegalArgumentException("lr_min must be >= 0, found " + b.lrMin);
            baseLr = b.baseLr; tInitial = b.tInitial; lrMin = b.lrMin; cycleMul = b.cycleMul; cycleDecay = b.cycleDecay;
            cycleLimit = b.cycleLimit; warmupT = b.warmupT; warmupLrInit = b.warmupLrInit; warmupPrefix = b.warmupPrefix;
            kDecay = b.kDecay; tInEpochs = b.tInEpochs; numGroups = b.numGroups;
            warmupStep = warmupT != 0 ? (baseLr - warmupLrInit) / warmupT : 1;
        }

        public static Builder builder(double baseLr, int tInitial) {
            return new Builder(baseLr, tInitial);
        }

        /** timm {@code _get_lr(t)} for integer {@code t} (a fractional {@code t} is used as is). */
        @Override
        public double lr(double t) {
            if (t < warmupT) return warmupLrInit + t * warmupStep;
            if (warmupPrefix) t = t - warmupT;
            double i, tI, tCurr;
            if (cycleMul != 1) {
                i = Math.floor(Math.log(1 - t / tInitial * (1 - cycleMul)) / Math.log(cycleMul));
                tI = Math.pow(cycleMul, i) * tInitial;
                tCurr = t - (1 - Math.pow(cycleMul, i)) / (1 - cycleMul) * tInitial;
            } else {
                i = Math.floor(t / tInitial);
                tI = tInitial;
                tCurr = t - (tInitial * i);
            }
            double gamma = Math.pow(cycleDecay, i);
            double lrMax = baseLr * gamma;
            if (i < cycleLimit)
                return lrMin + 0.5 * (lrMax - lrMin) * (1 + Math.cos(Math.PI * Math.pow(tCurr, kDecay) / Math.pow(tI, kDecay)));
            return lrMin;
        }

        /** The lr timm writes into the groups at construction (before any step): {@code warmup_lr_init} if warming up. */
        public double initialLr() {
            return warmupT != 0 ? warmupLrInit : baseLr;
        }

        /** Applies {@link #lr} only when {@code t} is the unit this schedule runs in (timm's step vs step_update). */
        public void step(Optimizer opt, int epoch) {
            if (tInEpochs) apply(opt, epoch);
        }

        public void stepUpdate(Optimizer opt, int numUpdates) {
            if (!tInEpochs) apply(opt, numUpdates);
        }

        /** Python {@code scheduler.state_dict()} (its {@code __dict__} without the optimizer), timm >= 0.6 key order. */
        public LinkedHashMap<Object, Object> stateDict() {
            LinkedHashMap<Object, Object> d = new LinkedHashMap<>();
            List<Object> base = new ArrayList<>(), steps = new ArrayList<>();
            for (int g = 0; g < numGroups; g++) {
                base.add(baseLr);
                steps.add(warmupT != 0 ? (Object) warmupStep : (Object) 1L);
            }
            d.put("param_group_field", "lr");
            d.put("_initial_param_group_field", "initial_lr");
            d.put("base_values", base);
            d.put("metric", null);
            d.put("t_in_epochs", tInEpochs);
            d.put("noise_range_t", null);
            d.put("noise_pct", 0.67);
            d.put("noise_type", "normal");
            d.put("noise_std", 1.0);
            d.put("noise_seed", 42L);
            d.put("t_initial", (long) tInitial);
            d.put("lr_min", lrMin);
            d.put("cycle_mul", cycleMul);
            d.put("cycle_decay", cycleDecay);
            d.put("cycle_limit", (long) cycleLimit);
            d.put("warmup_t", (long) warmupT);
            d.put("warmup_lr_init", warmupLrInit);
            d.put("warmup_prefix", warmupPrefix);
            d.put("k_decay", kDecay);
            d.put("warmup_steps", steps);
            return d;
        }

        public static final class Builder {
            private final double baseLr;
            private final int tInitial;
            private double lrMin = 0, cycleMul = 1, cycleDecay = 1, warmupLrInit = 0, kDecay = 1;
            private int cycleLimit = 1, warmupT = 0, numGroups = 1;
            private boolean warmupPrefix = false, tInEpochs = true;

            private Builder(double baseLr, int tInitial) {
                this.baseLr = baseLr;
                this.tInitial = tInitial;
            }

            public Builder optLrMin(double v) { lrMin = v; return this; }
            public Builder optCycleMul(double v) { cycleMul = v; return this; }
            public Builder optCycleDecay(double v) { cycleDecay = v; return this; }
            public Builder optCycleLimit(int v) { cycleLimit = v; return this; }
            public Builder optWarmup(int warmupT, double warmupLrInit) { this.warmupT = warmupT; this.warmupLrInit = warmupLrInit; return this; }
            public Builder optWarmupPrefix(boolean v) { warmupPrefix = v; return this; }
            public Builder optKDecay(double v) { kDecay = v; return this; }
            public Builder optTInEpochs(boolean v) { tInEpochs = v; return this; }
            /** Number of param groups (only affects the lengths of {@code base_values}/{@code warmup_steps} in the state dict). */
            public Builder optNumGroups(int v) { numGroups = v; return this; }
            public TimmCosine build() { return new TimmCosine(this); }
        }
    }

    // ------------------------------------------------------------------ torch.optim.lr_scheduler

    /**
     * torch {@code MultiStepLR(milestones, gamma)}: {@code t} = {@code last_epoch} (number of {@code scheduler.step()}
     * calls). Reproduces torch's chained form: at each milestone {@code m <= t} (ascending) {@code lr *= gamma ** count(m)}.
     */
    static TorchStepped multiStep(double baseLr, List<Integer> milestones, double gamma) {
        TreeMap<Integer, Integer> counts = new TreeMap<>();
        for (int m : milestones) counts.merge(m, 1, Integer::sum);
        LinkedHashMap<Object, Object> fields = new LinkedHashMap<>();
        LinkedHashMap<Object, Object> counter = new LinkedHashMap<>();
        for (int m : milestones) counter.put((long) m, (long) (int) counts.get(m));
        fields.put("milestones", counter);
        fields.put("gamma", gamma);
        return new TorchStepped(baseLr, fields, t -> {
            double lr = baseLr;
            for (var e : counts.headMap((int) Math.floor(t), true).entrySet()) lr = lr * Math.pow(gamma, e.getValue());
            return lr;
        });
    }

    /** torch {@code StepLR(step_size, gamma)}: chained {@code lr *= gamma} at every positive multiple of step_size. */
    static TorchStepped stepLr(double baseLr, int stepSize, double gamma) {
        LinkedHashMap<Object, Object> fields = new LinkedHashMap<>();
        fields.put("step_size", (long) stepSize);
        fields.put("gamma", gamma);
        return new TorchStepped(baseLr, fields, t -> {
            double lr = baseLr;
            for (long e = stepSize; e <= (long) Math.floor(t); e += stepSize) lr = lr * gamma;
            return lr;
        });
    }

    /**
     * torch {@code CosineAnnealingLR(T_max, eta_min)} reached by {@code t} successive {@code step()} calls from epoch 0
     * (torch's recursive form, including its restart branch), not the closed form.
     */
    static TorchStepped cosineAnnealing(double baseLr, int tMax, double etaMin) {
        LinkedHashMap<Object, Object> fields = new LinkedHashMap<>();
        fields.put("T_max", (long) tMax);
        fields.put("eta_min", etaMin);
        return new TorchStepped(baseLr, fields, t -> {
            long n = (long) Math.floor(t);
            double lr = baseLr;
            for (long e = 1; e <= n; e++) {
                if (Math.floorMod(e - 1 - tMax, 2L * tMax) == 0)
                    lr = lr + (baseLr - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
                else
                    lr = (1 + Math.cos(Math.PI * e / tMax)) / (1 + Math.cos(Math.PI * (e - 1) / tMax)) * (lr - etaMin) + etaMin;
            }
            return lr;
        });
    }

    /** A torch {@code LRScheduler} replayed as a pure function of {@code last_epoch}. */
    final class TorchStepped implements LrSchedule {
        private final double baseLr;
        private final LinkedHashMap<Object, Object> fields;
        private final java.util.function.DoubleUnaryOperator f;

        private TorchStepped(double baseLr, LinkedHashMap<Object, Object> fields, java.util.function.DoubleUnaryOperator f) {
            this.baseLr = baseLr;
            this.fields = fields;
            this.f = f;
        }

        @Override
        public double lr(double lastEpoch) {
            return f.applyAsDouble(lastEpoch);
        }

        /**
         * Python {@code scheduler.state_dict()} (torch 2.13 key order) after {@code lastEpoch} {@code step()} calls
         * following construction ({@code _step_count = lastEpoch + 1}). MultiStepLR's {@code milestones} is a
         * {@code collections.Counter} in Python; here a map milestone → count.
         */
        public LinkedHashMap<Object, Object> stateDict(int lastEpoch, int numGroups) {
            LinkedHashMap<Object, Object> d = new LinkedHashMap<>(fields);
            List<Object> base = new ArrayList<>(), last = new ArrayList<>();
            double lr = lr(lastEpoch);
            for (int g = 0; g < numGroups; g++) {
                base.add(baseLr);
                last.add(lr);
            }
            d.put("base_lrs", base);
            d.put("last_epoch", (long) lastEpoch);
            d.put("_step_count", (long) lastEpoch + 1);
            d.put("_is_initial", false);
            d.put("_get_lr_called_within_step", false);
            d.put("_last_lr", last);
            return d;
        }
    }

    // ------------------------------------------------------------------ MPIS

    /**
     * MPIS scripts: per-iteration warm-up that overwrites the lr with {@code base * (it + 1) / warmupIters} for the
     * first {@code warmupIters} global iterations, and x{@code gamma} at the start of each milestone epoch.
     * Returns {@code lr(epoch, it)} packed as a schedule of the global iteration {@code it} given iterations per epoch.
     */
    static LrSchedule mpis(double baseLr, int warmupIters, List<Integer> milestoneEpochs, double gamma, int itersPerEpoch) {
        List<Integer> ms = new ArrayList<>(milestoneEpochs);
        java.util.Collections.sort(ms);
        return it -> {
            long iter = (long) Math.floor(it);
            long epoch = iter / itersPerEpoch;
            double lr = baseLr;
            for (int m : ms) if (m <= epoch) lr = lr * gamma;
            if (iter < warmupIters) return lr * (iter + 1) / warmupIters;
            return lr;
        };
    }
}
