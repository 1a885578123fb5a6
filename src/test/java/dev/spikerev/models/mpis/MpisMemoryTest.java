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
 * ({@code simulate_all_steps}), both gradient modes, each in a fresh JVM with {@code MALLOC_MMAP_THRESHOLD_=65536}
 * so freed tensors return to the OS.
 */
@org.junit.jupiter.api.Tag("memory")
@org.junit.jupiter.api.Tag("slow")
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

    /**
     * Entry point of one measurement in a fresh JVM: {@code <gradient mode> <T>} → prints {@code held peak} (bytes,
     * min over 3 repeats after a warm-up step). A fresh process per variant, because a long test JVM keeps freed heap
     * holes that later allocations reuse without touching RSS.
     */
    public static void main(String[] args) {
        Natives.setThreads(2);
        manual_seed(0);
        Map<String, Object> c = new java.util.LinkedHashMap<>(Map.of("kind", "static", "c_in", 3, "c_hidden", 32, "c_s1", 64,
                "c_s2", 64, "c_s3", 128, "h_hidden", 4, "w_hidden", 4, "num_classes", 10, "time_step", Integer.parseInt(args[1])));
        MPISNet net = new MPISNet(MpisConfig.fromConstructor(c, Map.of("gradient", args[0], "simulate_all_steps", true)));
        net.train(true);
        Tensor x = randn(16, 3, 32, 32), y = randint(10, new long[]{16}, new org.bytedeco.pytorch.TensorOptions(ScalarType.Long));
        step(net, x, y);
        long[] best = {Long.MAX_VALUE, Long.MAX_VALUE};
        for (int r = 0; r < 3; r++) {
            long[] m = step(net, x, y);
            best[0] = Math.min(best[0], m[0]);
            best[1] = Math.min(best[1], m[1]);
        }
        System.out.println("MEM " + best[0] + " " + best[1]);
    }

    static long[] measure(String mode, int t) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), MpisMemoryTest.class.getName(), mode, Integer.toString(t));
        pb.environment().put("MALLOC_MMAP_THRESHOLD_", "65536");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        for (String l : out.split("\n"))
            if (l.startsWith("MEM ")) {
                String[] f = l.split(" ");
                return new long[]{Long.parseLong(f[1]), Long.parseLong(f[2])};
            }
        throw new AssertionError("no measurement in output:\n" + out);
    }

    @Test
    void trainingStepMemoryIsFlatInT() throws Exception {
        for (String mode : new String[]{"one-step", "implicit"}) {
            long[] a4 = measure(mode, 4), a32 = measure(mode, 32);
            report(String.format("memory (%s, batch 16, widths 32/64/64/128, fresh JVM each): held after forward T=4 %.1f MB, T=32 %.1f MB; "
                            + "peak of step T=4 %.1f MB, T=32 %.1f MB", mode, a4[0] / 1e6, a32[0] / 1e6, a4[1] / 1e6, a32[1] / 1e6));
            assertTrue(a4[0] > 10_000_000, "measurement looks broken (held " + a4[0] + " bytes)");
            long slack = 2_000_000;
            assertTrue(Math.abs(a32[0] - a4[0]) <= 0.05 * a4[0] + slack, mode + ": held memory grows with T: " + a4[0] + " -> " + a32[0]);
            assertTrue(Math.abs(a32[1] - a4[1]) <= 0.05 * a4[1] + slack, mode + ": peak memory grows with T: " + a4[1] + " -> " + a32[1]);
        }
    }
}
