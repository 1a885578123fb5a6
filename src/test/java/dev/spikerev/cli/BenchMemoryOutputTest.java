package dev.spikerev.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spikerev bench memory --json / --plot} on fixture-size models: the JSON shape
 * ({@code {"family", "rows": [{"variant", "subnets"|"depth"|"T", "bytes_per_image", ...}]}}) and a readable PNG.
 * The byte counts themselves are RSS deltas (see the memory-tagged tests); here only their presence and type.
 */
class BenchMemoryOutputTest {
    @TempDir Path tmp;

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rows(Path json, String family) throws Exception {
        Map<String, Object> m = new ObjectMapper().readValue(json.toFile(), Map.class);
        assertEquals(family, m.get("family"));
        List<Map<String, Object>> rows = (List<Map<String, Object>>) m.get("rows");
        assertFalse(rows.isEmpty());
        for (Map<String, Object> r : rows) {
            assertTrue(Set.of("reversible", "plain", "bptt", "reference", "implicit").contains(r.get("variant")), r.toString());
            assertTrue(r.get("bytes_per_image") instanceof Number, r.toString());
            assertTrue(r.get("peak_bytes_per_image") instanceof Number, r.toString());
        }
        return rows;
    }

    private static void assertPng(Path png, int panels) throws Exception {
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "a PNG at " + png);
        assertTrue(img.getWidth() >= 600 && img.getHeight() >= 300 * panels, img.getWidth() + "x" + img.getHeight());
        boolean colored = false; // at least one line pixel in a series colour (not grey / black / white)
        for (int y = 0; y < img.getHeight() && !colored; y += 2)
            for (int x = 0; x < img.getWidth() && !colored; x += 2) {
                int p = img.getRGB(x, y), r = (p >> 16) & 255, g = (p >> 8) & 255, b = p & 255;
                colored = Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 80;
            }
        assertTrue(colored, "the plot draws coloured series");
    }

    @Test
    void trevsnnSubnetsJsonAndPlot() throws Exception {
        Path json = tmp.resolve("mem.json"), png = tmp.resolve("mem.png");
        CliRun r = CliRun.of("bench", "memory", "--family", "t-revsnn", "--model", "2,4,6,8", "--img", "32", "--batch", "2",
                "--subnets", "4,8", "--reps", "1", "--classes", "10", "--threads", "1", "--json", json.toString(), "--plot", png.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        List<Map<String, Object>> rows = rows(json, "t-revsnn");
        assertEquals(4, rows.size());
        assertEquals(List.of("reversible", "reversible", "plain", "plain"), rows.stream().map(x -> x.get("variant")).toList());
        assertEquals(List.of(4, 8, 4, 8), rows.stream().map(x -> x.get("subnets")).toList());
        assertPng(png, 1);
    }

    @Test
    void mpisTJsonAndPlot() throws Exception {
        Path json = tmp.resolve("mpis.json"), png = tmp.resolve("mpis.png");
        CliRun r = CliRun.of("bench", "memory", "--family", "mpis", "--model", "cifar-fixture", "--T", "1,2", "--bptt-max-T", "2",
                "--in-process", "--batch", "1", "--reps", "1", "--threads", "1", "--json", json.toString(), "--plot", png.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        List<Map<String, Object>> rows = rows(json, "mpis");
        assertEquals(List.of("reference", "reference", "implicit", "implicit", "bptt", "bptt"),
                rows.stream().map(x -> x.get("variant")).toList());
        assertEquals(List.of(1, 2, 1, 2, 1, 2), rows.stream().map(x -> x.get("T")).toList());
        assertEquals("one-step", rows.get(0).get("gradient"));
        assertPng(png, 1);
    }

    @Test
    void revsnnDepthAndTPanels() throws Exception {
        Path json = tmp.resolve("rev.json"), png = tmp.resolve("rev.png");
        CliRun r = CliRun.of("bench", "memory", "--family", "revsnn", "--model", "revsformer", "--embed", "16", "--heads", "2",
                "--depths", "1,2", "--t", "1", "--t-depth", "1", "--batch", "1", "--reps", "1", "--threads", "1",
                "--json", json.toString(), "--plot", png.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        List<Map<String, Object>> rows = rows(json, "revsnn");
        assertTrue(rows.stream().anyMatch(x -> x.containsKey("depth")) && rows.stream().anyMatch(x -> x.containsKey("T")), rows.toString());
        assertPng(png, 2);
    }

    @Test
    void plotNeedsAWritablePlace() throws Exception {
        Path file = tmp.resolve("f");
        java.nio.file.Files.writeString(file, "x");
        CliRun r = CliRun.of("bench", "memory", "--family", "mpis", "--model", "cifar-fixture", "--T", "1", "--bptt-max-T", "0",
                "--gradient", "one-step", "--in-process", "--batch", "1", "--reps", "1", "--threads", "1",
                "--plot", file.resolve("sub/mem.png").toString());
        assertNotEquals(0, r.rc(), r.out());
        assertEquals(1, r.err().strip().split("\n").length, "one line: " + r.err());
    }
}
