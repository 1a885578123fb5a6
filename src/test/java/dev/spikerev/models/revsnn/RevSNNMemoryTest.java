package dev.spikerev.models.revsnn;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.bench.MemoryBench;
import dev.spikerev.bench.MemoryProbe;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reversible RevSNN keeps less for backward than the same network run plain (BPTT), and the gap grows with depth:
 * each added reversible block costs the reversible network (almost) nothing.
 */
@org.junit.jupiter.api.Tag("memory")
@org.junit.jupiter.api.Tag("slow")
class RevSNNMemoryTest {
    static Map<String, Object> meta(List<Integer> layers, boolean rev) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("cls", "RevSResNet");
        c.put("layers", layers);
        c.put("planes", List.of(16, 16, 32, 32));
        c.put("num_classes", 10);
        c.put("T", 4);
        c.put("reversible", rev);
        return Map.of("family", "revsnn", "constructor", c);
    }

    @Test
    void reversibleHoldsLessAndDoesNotGrowWithDepth() {
        assertTrue(MemoryProbe.mmapThresholdSet(), "surefire sets MALLOC_MMAP_THRESHOLD_");
        long[] shape = {4, 3, 32, 32};
        MemoryBench.Row rev1 = MemoryBench.measure("reversible", "blocks", 1, meta(List.of(1, 1, 1, 1), true), shape, 10, 1);
        MemoryBench.Row rev4 = MemoryBench.measure("reversible", "blocks", 4, meta(List.of(4, 1, 1, 1), true), shape, 10, 1);
        MemoryBench.Row pl1 = MemoryBench.measure("plain", "blocks", 1, meta(List.of(1, 1, 1, 1), false), shape, 10, 1);
        MemoryBench.Row pl4 = MemoryBench.measure("plain", "blocks", 4, meta(List.of(4, 1, 1, 1), false), shape, 10, 1);
        double mib = 1048576.0;
        System.out.printf("held MiB/img: reversible %.3f -> %.3f, plain %.3f -> %.3f (stage-1 blocks 1 -> 4)%n",
                rev1.heldPerImage() / mib, rev4.heldPerImage() / mib, pl1.heldPerImage() / mib, pl4.heldPerImage() / mib);
        assertTrue(pl1.heldPerImage() > 1.5 * rev1.heldPerImage(), "plain holds more than reversible");
        double revGrowth = rev4.heldPerImage() - rev1.heldPerImage(), plainGrowth = pl4.heldPerImage() - pl1.heldPerImage();
        assertTrue(plainGrowth > 0.5 * pl1.heldPerImage(), "plain grows with depth: " + plainGrowth / mib);
        assertTrue(revGrowth < 0.1 * plainGrowth, "reversible growth " + revGrowth / mib + " MiB/img vs plain " + plainGrowth / mib);
    }
}
