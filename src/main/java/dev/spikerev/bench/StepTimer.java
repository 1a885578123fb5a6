package dev.spikerev.bench;

import dev.spikerev.bench.SpeedBench.Stats;
import dev.spikerev.models.FamilyModel;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Times the training step and inference of a {@link FamilyModel} with its reference loss, backward path and optimizer,
 * the way {@link SpeedBench#trevsnn} times T-RevSNN:
 * <ul>
 *   <li>training step = train-mode forward + reference loss ({@link FamilyModel#forwardLoss}) + zero_grad, then
 *   {@link FamilyModel#backward} (reversible / implicit paths run their own backward), then the optimizer step;</li>
 *   <li>inference = eval-mode {@link FamilyModel#predict} under no-grad.</li>
 * </ul>
 * Each call runs in its own {@code PointerScope}; {@code warmup} calls run first and are dropped.
 */
public final class StepTimer {
    private StepTimer() {}

    /** Medians (with spread) of the three phases of a training step. */
    public record Phases(Stats forwardLoss, Stats backward, Stats optimizer) {
        public String format() {
            return String.format("forward+loss %.4f, backward %.4f, optimizer %.4f", forwardLoss.median(), backward.median(),
                    optimizer.median());
        }
    }

    /** Whole-step, inference and per-phase timings in seconds. */
    public record Timing(Stats step, Stats inference, Phases phases) {}

    /** Times {@code steps} training steps and {@code steps} inference calls on the batch {@code x}, labels {@code y}. */
    public static Timing run(FamilyModel m, FamilyModel.Stepper opt, Tensor x, Tensor y, int steps, int warmup) {
        if (steps < 1 || warmup < 0) throw new IllegalArgumentException("--steps must be >= 1 and --warmup >= 0");
        double[] step = new double[steps], infer = new double[steps];
        double[][] ph = new double[3][steps];
        for (int i = 0; i < warmup + steps; i++) {
            long t0 = System.nanoTime(), t1, t2, t3;
            try (PointerScope scope = new PointerScope()) {
                Tensor[] lo = m.forwardLoss(x, y);
                opt.zeroGrad();
                t1 = System.nanoTime();
                m.backward(lo[1]);
                t2 = System.nanoTime();
                opt.step();
                t3 = System.nanoTime();
            }
            if (i >= warmup) {
                int k = i - warmup;
                ph[0][k] = (t1 - t0) / 1e9;
                ph[1][k] = (t2 - t1) / 1e9;
                ph[2][k] = (t3 - t2) / 1e9;
                step[k] = (System.nanoTime() - t0) / 1e9;
            }
        }
        m.module().train(false);
        for (int i = 0; i < warmup + steps; i++) {
            long t0 = System.nanoTime();
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                m.predict(x).sum().item_double(); // forces completion (no-op on CPU, kept for devices)
            }
            if (i >= warmup) infer[i - warmup] = (System.nanoTime() - t0) / 1e9;
        }
        return new Timing(Stats.of(step), Stats.of(infer), new Phases(Stats.of(ph[0]), Stats.of(ph[1]), Stats.of(ph[2])));
    }
}
