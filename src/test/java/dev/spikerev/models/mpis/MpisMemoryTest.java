package dev.spikerev.models.mpis;

import dev.spikerev.tensor.Natives;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static dev.spikerev.models.mpis.MpisAssert.report;
import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Memory of a training step does not grow with T: RSS held after the forward (the autograd graph of the one
 * differentiable step) and the step's peak RSS, for T = 4 and T = 32 with every simulation step executed
 * ({@code simulate_all_steps}), both gradient modes. Needs {@code MALLOC_MMAP_THRESHOLD_=65536} (set by surefire) so
 * freed tensors return to the OS.
 */
class MpisMemoryTest {
    @BeforeAll
    static void threads() { Natives.setThreads(2); }

    static long status(String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status")))
                if (l.startsWith(field + ":")) return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        throw new IllegalStateException(field);
    }

    static void resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    /** [held after forward, peak of forward+backward] above the RSS before the step, bytes. */
    static long[] step(MPISNet net, Tensor x, Tensor y) {
        System.gc();
        long base = status("VmRSS");
        resetPeak();
        long held, peak;
        try (PointerScope ps = new PointerScope()) {
            Tensor loss = cross_entropy(net.forward(x), y);
            held = status("VmRSS") - base;
            net.zero_grad(true);
            net.backward(loss);
            peak = status("VmHWM") - base;
        }
        return new long[]{held, peak};
    }

    @Test
    void trainingStepMemoryIsFlatInT() {
        assertEquals("65536", System.getenv("MALLOC_MMAP_THRESHOLD_"), "run with MALLOC_MMAP_THRESHOLD_=65536 (surefire sets it)");
        Map<String, Object> c = new java.util.LinkedHashMap<>(Map.of("kind", "static", "c_in", 3, "c_hidden", 32, "c_s1", 64,
                "c_s2", 64, "c_s3", 128, "h_hidden", 4, "w_hidden", 4, "num_classes", 10, "time_step", 4));
        for (String mode : new String[]{"one-step", "implicit"}) {
            MPISNet n4 = new MPISNet(MpisConfig.fromConstructor(c, Map.of("gradient", mode)));
            MPISNet n32 = new MPISNet(MpisConfig.fromConstructor(c, Map.of("gradient", mode)).withTimeStep(32));
            MpisStateDict.load(n32, MpisStateDict.of(n4));
            n4.train(true);
            n32.train(true);
            manual_seed(0);
            Tensor x = randn(16, 3, 32, 32), y = randint(10, new long[]{16}, new org.bytedeco.pytorch.TensorOptions(ScalarType.Long));
            step(n4, x, y);                                  // warm-up: allocator, kernels, parameter grads
            step(n32, x, y);
            long[] a4 = {Long.MAX_VALUE, Long.MAX_VALUE}, a32 = {Long.MAX_VALUE, Long.MAX_VALUE};
            for (int r = 0; r < 3; r++) {                    // min over repeats: robust to a stray GC/page
                long[] m4 = step(n4, x, y), m32 = step(n32, x, y);
                for (int i = 0; i < 2; i++) { a4[i] = Math.min(a4[i], m4[i]); a32[i] = Math.min(a32[i], m32[i]); }
            }
            report(String.format("memory (%s, batch 16, widths 32/64/64/128): held after forward T=4 %.1f MB, T=32 %.1f MB; "
                            + "peak of step T=4 %.1f MB, T=32 %.1f MB", mode, a4[0] / 1e6, a32[0] / 1e6, a4[1] / 1e6, a32[1] / 1e6));
            long slack = 2_000_000;
            assertTrue(Math.abs(a32[0] - a4[0]) <= 0.05 * a4[0] + slack, mode + ": held memory grows with T: " + a4[0] + " -> " + a32[0]);
            assertTrue(Math.abs(a32[1] - a4[1]) <= 0.05 * a4[1] + slack, mode + ": peak memory grows with T: " + a4[1] + " -> " + a32[1]);
        }
    }
}
