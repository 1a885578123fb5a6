package dev.spikerev.bench;

import dev.spikerev.models.trevsnn.TRevSNN;
import dev.spikerev.models.trevsnn.TRevSNNConfig;
import dev.spikerev.models.trevsnn.TRevSNNFamily;
import dev.spikerev.tensor.CudaMemory;
import dev.spikerev.tensor.Devices;
import dev.spikerev.train.Autocast;
import dev.spikerev.train.GradScaler;
import dev.spikerev.train.GradClip;
import dev.spikerev.train.Lamb;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * Wall-clock speed of T-RevSNN (CPU by default, or a CUDA device), the reference recipe (spec 8.3; fp32 unless an amp
 * mode is given):
 * <ul>
 *   <li>training step = train-mode forward + compound loss (label smoothing 0.1) + zero_grad + backward (reversible
 *   when save_memory) + adaptive gradient clipping (0.02) + timm Lamb step (lr 2e-3, trust_clip, global-norm clip 1);</li>
 *   <li>inference = eval-mode forward under no-grad.</li>
 * </ul>
 * Each measured call runs in its own {@code PointerScope}; {@code warmup} calls are run and dropped first.
 * Weights: the reference initialisation with {@code manual_seed(0)}; input {@code randn}, labels {@code randint}.
 */
public final class SpeedBench {
    private SpeedBench() {}

    /** Order statistics of timings in seconds (quartiles by linear interpolation, as numpy's default). */
    public record Stats(double median, double min, double max, double q1, double q3, int n) {
        public static Stats of(double[] xs) {
            double[] s = xs.clone();
            Arrays.sort(s);
            return new Stats(quantile(s, 0.5), s[0], s[s.length - 1], quantile(s, 0.25), quantile(s, 0.75), s.length);
        }

        static double quantile(double[] sorted, double q) {
            double pos = q * (sorted.length - 1);
            int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
        }

        public String format() {
            return String.format("median %.4f s (min %.4f, max %.4f, IQR %.4f..%.4f, n=%d)", median, min, max, q1, q3, n);
        }
    }

    /**
     * One measured configuration. On CUDA, {@code cudaMemory} holds the caching allocator's bytes (as Python's
     * {@code torch.cuda.max_memory_allocated}) over the measured calls: {@code train_base_bytes} held when the measured
     * training steps start (weights, optimizer state, batch), {@code train_peak_bytes} the peak during them, and the same
     * for inference; empty on the CPU.
     */
    public record Result(String model, int kernel, int classes, int img, int batch, int threads, boolean saveMemory,
                         Stats step, Stats inference, java.util.Map<String, Double> phases,
                         java.util.Map<String, Long> cudaMemory) {}

    public static TRevSNNConfig config(String model, int kernel, int classes, boolean saveMemory) {
        long[] ch = MemoryBench.channels(model).stream().mapToLong(Integer::longValue).toArray();
        return new TRevSNNConfig(ch, new long[]{1, 1, 1, 1}, 4, kernel, classes, 0.0, saveMemory, true, false, 3, 0);
    }

    public static Result trevsnn(String model, int kernel, int classes, int img, int batch, int threads, int steps,
                                 int warmup, boolean saveMemory) {
        return trevsnn(model, kernel, classes, img, batch, threads, steps, warmup, saveMemory, new Devices.Spec("cpu", -1),
                Autocast.Mode.NONE);
    }

    /**
     * As above with the model, data and optimizer state on {@code device} and forward + loss + backward under
     * {@code amp} autocast (bf16, or fp16 on CUDA with a {@link GradScaler}). On CUDA every timed call ends with a
     * device synchronize, so the times are those of the finished work.
     */
    public static Result trevsnn(String model, int kernel, int classes, int img, int batch, int threads, int steps,
                                 int warmup, boolean saveMemory, Devices.Spec device, Autocast.Mode amp) {
        Autocast.check(amp, device);
        if (img % 16 != 0) throw new IllegalArgumentException("--img must be a multiple of 16, found " + img);
        if (steps < 1 || warmup < 0 || batch < 1) throw new IllegalArgumentException("--steps >= 1, --warmup >= 0, --batch >= 1");
        set_num_threads(threads);
        manual_seed(0);
        TRevSNN net = new TRevSNN(config(model, kernel, classes, saveMemory));
        Device dev = device.isCuda() ? device.device() : null;
        Devices.to(net, dev);
        Tensor x = Devices.to(randn(batch, 3, img, img), dev);
        Tensor y = Devices.to(randint(classes, new long[]{batch}, new TensorOptions(ScalarType.Long)), dev);
        GradScaler scaler = amp == Autocast.Mode.FP16 ? new GradScaler() : null;
        double[] stepTimes = new double[steps], inferTimes = new double[steps];
        double[][] phases = new double[4][steps];
        java.util.Map<String, Long> mem = new java.util.LinkedHashMap<>();
        try (Lamb opt = TRevSNNFamily.lambOptimizer(net, 2e-3, 0.01, 1e-8, new double[]{0.9, 0.999}, 1.0, true)) {
            List<Tensor> params = opt.params();
            for (int i = 0; i < warmup + steps; i++) {
                if (i == warmup) memoryWindow(device, mem, "train");
                long t0 = System.nanoTime();
                try (PointerScope scope = new PointerScope()) {
                    net.train(true);
                    long t1, t2;
                    try (Autocast ac = Autocast.enter(amp, device)) {
                        List<Tensor> heads = net.forward(x);
                        Tensor loss = TRevSNNFamily.compoundLoss(heads, y, 0.1);
                        opt.zeroGrad();
                        sync(device);
                        t1 = System.nanoTime();
                        net.backward(scaler == null ? loss : scaler.scale(loss));
                        sync(device);
                        t2 = System.nanoTime();
                    }
                    if (scaler != null) scaler.unscale(params);
                    GradClip.adaptiveClipGrad(params, 0.02, 1e-3, 2.0);
                    sync(device);
                    long t3 = System.nanoTime();
                    if (scaler == null) {
                        opt.step();
                    } else {
                        scaler.step(opt);
                        scaler.update();
                    }
                    sync(device);
                    if (i >= warmup) {
                        long t4 = System.nanoTime();
                        phases[0][i - warmup] = (t1 - t0) / 1e9;
                        phases[1][i - warmup] = (t2 - t1) / 1e9;
                        phases[2][i - warmup] = (t3 - t2) / 1e9;
                        phases[3][i - warmup] = (t4 - t3) / 1e9;
                    }
                }
                if (i >= warmup) stepTimes[i - warmup] = (System.nanoTime() - t0) / 1e9;
            }
            memoryPeak(device, mem, "train");
            net.train(false);
            for (int i = 0; i < warmup + steps; i++) {
                if (i == warmup) memoryWindow(device, mem, "infer");
                long t0 = System.nanoTime();
                try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard();
                     Autocast ac = Autocast.enter(amp, device)) {
                    List<Tensor> heads = net.forward(x);
                    heads.get(heads.size() - 1).sum().item_double(); // forces completion (no-op on CPU, kept for devices)
                }
                if (i >= warmup) inferTimes[i - warmup] = (System.nanoTime() - t0) / 1e9;
            }
            memoryPeak(device, mem, "infer");
        }
        java.util.Map<String, Double> ph = new java.util.LinkedHashMap<>();
        ph.put("forward_loss_s", Stats.of(phases[0]).median());
        ph.put("backward_s", Stats.of(phases[1]).median());
        ph.put("agc_s", Stats.of(phases[2]).median());
        ph.put("lamb_s", Stats.of(phases[3]).median());
        ph.put("optimizer_s", ph.get("agc_s") + ph.get("lamb_s"));
        return new Result(model, kernel, classes, img, batch, threads, saveMemory, Stats.of(stepTimes), Stats.of(inferTimes), ph, mem);
    }

    /** CUDA: records the bytes held now as {@code <what>_base_bytes} and starts a new peak window. */
    static void memoryWindow(Devices.Spec device, java.util.Map<String, Long> mem, String what) {
        if (!device.isCuda()) return;
        sync(device);
        mem.put(what + "_base_bytes", CudaMemory.allocated(device.index()));
        CudaMemory.resetPeak(device.index());
    }

    /** CUDA: records the peak since {@link #memoryWindow} as {@code <what>_peak_bytes}. */
    static void memoryPeak(Devices.Spec device, java.util.Map<String, Long> mem, String what) {
        if (!device.isCuda()) return;
        sync(device);
        mem.put(what + "_peak_bytes", CudaMemory.peakAllocated(device.index()));
    }

    /** Waits for the device's queued work (CUDA); nothing on the CPU. */
    static void sync(Devices.Spec device) {
        if (device.isCuda()) cuda_synchronize();
    }

    /** 1-, 5- and 15-minute load averages from {@code /proc/loadavg} (empty where unavailable). */
    public static double[] loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return new double[]{Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
        } catch (IOException | RuntimeException e) {
            return new double[0];
        }
    }

    static List<Double> list(double[] a) {
        List<Double> l = new ArrayList<>();
        for (double d : a) l.add(d);
        return l;
    }
}
