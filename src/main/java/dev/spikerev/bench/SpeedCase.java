package dev.spikerev.bench;

import dev.spikerev.bench.StepTimer.Timing;
import java.util.Map;

/**
 * One timed configuration of a family other than T-RevSNN ({@link RevSNNSpeed}, {@link MpisSpeed}).
 *
 * @param family      revsnn | mpis
 * @param model       the {@code --model} name
 * @param batch       images per step
 * @param timeSteps   T
 * @param constructor the reference constructor arguments (reference names), also handed to tools/bench_reference.py
 * @param optimizer   the reference optimizer (meta.json layout: name, lr, ...)
 * @param variant     how backward runs: reversible | plain (revsnn), one-step | implicit (mpis)
 * @param timing      step, inference and phase timings
 */
public record SpeedCase(String family, String model, int batch, int timeSteps, Map<String, Object> constructor,
                        Map<String, Object> optimizer, String variant, Timing timing) {}
