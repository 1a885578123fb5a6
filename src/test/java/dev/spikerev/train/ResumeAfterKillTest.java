package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.data.Idx;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a training process with SIGKILL mid-epoch, restarts it with {@code --resume auto}, and checks that every
 * checkpoint file on disk is complete and that the final weights equal those of an uninterrupted run (same seed, CPU).
 */
class ResumeAfterKillTest {
    @TempDir Path tmp;

    static void writeMnist(Path dir, int train, int test) throws Exception {
        Random r = new Random(7);
        for (String split : new String[]{"train", "t10k"}) {
            int n = split.equals("train") ? train : test;
            byte[] img = new byte[n * 28 * 28];
            byte[] lbl = new byte[n];
            for (int i = 0; i < n; i++) {
                lbl[i] = (byte) r.nextInt(10);
                for (int p = 0; p < 784; p++) img[i * 784 + p] = (byte) (((p % 28) / 3 == lbl[i]) ? 200 + r.nextInt(50) : r.nextInt(30));
            }
            Idx.write(dir.resolve(split + "-images-idx3-ubyte"), img, n, 28, 28);
            Idx.write(dir.resolve(split + "-labels-idx1-ubyte"), lbl, n);
        }
    }

    Path config(Path data) throws Exception {
        Path cfg = tmp.resolve("tiny.yaml");
        Files.writeString(cfg, """
                family: t-revsnn
                model: {channels: [4, 8, 8, 8], num_subnet: 4, kernel_size: 3, num_classes: 10, save_memory: true, in_chans: 1, img_size: 32}
                data: {dataset: mnist, root: "%s", download: false, batch_size: 16, eval_batch_size: 64, workers: 1, pad: 2, mean: [0.1307], std: [0.3081]}
                optimizer: {name: lamb, lr: 0.005}
                schedule: {name: cosine, warmup_epochs: 0.3}
                train: {epochs: 2, clip_grad: 0.02, ema: true, ema_decay: 0.9, seed: 3, threads: 1, checkpoint_every_steps: 3}
                """.formatted(data.toString().replace("\\", "/")));
        return cfg;
    }

    Process start(Path cfg, Path out, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.spikerev.cli.SpikeRev", "train", "--no-progress",
                "--config", cfg.toString(), "--out", out.toString()));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.resolveSibling(out.getFileName() + ".log").toFile());
        pb.environment().put("MALLOC_MMAP_THRESHOLD_", "65536");
        Files.createDirectories(out);
        return pb.start();
    }

    static Map<String, Tensor> finalModel(Path run) {
        Object ck = TorchFile.load(run.resolve("last.pth"));
        return StateDicts.tensors(((Map<?, ?>) ck).get("model"), "model");
    }

    @Test
    void sigkillMidEpochThenResumeAutoEqualsUninterrupted() throws Exception {
        Path data = tmp.resolve("mnist");
        Files.createDirectories(data);
        writeMnist(data, 160, 48); // 10 steps per epoch
        Path cfg = config(data);

        Path a = tmp.resolve("uninterrupted");
        Process pa = start(cfg, a);
        assertTrue(pa.waitFor(300, TimeUnit.SECONDS), "uninterrupted run timed out");
        assertEquals(0, pa.exitValue(), Files.readString(tmp.resolve("uninterrupted.log")));

        Path b = tmp.resolve("killed");
        Process pb = start(cfg, b);
        Path last = b.resolve("last.pth");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (!Files.exists(last) && pb.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(pb.isAlive(), "run ended before its first mid-epoch checkpoint: " + Files.readString(tmp.resolve("killed.log")));
        pb.destroyForcibly(); // SIGKILL
        pb.waitFor(30, TimeUnit.SECONDS);
        assertFalse(Files.exists(b.resolve("ckpt_epoch_1.pth")), "killed too late: the run had already finished");

        Process pr = start(cfg, b, "--resume", "auto");
        assertTrue(pr.waitFor(300, TimeUnit.SECONDS), "resumed run timed out");
        String log = Files.readString(tmp.resolve("killed.log"));
        assertEquals(0, pr.exitValue(), log);
        assertTrue(log.contains("resumed from"), log);

        try (Stream<Path> files = Files.list(b)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".pth")).toList())
                assertDoesNotThrow(() -> TorchFile.load(p), "partial checkpoint " + p);
        }
        Map<String, Tensor> ma = finalModel(a), mb = finalModel(b);
        assertEquals(ma.keySet(), mb.keySet());
        for (String k : ma.keySet())
            assertTrue(ma.get(k).equal(mb.get(k)), "weights differ after resume: " + k);
        assertEquals(Files.readString(a.resolve("metrics.csv")).lines().map(l -> l.replaceAll(",[^,]*,[^,]*$", "")).toList(),
                Files.readString(b.resolve("metrics.csv")).lines().map(l -> l.replaceAll(",[^,]*,[^,]*$", "")).toList(),
                "per-epoch metrics (without timings) differ");
    }
}
