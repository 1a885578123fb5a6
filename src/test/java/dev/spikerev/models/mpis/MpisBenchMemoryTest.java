package dev.spikerev.models.mpis;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.cli.SpikeRev;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.spikerev.models.mpis.MpisAssert.report;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code spikerev bench memory --family mpis}: bytes per image held after the forward, per T, for the one-step and
 * implicit gradients (flat in T, ±5 %) and the BPTT-unrolled network (growing), each row in a fresh JVM.
 */
class MpisBenchMemoryTest {
    @TempDir Path tmp;

    static String run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = SpikeRev.commandLine(new PrintWriter(out), new PrintWriter(err)).execute(args);
        String text = out.toString() + err;
        assertEquals(0, rc, text);
        return text;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Long> rows(Path json) throws Exception {
        Map<String, Object> doc = new ObjectMapper().readValue(json.toFile(), Map.class);
        assertEquals("mpis", doc.get("family"));
        Map<String, Long> out = new HashMap<>();
        for (Map<String, Object> r : (List<Map<String, Object>>) doc.get("rows")) {
            // gradient rows: variant "reference" (one-step, the reference's gradient) or "implicit"; keyed by gradient
            Object g = r.get("gradient");
            if ("one-step".equals(g)) assertEquals("reference", r.get("variant"), r.toString());
            out.put((g != null ? g : r.get("variant")) + "@" + r.get("T"), ((Number) r.get("bytes_per_image")).longValue());
        }
        return out;
    }

    @Test
    void flatInTForBothGradientsGrowingForBptt() throws Exception {
        Path json = tmp.resolve("mem.json");
        String text = run("bench", "memory", "--family", "mpis", "--model", "cifar-small", "--batch", "8", "--T", "4,16",
                "--gradient", "one-step,implicit", "--bptt-max-T", "16", "--reps", "3", "--json", json.toString());
        report("bench memory --family mpis:\n" + text);
        Map<String, Long> r = rows(json);
        assertEquals(6, r.size(), r.toString());
        for (String v : new String[]{"one-step", "implicit"}) {
            long a = r.get(v + "@4"), b = r.get(v + "@16");
            assertTrue(a > 500_000, v + ": measurement looks broken (" + a + " bytes/image)");
            assertTrue(Math.abs(b - a) <= 0.05 * a, v + ": per-image memory not flat in T: " + a + " -> " + b);
        }
        long b4 = r.get("bptt@4"), b16 = r.get("bptt@16");
        assertTrue(b16 > 2.5 * b4, "BPTT must grow with T: " + b4 + " -> " + b16);
        assertTrue(b4 > r.get("one-step@4"), "BPTT holds more than the one-step graph already at T=4");
        assertTrue(text.contains("flat in T"), text);
    }

    @Test
    void inProcessRowsAndArgumentChecks() throws Exception {
        Path json = tmp.resolve("small.json");
        String text = run("bench", "memory", "--family", "mpis", "--model", "nmnist-small", "--batch", "2", "--T", "2",
                "--bptt-max-T", "2", "--reps", "1", "--in-process", "--json", json.toString());
        assertTrue(text.contains("all rows in this JVM"), text);
        assertEquals(3, rows(json).size(), text);
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = SpikeRev.commandLine(new PrintWriter(out), new PrintWriter(err))
                .execute("bench", "memory", "--family", "mpis", "--gradient", "bptt");
        assertNotEquals(0, rc);
        assertTrue((out.toString() + err).contains("--bptt-max-T"), out.toString() + err);
        rc = SpikeRev.commandLine(new PrintWriter(out), new PrintWriter(err)).execute("bench", "memory", "--family", "mpis", "--model", "huge");
        assertNotEquals(0, rc);
        assertTrue((out.toString() + err).contains("cifar-small"), out.toString() + err);
    }
}
