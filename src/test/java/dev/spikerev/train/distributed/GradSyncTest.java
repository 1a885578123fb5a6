package dev.spikerev.train.distributed;

import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.models.baseline.SpikingCNN;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GradSync} with two Gloo ranks as two threads of this JVM (c10d allows that): rank 1 starts from other
 * weights and gets rank 0's after the broadcast; gradients become the mean over ranks; a gradient undefined on every
 * rank stays undefined, one defined on one rank only becomes half of it.
 */
class GradSyncTest {
    @TempDir Path tmp;
    static final Map<String, Tensor> RANK0 = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeAll
    static void init() { Natives.setThreads(1); }

    @Test
    void broadcastAndMeanAllReduceOverTwoRanks() throws Exception {
        Path store = tmp.resolve("store");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> fs = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                final int rank = r;
                fs.add(pool.submit(() -> rank(rank, store)));
            }
            for (Future<String> f : fs) assertEquals("ok", f.get(60, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    private static String rank(int rank, Path store) {
        DistOptions o = new DistOptions(rank, 2, Rendezvous.file(store), Duration.ofSeconds(30), -1, 1);
        try (DistGroup g = DistGroup.join(o, "cpu"); PointerScope s = new PointerScope()) {
            SpikingCNN net = new SpikingCNN(4, 2, 10, 1, 2.0, 1.0, Surrogate.sigmoid(4.0));
            try (org.bytedeco.pytorch.NoGradGuard ng = new org.bytedeco.pytorch.NoGradGuard()) {
                for (Tensor p : StateDictIO.stateDict(net).values()) p.add_(new Scalar(10.0 * rank)); // rank 1 surely differs
            }
            if (rank == 0) { // (the threads share libtorch's global generator, so the inits themselves are not reproducible)
                Map<String, Tensor> snap = new java.util.LinkedHashMap<>();
                StateDictIO.stateDict(net).forEach((k, v) -> snap.put(k, v.clone().retainReference()));
                RANK0.putAll(snap);
            }
            g.barrier();
            GradSync.broadcastModule(g, net);
            Map<String, Tensor> sd = StateDictIO.stateDict(net);
            for (String k : sd.keySet()) assertTrue(sd.get(k).equal(RANK0.get(k)), "rank " + rank + ": " + k + " not broadcast");
            g.barrier();

            // rank r's gradient of each parameter: (r + 1) * (index + 1); fc.bias gets one on rank 0 only; conv1.bias on none
            List<String> names = new ArrayList<>(StateDictIO.namedParameters(net).keySet());
            List<Tensor> ps = new ArrayList<>(StateDictIO.namedParameters(net).values());
            for (int i = 0; i < ps.size(); i++) {
                String n = names.get(i);
                if (n.equals("conv1.bias") || (n.equals("fc.bias") && rank == 1)) continue;
                ps.get(i).mutable_grad().put(full_like(ps.get(i), new Scalar((rank + 1) * (i + 1.0))));
            }
            GradSync.allReduceMean(g, ps);
            for (int i = 0; i < ps.size(); i++) {
                String n = names.get(i);
                Tensor gr = ps.get(i).grad();
                if (n.equals("conv1.bias")) {
                    assertFalse(gr.defined(), "undefined on every rank must stay undefined");
                    continue;
                }
                double expected = n.equals("fc.bias") ? (i + 1.0) / 2 : 1.5 * (i + 1.0);
                assertEquals(expected, gr.min().item_double(), 1e-6, "rank " + rank + " " + n);
                assertEquals(expected, gr.max().item_double(), 1e-6, "rank " + rank + " " + n);
            }
            assertEquals(3.0, g.sum(rank + 1.0)[0]);
            g.checkSame("a constant", 7);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.checkSame("the rank", rank));
            assertTrue(e.getMessage().contains("ranks disagree on the rank"), e.getMessage());
            g.barrier();
            return "ok";
        }
    }
}
