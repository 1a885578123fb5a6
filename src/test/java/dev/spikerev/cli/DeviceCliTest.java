package dev.spikerev.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.testutil.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --device} / {@code train.device} / {@code train.amp} through the real command line on this CPU-only build:
 * asking for CUDA is a one-line user error (exit 2) from every command, before any data or model work, never a
 * native crash; fp16 on the CPU is refused the same way; {@code --device cpu} runs as before.
 */
class DeviceCliTest {
    static final String CONFIG = "configs/trevsnn-mnist.yaml";
    @TempDir Path tmp;

    /** Exit 2, exactly one stderr line starting with "error: " that contains {@code text}, nothing native. */
    static void userError(CliRun r, String text) {
        assertEquals(ExitCodes.INVALID_INPUT, r.rc(), r.out() + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line expected:\n" + err);
        assertTrue(err.startsWith("error: ") && err.contains(text), err);
        assertFalse(err.contains("Exception") || err.contains("c10::"), err);
    }

    @Test
    void trainRejectsCudaOnACpuBuild() {
        userError(CliRun.of("train", "--config", CONFIG, "--out", tmp.toString(), "--device", "cuda:0"),
                "--device: cuda:0 requested but no CUDA device is available");
        userError(CliRun.of("train", "--config", CONFIG, "--out", tmp.toString(), "--set", "train.device=cuda"),
                "train.device: cuda:0 requested but no CUDA device is available");
        userError(CliRun.of("train", "--config", CONFIG, "--out", tmp.toString(), "--nproc", "2", "--device", "cuda:1"),
                "cuda:1 requested but no CUDA device is available");
        userError(CliRun.of("train", "--config", CONFIG, "--out", tmp.toString(), "--device", "tpu"),
                "'tpu' is not a device (allowed: cpu, cuda, cuda:N)");
    }

    @Test
    void trainRejectsFp16OnTheCpuAndUnknownAmpModes() {
        userError(CliRun.of("train", "--config", CONFIG, "--out", tmp.toString(), "--set", "train.amp=fp16"),
                "train.amp fp16: fp16 autocast needs CUDA");
        userError(CliRun.of("train", "--config", CONFIG, "--out", tmp.toString(), "--set", "train.amp=half"),
                "'train.amp' must be one of none, bf16, fp16, found 'half'");
    }

    @Test
    void evalRejectsCudaOnACpuBuild() {
        userError(CliRun.of("eval", "--config", CONFIG, "--checkpoint", tmp.resolve("none.pth").toString(), "--device", "cuda:0"),
                "--device: cuda:0 requested but no CUDA device is available");
        userError(CliRun.of("eval", "--config", CONFIG, "--checkpoint", tmp.resolve("none.pth").toString(), "--set", "train.device=cuda:2"),
                "train.device: cuda:2 requested but no CUDA device is available");
    }

    @Test
    void parityAndBenchRejectCudaOnACpuBuild() {
        String fixture = Fixtures.of("t-revsnn", "k3_rev").toString();
        userError(CliRun.of("parity", "--fixture", fixture, "--device", "cuda:0"), "--device: cuda:0 requested but no CUDA device is available");
        userError(CliRun.of("parity", "--fixture", fixture, "--device", "gpu"), "'gpu' is not a device");
        userError(CliRun.of("bench", "speed", "--device", "cuda"), "--device: cuda:0 requested but no CUDA device is available");
        userError(CliRun.of("bench", "speed", "--amp", "fp16"), "fp16 autocast needs CUDA");
    }

    @Test
    void parityOnCpuDeviceStillPasses() {
        CliRun r = CliRun.of("parity", "--fixture", Fixtures.of("t-revsnn", "k3_rev").toString(), "--device", "cpu", "--threads", "1");
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("parity: ") && l.contains("passed")), r.out());
        assertFalse(r.out().contains("FAIL"), r.out());
    }
}
