package dev.spikerev.bench;

import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.tensor.Natives;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.Tag("memory")
class MemoryProbeTest {
    @Test
    void rssTracksA64MiBTensor() {
        Natives.setThreads(1);
        assertTrue(MemoryProbe.mmapThresholdSet(), "surefire sets MALLOC_MMAP_THRESHOLD_");
        ones(16L).close(); // one-time costs (class loading, JIT, libtorch's lazy init) before the measurement, not in it
        MemoryProbe.rss();
        long before = MemoryProbe.rss();
        Tensor t = ones(16L << 20); // 64 MiB of float32, touched
        long held = MemoryProbe.rss() - before;
        t.close();
        long after = MemoryProbe.rss() - before;
        System.out.printf("64 MiB tensor: RSS +%.2f MiB while alive, %+.2f MiB after close%n", held / 1048576.0, after / 1048576.0);
        assertEquals(64.0, held / 1048576.0, 2.0);
        assertTrue(after < (4L << 20), "memory returned to the OS after close: " + after);
        assertTrue(MemoryProbe.peakRss() >= MemoryProbe.rss());
    }
}
