package dev.spikerev.autograd;

import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.bench.MemoryProbe;
import dev.spikerev.tensor.Natives;
import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bytes kept alive for backward (RSS after the forward minus RSS before it, activations >= 64 KiB are mmapped under
 * MALLOC_MMAP_THRESHOLD_=65536) for 2 and 8 blocks: flat for the reversible sequence, growing for plain autograd.
 */
@org.junit.jupiter.api.Tag("memory")
class ReversibleMemoryTest {
    static final int C = 16, N = 4, HW = 64, REPS = 5;

    @BeforeAll
    static void init() {
        Natives.setThreads(2);
    }

    /**
     * Median over REPS (after one warm-up) of the RSS growth from before the forward to after the loss. Before each
     * rep, handles collected by the GC are freed synchronously (otherwise JavaCPP's deallocator thread may unmap an
     * old tensor in the middle of a measurement).
     */
    static long[] measure(ToyRevNet net, boolean reversible) {
        ReversibleSequence rev = net.sequence(ReversibleSequence.StatsPolicy.RESTORE);
        manual_seed(0);
        Tensor img = randn(N, 3, HW, HW);
        Tensor target = randint(10, new long[] {N}, new TensorOptions(ScalarType.Long));
        long[] held = new long[REPS], peak = new long[REPS];
        for (int r = 0; r <= REPS; r++) {
            net.zero_grad(true);
            System.gc();
            Pointer.deallocateReferences();
            try (PointerScope step = new PointerScope()) {
                long before = MemoryProbe.rss();
                MemoryProbe.resetPeak();
                Tensor loss = reversible ? net.forwardRev(rev, img, target) : net.forwardPlain(img, target);
                long after = MemoryProbe.rss();
                loss.backward();
                long top = MemoryProbe.peakRss();
                if (r > 0) {
                    held[r - 1] = after - before;
                    peak[r - 1] = top - before;
                }
            }
        }
        assertEquals(0, rev.pendingBackwards());
        img.close();
        target.close();
        Arrays.sort(held);
        Arrays.sort(peak);
        return new long[] {held[REPS / 2], peak[REPS / 2]};
    }

    @Test
    void heldBytesStayFlatForReversibleAndGrowForPlain() {
        assertTrue(MemoryProbe.mmapThresholdSet(), "run with MALLOC_MMAP_THRESHOLD_=65536 (surefire sets it)");
        assertTrue(MemoryProbe.rss() > 0, "/proc/self/status not readable");
        long stream = (long) N * C * HW * HW * 4;
        long[][] res = new long[2][4]; // [rev?][blocks2 held, blocks8 held, blocks2 peak, blocks8 peak]
        int[] sizes = {2, 8};
        for (int s = 0; s < 2; s++) {
            manual_seed(5);
            ToyRevNet net = new ToyRevNet(C, sizes[s], false);
            for (int rev = 0; rev < 2; rev++) {
                long[] m = measure(net, rev == 1);
                res[rev][s] = m[0];
                res[rev][2 + s] = m[1];
            }
        }
        double mb = 1 << 20;
        System.out.printf("held for backward, batch %d, 2x%d ch, %dx%d (one stream = %.2f MiB):%n", N, C, HW, HW, stream / mb);
        System.out.printf("  plain      : 2 blocks %7.2f MiB, 8 blocks %7.2f MiB (peak above start %7.2f / %7.2f MiB)%n",
                res[0][0] / mb, res[0][1] / mb, res[0][2] / mb, res[0][3] / mb);
        System.out.printf("  reversible : 2 blocks %7.2f MiB, 8 blocks %7.2f MiB (peak above start %7.2f / %7.2f MiB)%n",
                res[1][0] / mb, res[1][1] / mb, res[1][2] / mb, res[1][3] / mb);
        double revRatio = (double) res[1][1] / res[1][0];
        double plainRatio = (double) res[0][1] / res[0][0];
        System.out.printf("  ratio 8/2 blocks: plain %.3f, reversible %.3f%n", plainRatio, revRatio);
        assertTrue(res[1][0] > 0, "reversible held nothing? " + res[1][0]);
        assertTrue(Math.abs(revRatio - 1) <= 0.05, "reversible held bytes not flat: ratio " + revRatio);
        // plain keeps ~4 streams per block: +6 blocks is at least +12 streams
        assertTrue(res[0][1] - res[0][0] >= 12 * stream, "plain autograd did not grow as expected");
        assertTrue(res[1][1] < res[0][0], "reversible at 8 blocks should hold less than plain at 2");
    }
}
