package dev.spikerev.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.bench.SpeedBench;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spikerev bench speed} on a fixture-size model (Java only; --compare-python needs a reference clone). */
class BenchSpeedTest {
    @TempDir Path tmp;

    @Test
    void speedWritesJson() throws Exception {
        Path json = tmp.resolve("speed.json");
        CliRun r = CliRun.of("bench", "speed", "--model", "2,4,6,8", "--classes", "10", "--img", "32", "--batch", "2",
                "--steps", "2", "--warmup", "1", "--threads", "1", "--json", json.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("java   train step median"), r.out());
        @SuppressWarnings("unchecked") Map<String, Object> m = new ObjectMapper().readValue(json.toFile(), Map.class);
        assertTrue(((Number) m.get("java_step_s")).doubleValue() > 0);
        assertNull(m.get("python_step_s"));
        assertNull(m.get("ratio"));
        assertEquals(1, m.get("threads"));
        assertTrue(m.containsKey("load_avg"));
    }

    @Test
    void comparePythonNeedsRefDir() {
        CliRun r = CliRun.of("bench", "speed", "--model", "2,4,6,8", "--compare-python");
        assertNotEquals(0, r.rc());
        assertTrue(r.err().contains("--ref-dir"), r.err());
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
