package dev.spikerev.train.distributed;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.data.DataLoader;
import dev.spikerev.data.Idx;
import dev.spikerev.data.Mnist;
import dev.spikerev.train.ConfigLoader;
import dev.spikerev.train.TrainConfig;
import dev.spikerev.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training with real Gloo workers ({@code spikerev train --nproc 2}, two child JVMs) against one
 * in-process {@link Trainer} with twice the batch, on tiny real-format MNIST files written here, model family
 * {@code baseline} (no BatchNorm, so a split batch has exactly the mean gradient of its halves).
 *
 * <p><b>Why the runs are comparable.</b> Both shuffle with the same seed and no augmentation. The sampler
 * ({@code DataLoader.shard}, torch's DistributedSampler rule) gives rank {@code r} the positions
 * {@code r, r+2, r+4, ...} of the epoch's permutation, so batch {@code k} (size {@code b}) of rank {@code r} holds
 * positions {@code 2kb + r + 2j}, {@code j < b}: the two ranks' batch {@code k} together are exactly positions
 * {@code [2kb, 2(k+1)b)}, i.e. batch {@code k} of the single process with batch {@code 2b} (in another order, which a
 * mean loss does not see). {@link #shardUnionEqualsSingleProcessBatch} checks this on the same files. With a
 * mean-reduced loss, equal shard sizes and gradients all-reduced and divided by the world size, every step then sees
 * the whole batch's gradient, so the weights after K steps must match up to float rounding (&le; 1e-5).
 */
class DataParallelTest {
    static final int B = 8, STEPS = 3, TRAIN = 64, TEST = 40;

    @TempDir static Path tmp;
    static Path data;

    @BeforeAll
    static void writeData() throws Exception {
        data = tmp.resolve("mnist");
        Files.createDirectories(data);
        Random r = new Random(11);
        for (String split : new String[]{"train", "t10k"}) {
            int n = split.equals("train") ? TRAIN : TEST;
            byte[] img = new byte[n * 784], lbl = new byte[n];
            for (int i = 0; i < n; i++) {
                lbl[i] = (byte) r.nextInt(10);
                for (int p = 0; p < 784; p++) img[i * 784 + p] = (byte) (((p % 28) / 3 == lbl[i]) ? 180 + r.nextInt(70) : r.nextInt(40));
            }
            Idx.write(data.resolve(split + "-images-idx3-ubyte"), img, n, 28, 28);
            Idx.write(data.resolve(split + "-labels-idx1-ubyte"), lbl, n);
        }
    }

    static Path config(String name, String optimizer) throws Exception {
        Path cfg = tmp.resolve(name + ".yaml");
        Files.writeString(cfg, """
                family: baseline
                model: {channels: 4, T: 2, num_classes: 10, in_chans: 1}
                data: {dataset: mnist, root: "%s", download: false, batch_size: %d, eval_batch_size: 16, workers: 0, mean: [0.1307], std: [0.3081]}
                optimizer: %s
                schedule: {name: cosine, warmup_epochs: 0.0, min_lr: 1.0e-4}
                train: {epochs: 1, label_smoothing: 0.0, seed: 5, threads: 1, max_steps_per_epoch: %d, checkpoint_every_steps: 1}
                """.formatted(data.toString().replace("\\", "/"), B, optimizer, STEPS));
        return cfg;
    }

    static final String SGD = "{name: sgd, lr: 0.2, momentum: 0.9, weight_decay: 1.0e-3}";
    static final String ADAMW = "{name: adamw, lr: 0.02, weight_decay: 0.05}";

    /** The reference: this JVM, one process, batch 2b, the unchanged single-process path. */
    static Path singleProcess(Path cfg, String name) throws Exception {
        Path out = tmp.resolve(name);
        TrainConfig c = ConfigLoader.load(cfg, List.of("train.out=" + out, "data.batch_size=" + 2 * B));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer.Result r = new Trainer(c, new PrintStream(log, true, StandardCharsets.UTF_8), false).run();
        assertTrue(r.completed(), log.toString(StandardCharsets.UTF_8));
        return out;
    }

    record Run(int exitCode, String log, Path out, double seconds) {}

    /** {@code spikerev train --nproc 2 ...} in a child JVM (which starts two worker JVMs). */
    static Run launch(Path cfg, String name, String... extra) throws Exception {
        Path out = tmp.resolve(name);
        Path logFile = tmp.resolve(name + ".log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), "dev.spikerev.cli.SpikeRev", "train", "--no-progress",
                "--config", cfg.toString(), "--out", out.toString(), "--nproc", "2", "--dist-timeout", "60"));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile());
        pb.environment().put("MALLOC_MMAP_THRESHOLD_", "65536");
        long t0 = System.nanoTime();
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "launcher timed out: " + Files.readString(logFile));
        return new Run(p.exitValue(), Files.readString(logFile), out, (System.nanoTime() - t0) / 1e9);
    }

    static Map<String, Tensor> weights(Path run) {
        Object ck = TorchFile.load(run.resolve("last.pth"));
        return StateDicts.tensors(((Map<?, ?>) ck).get("model"), "model");
    }

    /** Max abs difference over all weights (keys must agree). */
    static double maxDiff(Path a, Path b) {
        try (PointerScope s = new PointerScope()) {
            Map<String, Tensor> wa = weights(a), wb = weights(b);
            assertEquals(wa.keySet(), wb.keySet());
            double d = 0;
            for (String k : wa.keySet()) d = Math.max(d, wa.get(k).sub(wb.get(k)).abs().max().item_double());
            return d;
        }
    }

    /** How far K steps moved the weights from the seeded init (so a small diff cannot come from an idle run). */
    static double moved(Path run) {
        try (PointerScope s = new PointerScope()) {
            org.bytedeco.pytorch.global.torch.manual_seed(5); // train.seed: the Trainer seeds, then builds the model
            Map<String, Tensor> init = dev.spikerev.nn.StateDictIO.stateDict(dev.spikerev.models.ModelFamilies.get("baseline")
                    .build(Map.of("constructor", Map.of("channels", 4, "T", 2, "num_classes", 10, "in_chans", 1))).module());
            Map<String, Tensor> w = weights(run);
            double d = 0;
            for (String k : init.keySet()) d = Math.max(d, init.get(k).sub(w.get(k)).abs().max().item_double());
            return d;
        }
    }

    static int freePort() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void shardUnionEqualsSingleProcessBatch() throws Exception {
        Mnist train = Mnist.load(data, Mnist.Split.TRAIN);
        DataLoader one = DataLoader.builder(train).batchSize(2 * B).shuffle(true).dropLast(true).seed(5).build();
        DataLoader r0 = DataLoader.builder(train).batchSize(B).shuffle(true).dropLast(true).seed(5).shard(0, 2).build();
        DataLoader r1 = DataLoader.builder(train).batchSize(B).shuffle(true).dropLast(true).seed(5).shard(1, 2).build();
        assertEquals(one.numBatches(), r0.numBatches());
        assertEquals(r0.numBatches(), r1.numBatches());
        for (int epoch = 0; epoch < 2; epoch++) {
            int[] all = one.indices(epoch), a = r0.indices(epoch), b = r1.indices(epoch);
            for (int k = 0; k < one.numBatches(); k++) {
                int[] union = new int[2 * B];
                System.arraycopy(a, k * B, union, 0, B);
                System.arraycopy(b, k * B, union, B, B);
                int[] expected = Arrays.copyOfRange(all, k * 2 * B, (k + 1) * 2 * B);
                Arrays.sort(union);
                Arrays.sort(expected);
                assertArrayEquals(expected, union, "epoch " + epoch + " batch " + k);
            }
        }
    }

    @Test
    void twoGlooWorkersMatchOneProcessWithDoubleBatch_sgdAndAdamW() throws Exception {
        for (String[] opt : new String[][]{{"sgd", SGD}, {"adamw", ADAMW}}) {
            Path cfg = config(opt[0], opt[1]);
            Path ref = singleProcess(cfg, opt[0] + "-1proc");
            // SGD meets through a TCPStore hosted by rank 0, AdamW through the default FileStore in the run folder
            Run ddp = opt[0].equals("sgd") ? launch(cfg, opt[0] + "-2proc", "--rendezvous", "127.0.0.1:" + freePort())
                    : launch(cfg, opt[0] + "-2proc");
            assertEquals(0, ddp.exitCode(), ddp.log());
            assertTrue(ddp.log().contains("data-parallel: rank 0 of 2 (gloo)"), ddp.log());
            double d = maxDiff(ref, ddp.out()), moved = moved(ref);
            System.out.printf("DataParallelTest %s: %d steps, 2 workers x batch %d vs 1 x %d: max |w diff| = %.3g, weights moved %.3g (launch %.1f s)%n",
                    opt[0], STEPS, B, 2 * B, d, moved, ddp.seconds());
            assertTrue(moved > 1e-3, opt[0] + ": training hardly moved the weights (" + moved + ")");
            assertTrue(d <= 1e-5, opt[0] + ": 2-worker weights differ from the 1-process weights by " + d);
            // rank 0 alone wrote the run folder: checkpoints and metrics, no stray files from rank 1
            assertTrue(Files.exists(ddp.out().resolve("metrics.csv")));
            assertTrue(Files.exists(ddp.out().resolve("workers/rank1.log")));
            if (Files.isDirectory(ddp.out().resolve(".rendezvous")))
                assertFalse(Files.list(ddp.out().resolve(".rendezvous")).findAny().isPresent(), "rendezvous file left behind");
            // sharded evaluation gives the single-process numbers (same weights up to rounding, same 40 images)
            String refRow = Files.readAllLines(ref.resolve("metrics.csv")).get(1), ddpRow = Files.readAllLines(ddp.out().resolve("metrics.csv")).get(1);
            assertEquals(field(refRow, 5), field(ddpRow, 5), 1e-6, "test_acc\n" + refRow + "\n" + ddpRow);
            assertEquals(field(refRow, 4), field(ddpRow, 4), 1e-4, "test_loss\n" + refRow + "\n" + ddpRow);
            assertEquals(field(refRow, 2), field(ddpRow, 2), 1e-4, "train_loss (mean over both shards)\n" + refRow + "\n" + ddpRow);
        }
    }

    static double field(String csvRow, int i) { return Double.parseDouble(csvRow.split(",")[i]); }

    @Test
    void crashedWorkerStopsTheOtherThenResumeAutoContinuesTheGroup() throws Exception {
        Path cfg = config("crash", ADAMW);
        Run crash = launch(cfg, "crash-2proc", "--fail-at-step", "2");
        assertNotEquals(0, crash.exitCode(), crash.log());
        assertTrue(crash.log().contains("rank 1 of 2 failed"), crash.log());
        assertTrue(crash.log().contains("injected failure at step 2"), "the failed rank's last line is reported:\n" + crash.log());
        crash.log().lines().filter(l -> l.startsWith("error: rank")).forEach(l -> System.out.println("DataParallelTest launcher said: " + l));
        assertTrue(crash.seconds() < 60, "the launcher took " + crash.seconds() + " s to stop");
        Matcher m = Pattern.compile("rank (\\d) pid (\\d+)").matcher(crash.log());
        int pids = 0;
        while (m.find()) {
            pids++;
            long pid = Long.parseLong(m.group(2));
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "worker rank " + m.group(1) + " still alive");
        }
        assertEquals(2, pids, crash.log());
        assertFalse(Files.exists(crash.out().resolve("ckpt_epoch_0.pth")), "the run should have stopped before the epoch ended");

        // every rank resumes from the same mid-epoch checkpoint and the group ends where an uninterrupted run ends
        Run resumed = launch(cfg, "crash-2proc", "--resume", "auto");
        assertEquals(0, resumed.exitCode(), resumed.log());
        assertTrue(resumed.log().contains("resumed from"), resumed.log());
        Path ref = singleProcess(cfg, "crash-1proc");
        double d = maxDiff(ref, resumed.out());
        System.out.printf("DataParallelTest crash+resume: max |w diff| vs 1 process = %.3g%n", d);
        assertTrue(d <= 1e-5, "resumed 2-worker weights differ from the 1-process weights by " + d);
        String rank1 = Files.readString(resumed.out().resolve("workers/rank1.log"));
        assertTrue(rank1.contains("resumed from"), "rank 1 did not resume:\n" + rank1);
    }
}
