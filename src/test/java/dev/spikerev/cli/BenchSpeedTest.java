package dev.spikerev.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.bench.SpeedBench;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spikerev bench speed} on fixture-size models (Java only; --compare-python: see BenchComparePythonTest). */
class BenchSpeedTest {
    @TempDir Path tmp;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> read(Path json) throws Exception {
        return new ObjectMapper().readValue(json.toFile(), Map.class);
    }

    /** The fields every speed JSON has, Java-only run. */
    private static void assertSpeedShape(Map<String, Object> m, String family, int batch) {
        assertEquals(family, m.get("family"));
        assertTrue(((Number) m.get("java_step_s")).doubleValue() > 0, m.toString());
        assertTrue(((Number) m.get("java_infer_s")).doubleValue() > 0, m.toString());
        assertTrue(m.containsKey("python_step_s") && m.get("python_step_s") == null);
        assertTrue(m.containsKey("ratio") && m.get("ratio") == null);
        assertEquals(1, m.get("threads"));
        assertTrue(m.containsKey("load_avg"));
        assertEquals(batch, m.get("batch"));
        @SuppressWarnings("unchecked") Map<String, Object> ph = (Map<String, Object>) m.get("java_phases");
        for (String k : List.of("forward_loss_s", "backward_s", "optimizer_s"))
            assertTrue(((Number) ph.get(k)).doubleValue() > 0, k + " in " + ph);
        double sum = ((Number) ph.get("forward_loss_s")).doubleValue() + ((Number) ph.get("backward_s")).doubleValue()
                + ((Number) ph.get("optimizer_s")).doubleValue();
        @SuppressWarnings("unchecked") Map<String, Object> spread = (Map<String, Object>) m.get("java_step");
        assertTrue(sum <= ((Number) spread.get("max")).doubleValue() * 1.01 + 1e-3, "phases " + sum + " vs step " + spread);
    }

    @Test
    void speedWritesJson() throws Exception {
        Path json = tmp.resolve("speed.json");
        CliRun r = CliRun.of("bench", "speed", "--model", "2,4,6,8", "--classes", "10", "--img", "32", "--batch", "2",
                "--steps", "2", "--warmup", "1", "--threads", "1", "--json", json.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("java   train step median"), r.out());
        assertTrue(r.out().contains("java   step phases (median s): forward+loss"), r.out());
        Map<String, Object> m = read(json);
        assertSpeedShape(m, "t-revsnn", 2);
        assertEquals("2,4,6,8", m.get("model"));
        assertEquals(32, m.get("img"));
        assertTrue(r.out().contains("java   throughput: train "), r.out());
        assertEquals(2 / ((Number) m.get("java_step_s")).doubleValue(), ((Number) m.get("java_train_img_per_s")).doubleValue(), 1e-9);
        assertNull(m.get("cuda_memory"), "CUDA allocator figures only on a CUDA device");
    }

    @Test
    void revsnnFixtureSizeWritesJson() throws Exception {
        Path json = tmp.resolve("revsnn.json");
        CliRun r = CliRun.of("bench", "speed", "--family", "revsnn", "--model", "revsresnet-tiny", "--T", "2", "--classes", "10",
                "--batch", "2", "--steps", "2", "--warmup", "1", "--threads", "1", "--json", json.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("revsnn revsresnet-tiny batch 2 T 2"), r.out());
        Map<String, Object> m = read(json);
        assertSpeedShape(m, "revsnn", 2);
        assertEquals("revsresnet-tiny", m.get("model"));
        assertEquals(2, m.get("T"));
        assertEquals("reversible", m.get("backward"));
        @SuppressWarnings("unchecked") Map<String, Object> c = (Map<String, Object>) m.get("constructor");
        assertEquals("RevSResNet", c.get("cls"));
        assertEquals(List.of(4, 8, 8, 16), c.get("planes"));
        assertEquals(10, c.get("num_classes"));
        assertEquals(true, c.get("channels_last"));
        @SuppressWarnings("unchecked") Map<String, Object> o = (Map<String, Object>) m.get("optimizer");
        assertEquals("SGD", o.get("name"));
    }

    @Test
    void revsnnNchwRecordsTheLayout() throws Exception {
        Path json = tmp.resolve("nchw.json");
        CliRun r = CliRun.of("bench", "speed", "--family", "revsnn", "--model", "revsresnet-tiny", "--T", "1", "--classes", "10",
                "--nchw", "--batch", "1", "--steps", "1", "--warmup", "0", "--threads", "1", "--json", json.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertEquals(false, ((Map<?, ?>) read(json).get("constructor")).get("channels_last"));
    }

    @Test
    void revsformerPlainRuns() throws Exception {
        Path json = tmp.resolve("former.json");
        CliRun r = CliRun.of("bench", "speed", "--family", "revsnn", "--model", "revsformer-1-32", "--T", "1", "--plain",
                "--batch", "1", "--steps", "1", "--warmup", "0", "--threads", "1", "--json", json.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        Map<String, Object> m = read(json);
        assertEquals("plain", m.get("backward"));
        @SuppressWarnings("unchecked") Map<String, Object> c = (Map<String, Object>) m.get("constructor");
        assertEquals(4, c.get("num_heads"));
        assertEquals(1, c.get("depths"));
        assertEquals("AdamW", ((Map<?, ?>) m.get("optimizer")).get("name"));
    }

    @Test
    void mpisFixtureSizeWritesJson() throws Exception {
        Path json = tmp.resolve("mpis.json");
        CliRun r = CliRun.of("bench", "speed", "--family", "mpis", "--model", "cifar-fixture", "--batch", "2",
                "--steps", "2", "--warmup", "1", "--threads", "1", "--json", json.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        Map<String, Object> m = read(json);
        assertSpeedShape(m, "mpis", 2);
        assertEquals(4, m.get("T"), "the fixture's T");
        assertEquals("one-step", m.get("gradient"));
        assertEquals(false, m.get("simulate_all_steps"), "default: the unread simulation steps are skipped");
        assertTrue(r.out().contains("simulation steps 1..T-1 skipped"), r.out());
        @SuppressWarnings("unchecked") Map<String, Object> c = (Map<String, Object>) m.get("constructor");
        assertEquals("static", c.get("kind"));
        assertEquals(24, c.get("c_s3"));
        assertEquals(16, c.get("fusion_channels"));
        assertFalse(c.containsKey("simulate_all_steps"), "the reference's constructor takes no such argument");

        r = CliRun.of("bench", "speed", "--family", "mpis", "--model", "cifar-fixture", "--batch", "2", "--simulate-all-steps",
                "--steps", "2", "--warmup", "1", "--threads", "1", "--json", json.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertEquals(true, read(json).get("simulate_all_steps"));
        assertTrue(r.out().contains("all T simulation steps"), r.out());
    }

    @Test
    void mpisNeuroImplicitRuns() throws Exception {
        Path json = tmp.resolve("neuro.json");
        CliRun r = CliRun.of("bench", "speed", "--family", "mpis", "--model", "nmnist-fixture", "--T", "2", "--gradient", "implicit",
                "--batch", "1", "--steps", "1", "--warmup", "0", "--threads", "1", "--json", json.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        Map<String, Object> m = read(json);
        assertEquals("implicit", m.get("gradient"));
        assertEquals(2, m.get("T"));
        assertEquals("neuro", ((Map<?, ?>) m.get("constructor")).get("kind"));
    }

    @Test
    void comparePythonNeedsRefDir() {
        CliRun r = CliRun.of("bench", "speed", "--model", "2,4,6,8", "--compare-python");
        assertNotEquals(0, r.rc());
        assertTrue(r.err().contains("--ref-dir"), r.err());
        r = CliRun.of("bench", "speed", "--family", "mpis", "--compare-python");
        assertNotEquals(0, r.rc());
        assertTrue(r.err().contains("kiritozc/MPIS-SNNs"), r.err());
    }

    @Test
    void badFlagsAreOneLineErrors() {
        assertOneLineError(List.of("--family", "snn"), "unknown family 'snn' (available: t-revsnn, revsnn, mpis)");
        assertOneLineError(List.of("--family", "revsnn", "--model", "resnet18"), "revsresnet21, revsresnet37");
        assertOneLineError(List.of("--family", "mpis", "--model", "cifar"), "cifar-fixture, cifar-small");
        assertOneLineError(List.of("--family", "revsnn", "--gradient", "implicit"), "--gradient applies to --family mpis only");
        assertOneLineError(List.of("--family", "revsnn", "--simulate-all-steps"), "--simulate-all-steps applies to --family mpis only");
        assertOneLineError(List.of("--family", "mpis", "--nchw"), "--nchw applies to revsnn RevSResNet only");
        assertOneLineError(List.of("--family", "mpis", "--gradient", "bptt"), "one-step, implicit");
        assertOneLineError(List.of("--family", "mpis", "--plain"), "--plain does not apply to mpis");
        assertOneLineError(List.of("--family", "revsnn", "--img", "64"), "--img applies to --family t-revsnn only");
        assertOneLineError(List.of("--family", "t-revsnn", "--T", "4"), "--T applies to --family revsnn and mpis only");
        assertOneLineError(List.of("--family", "mpis", "--gradient", "implicit", "--compare-python", "--ref-dir", "x"),
                "only has the one-step gradient");
        assertOneLineError(List.of("--family", "revsnn", "--model", "revsformer-2-36", "--heads", "5"), "divisible");
        assertOneLineError(List.of("--rounds", "2"), "--rounds applies with --compare-python only");
        assertOneLineError(List.of("--rounds", "0"), "--rounds must be >= 1, found 0");
    }

    private static void assertOneLineError(List<String> flags, String expected) {
        List<String> args = new java.util.ArrayList<>(List.of("bench", "speed"));
        args.addAll(flags);
        CliRun r = CliRun.of(args.toArray(new String[0]));
        assertEquals(ExitCodes.INVALID_INPUT, r.rc(), flags + ": " + r.out() + r.err());
        assertTrue(r.err().contains(expected), flags + ": " + r.err());
        assertEquals(1, r.err().strip().split("\n").length, "one line: " + r.err());
    }

    @Test
    void statsQuartiles() {
        SpeedBench.Stats s = SpeedBench.Stats.of(new double[]{4, 1, 3, 2, 5});
        assertEquals(3, s.median());
        assertEquals(1, s.min());
        assertEquals(5, s.max());
        assertEquals(2, s.q1());
        assertEquals(4, s.q3());
    }
}
