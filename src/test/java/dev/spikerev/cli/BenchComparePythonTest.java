package dev.spikerev.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.testutil.Python;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench speed --compare-python} through {@code tools/bench_reference.py}. Without a reference clone (CI): the
 * script's own argument and clone checks. With {@code -Dspikerev.revsnn.ref=DIR} (a clone of mi804/RevSNN),
 * {@code -Dspikerev.mpis.ref=DIR} (kiritozc/MPIS-SNNs) or {@code -Dspikerev.trevsnn.ref=DIR} (BICLab/T-RevSNN), and
 * optionally {@code -Dspikerev.refpython=PY}, a tiny run of each family with the Java/Python ratio in the JSON.
 */
class BenchComparePythonTest {
    @TempDir Path tmp;

    private static final Path SCRIPT = Path.of("tools", "bench_reference.py");

    @Test
    void scriptRefusesMissingCtorAndNonClones() {
        Python.Result r = Python.runFile(null, SCRIPT, "--family", "revsnn", "--ref-dir", ".");
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("--ctor"), r.err());
        String ctor = "{\"cls\":\"RevSResNet\",\"layers\":[1,1,1,1],\"planes\":[4,8,8,16],\"num_classes\":10,\"T\":2}";
        r = Python.runFile(null, SCRIPT, "--family", "revsnn", "--ref-dir", tmp.toString(), "--ctor", ctor);
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("not a RevSNN clone"), r.err());
        r = Python.runFile(null, SCRIPT, "--family", "mpis", "--ref-dir", tmp.toString(), "--ctor", "{\"kind\":\"static\"}");
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("not an MPIS-SNNs clone"), r.err());
    }

    @Test
    void failingReferenceIsAOneLineError() {
        CliRun r = CliRun.of("bench", "speed", "--family", "revsnn", "--model", "revsresnet-tiny", "--T", "1", "--batch", "1",
                "--steps", "1", "--warmup", "0", "--threads", "1", "--compare-python", "--ref-dir", tmp.toString(),
                "--python", Python.interpreter());
        assertEquals(ExitCodes.INVALID_INPUT, r.rc(), r.out() + r.err());
        assertTrue(r.err().contains("bench_reference.py failed") && r.err().contains("not a RevSNN clone"), r.err());
    }

    private Map<String, Object> compare(String refProperty, String... flags) throws Exception {
        String ref = System.getProperty(refProperty);
        Assumptions.assumeTrue(ref != null && !ref.isBlank(), "-D" + refProperty + "=DIR not set");
        // the pom points spikerev.revsnn.ref at ../ref/revsnn by default: run only where that is a real clone
        Assumptions.assumeTrue(isClone(Path.of(ref), refProperty), refProperty + "=" + ref + " is not a clone of the reference");
        String py = System.getProperty("spikerev.refpython");
        Path json = tmp.resolve("cmp.json");
        List<String> args = new ArrayList<>(List.of("bench", "speed", "--batch", "2", "--steps", "2", "--warmup", "1",
                "--threads", "1", "--compare-python", "--ref-dir", ref, "--python", py == null || py.isBlank() ? Python.interpreter() : py,
                "--json", json.toString()));
        args.addAll(List.of(flags));
        CliRun r = CliRun.of(args.toArray(new String[0]));
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().matches("(?s).*ratio java/python[^\\n]*train step.*"), r.out());
        assertTrue(r.out().contains("python step phases (median s): forward+loss"), r.out());
        @SuppressWarnings("unchecked") Map<String, Object> m = new ObjectMapper().readValue(json.toFile(), Map.class);
        double j = ((Number) m.get("java_step_s")).doubleValue(), p = ((Number) m.get("python_step_s")).doubleValue();
        assertTrue(p > 0, m.toString());
        assertEquals(j / p, ((Number) m.get("ratio")).doubleValue(), 1e-9);
        assertTrue(((Number) m.get("python_infer_s")).doubleValue() > 0);
        assertTrue(m.get("python_phases") instanceof Map<?, ?>, m.toString());
        return m;
    }

    /** The files {@code tools/bench_reference.py} imports from a clone of each reference (or the clone's model folder). */
    private static boolean isClone(Path d, String refProperty) {
        String[] markers = switch (refProperty) {
            case "spikerev.revsnn.ref" -> new String[]{"revtorch.py", "cifar10/revtorch.py"};
            case "spikerev.mpis.ref" -> new String[]{"models/MPIS_SNNs.py"};
            default -> new String[]{"models/spike_rev_reuse.py"};
        };
        for (String m : markers) if (java.nio.file.Files.exists(d.resolve(m))) return true;
        return false;
    }

    @Test
    void revsnnAgainstTheReference() throws Exception {
        Map<String, Object> m = compare("spikerev.revsnn.ref", "--family", "revsnn", "--model", "revsresnet-tiny", "--T", "2", "--classes", "10");
        assertEquals("revsnn", m.get("family"));
        assertTrue(((Map<?, ?>) m.get("python_versions")).containsKey("spikingjelly"), m.toString());
    }

    @Test
    void revsformerPlainAgainstTheReference() throws Exception {
        compare("spikerev.revsnn.ref", "--family", "revsnn", "--model", "revsformer-1-32", "--T", "1", "--plain");
    }

    @Test
    void mpisAgainstTheReference() throws Exception {
        Map<String, Object> m = compare("spikerev.mpis.ref", "--family", "mpis", "--model", "cifar-fixture", "--rounds", "3");
        // paired rounds: the reported ratio is the median round's
        List<?> rounds = (List<?>) m.get("rounds");
        assertEquals(3, rounds.size(), m.toString());
        List<Double> ratios = new ArrayList<>();
        for (Object o : rounds) ratios.add(((Number) ((Map<?, ?>) o).get("ratio")).doubleValue());
        ratios.sort(null);
        assertEquals(ratios.get(1), ((Number) m.get("ratio")).doubleValue(), 1e-12);
        compare("spikerev.mpis.ref", "--family", "mpis", "--model", "nmnist-fixture", "--T", "2");
    }

    @Test
    void trevsnnAgainstTheReference() throws Exception {
        compare("spikerev.trevsnn.ref", "--model", "2,4,6,8", "--classes", "10", "--img", "32");
    }
}
