package dev.spikerev.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    /** Dataset plus a random per-sample transform, so augmentation determinism is covered too. */
    private static DataLoader.Builder loader(Dataset d) {
        return DataLoader.builder(d).batchSize(4).shuffle(true).seed(42)
                .transform((s, rng) -> Sample.ofFloats(addNoise(s.floats(), rng.nextInt(100)), s.label(), s.shape()));
    }

    private static float[] addNoise(float[] a, int k) {
        float[] o = a.clone();
        o[0] += k * 1e-3f;
        return o;
    }

    private static List<HostBatch> all(DataLoader l, int epoch, int start) {
        List<HostBatch> out = new ArrayList<>();
        try (DataLoader.Epoch e = l.epoch(epoch, start)) {
            while (e.hasNext()) out.add(e.nextHost());
        }
        return out;
    }

    private static void assertSame(List<HostBatch> a, List<HostBatch> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).indices, b.get(i).indices, "batch " + i);
            assertArrayEquals(a.get(i).input, b.get(i).input, "batch " + i);
            assertArrayEquals(a.get(i).target, b.get(i).target, "batch " + i);
        }
    }

    @Test
    void sameSeedAndEpochGiveSameBatchesWhateverTheWorkers() {
        Dataset d = TestData.synthetic(23, 1, 2, 2, 5);
        try (DataLoader a = loader(d).build(); DataLoader b = loader(d).workers(3).prefetch(4).build()) {
            List<HostBatch> e0 = all(a, 0, 0);
            assertEquals(6, e0.size()); // ceil(23 / 4)
            assertEquals(3, e0.get(5).size());
            assertSame(e0, all(b, 0, 0));
            assertSame(e0, all(a, 0, 0));
            // different epochs are different permutations of the same set
            List<HostBatch> e1 = all(a, 1, 0);
            assertFalse(Arrays.equals(e0.get(0).indices, e1.get(0).indices));
            assertEquals(set(e0), set(e1));
            assertEquals(23, set(e0).size());
            // labels/pixels belong to their index
            HostBatch hb = e0.get(2);
            for (int r = 0; r < hb.size(); r++) {
                assertEquals(hb.indices[r] % 5, hb.target[r]);
                assertEquals(hb.indices[r] * 1000 + 3, hb.input[r * 4 + 3]);
            }
        }
        // another seed differs
        try (DataLoader c = loader(d).seed(7).build(); DataLoader a = loader(d).build()) {
            assertFalse(Arrays.equals(all(c, 0, 0).get(0).indices, all(a, 0, 0).get(0).indices));
        }
    }

    private static Set<Integer> set(List<HostBatch> bs) {
        Set<Integer> s = new HashSet<>();
        for (HostBatch b : bs) for (int i : b.indices) s.add(i);
        return s;
    }

    @Test
    void dropLastAndNoShuffleOrder() {
        Dataset d = TestData.synthetic(10, 1, 1, 1, 2);
        try (DataLoader l = DataLoader.builder(d).batchSize(4).dropLast(true).build()) {
            List<HostBatch> bs = all(l, 3, 0);
            assertEquals(2, l.numBatches());
            assertArrayEquals(new int[] {0, 1, 2, 3}, bs.get(0).indices);
            assertArrayEquals(new int[] {4, 5, 6, 7}, bs.get(1).indices);
        }
    }

    @Test
    void skipResumesWithIdenticalBatches() {
        Dataset d = TestData.synthetic(30, 1, 2, 2, 3);
        try (DataLoader l = loader(d).workers(2).build()) {
            List<HostBatch> full = all(l, 5, 0);
            List<HostBatch> resumed = all(l, 5, 3);
            assertSame(full.subList(3, full.size()), resumed);
            try (DataLoader.Epoch e = l.epoch(5, 3)) {
                assertEquals(3, e.position());
            }
            assertTrue(all(l, 5, l.numBatches()).isEmpty());
            assertThrows(IllegalArgumentException.class, () -> l.epoch(0, l.numBatches() + 1));
        }
    }

    @Test
    void shardsAreDisjointEqualAndCoverEverything() {
        Dataset d = TestData.synthetic(24, 1, 1, 1, 2);
        int world = 3;
        Set<Integer> union = new HashSet<>();
        int total = 0;
        for (int r = 0; r < world; r++) {
            try (DataLoader l = DataLoader.builder(d).batchSize(3).shuffle(true).seed(1).shard(r, world).build()) {
                int[] idx = l.indices(2);
                assertEquals(8, idx.length);
                for (int i : idx) assertTrue(union.add(i), "index " + i + " on two ranks");
                total += idx.length;
                assertEquals(3, l.numBatches());
            }
        }
        assertEquals(24, total);
        assertEquals(24, union.size());
        // uneven: padded to equal sizes (torch DistributedSampler), or cut with dropLast
        Dataset odd = TestData.synthetic(10, 1, 1, 1, 2);
        Set<Integer> u2 = new HashSet<>();
        for (int r = 0; r < 3; r++) {
            ShardSampler s = new ShardSampler(10, true, 9, r, 3, false);
            assertEquals(4, s.indices(0).length);
            for (int i : s.indices(0)) u2.add(i);
            assertEquals(3, new ShardSampler(10, true, 9, r, 3, true).indices(0).length);
        }
        assertEquals(10, u2.size());
        assertEquals(10, odd.size());
    }

    @Test
    void prefetchOverlapsASlowDataset() throws Exception {
        AtomicInteger loaded = new AtomicInteger();
        Dataset slow = new Dataset() {
            @Override public int size() { return 16; }
            @Override public Sample get(int i) {
                try {
                    Thread.sleep(25);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                loaded.incrementAndGet();
                return Sample.ofFloats(new float[] {i}, i % 2, 1, 1, 1);
            }
            @Override public int numClasses() { return 2; }
        };
        try (DataLoader l = DataLoader.builder(slow).batchSize(2).workers(4).prefetch(4).build();
             DataLoader.Epoch e = l.epoch(0)) {
            Thread.sleep(400); // the "training step": workers fill the bounded queue meanwhile
            int ahead = loaded.get();
            assertTrue(ahead >= 4 && ahead <= 8, "prefetched " + ahead + " samples (bound: 4 batches = 8)");
            long t0 = System.nanoTime();
            HostBatch first = e.nextHost();
            assertTrue((System.nanoTime() - t0) / 1e6 < 100, "first batch was not ready");
            assertArrayEquals(new float[] {0, 1}, first.input);
            int n = 1;
            float expect = 2;
            while (e.hasNext()) {
                HostBatch b = e.nextHost();
                for (float v : b.input) assertEquals(expect++, v);
                n++;
            }
            assertEquals(8, n);
        }
    }

    @Test
    void workerErrorsSurfaceOnTheCaller() {
        Dataset bad = new Dataset() {
            @Override public int size() { return 4; }
            @Override public Sample get(int i) {
                if (i == 2) throw new IllegalArgumentException("sample 2 is broken");
                return Sample.ofFloats(new float[] {i}, 0, 1, 1, 1);
            }
            @Override public int numClasses() { return 1; }
        };
        try (DataLoader l = DataLoader.builder(bad).batchSize(2).workers(2).build();
             DataLoader.Epoch e = l.epoch(0)) {
            e.nextHost();
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e::nextHost);
            assertEquals("sample 2 is broken", ex.getMessage());
        }
    }

    @Test
    void batchesAreTensorsMadeOnTheCallerAndClosable() {
        Dataset d = TestData.synthetic(6, 2, 3, 3, 4);
        try (DataLoader l = DataLoader.builder(d).batchSize(4).workers(1).batchTransform(Mixup.smoothingOnly(0.1)).build()) {
            try (PointerScope scope = new PointerScope(); DataLoader.Epoch e = l.epoch(0)) {
                for (Batch b : e) {
                    try (b) {
                        Tensor x = b.input();
                        assertArrayEquals(new long[] {b.size(), 2, 3, 3}, x.shape());
                        assertEquals(6, x.scalar_type().value); // float32
                        assertEquals(4, b.target().scalar_type().value); // int64
                        assertArrayEquals(new long[] {b.size()}, b.target().shape());
                        assertArrayEquals(new long[] {b.size(), 4}, b.softTarget().shape());
                        int r = b.size() - 1, i = b.indices()[r];
                        assertEquals(i * 1000 + 17, x.get(r).flatten(0, -1).get(17).item_float());
                        assertEquals(i % 4, b.target().get(r).item_long());
                        assertEquals(0.925f, b.softTarget().get(r).get(i % 4).item_float(), 1e-6f);
                    }
                    assertThrows(IllegalStateException.class, b::input);
                }
            }
            // without a scope the batch owns its tensors
            try (DataLoader.Epoch e = l.epoch(1); Batch b = e.next()) {
                assertEquals(4, b.size());
                assertEquals(0, b.index());
            }
        }
    }
}
