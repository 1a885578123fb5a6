package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.cli.SpikeRev;
import dev.spikerev.tensor.Devices;
import dev.spikerev.tensor.Natives;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device checks that need a CUDA GPU and the {@code -Pcuda} build (skipped elsewhere; {@code tools/gpu_check.sh} runs
 * them): training on cuda:0 in float32, bf16 and fp16 (loss scaler state in the checkpoint), checkpoints written from
 * the GPU load on the CPU with the same keys, dtypes and alias groups as a CPU run's, resume on the GPU, eval of a
 * CPU-written checkpoint on the GPU, and float32 GPU losses close to the CPU's.
 */
@EnabledIf("cuda")
class CudaDeviceTest {
    @TempDir Path tmp;

    static boolean cuda() {
        try {
            Natives.init();
            return org.bytedeco.pytorch.global.torch.cuda_is_available();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    Path config(Path data) throws Exception {
        return AmpTrainTest.tinyConfig(tmp.resolve("tiny.yaml"), data,
                "{epochs: 2, max_steps_per_epoch: 4, clip_grad: 0.02, ema: true, ema_decay: 0.9, seed: 3, threads: 2}");
    }

    Trainer.Result train(Path cfg, String name, String... overrides) {
        List<String> o = new ArrayList<>(List.of(overrides));
        o.add("train.out=" + tmp.resolve(name));
        TrainConfig c = ConfigLoader.load(cfg, o);
        Trainer.Result r = assertDoesNotThrow(() -> new Trainer(c, new PrintStream(new ByteArrayOutputStream()), false).run());
        assertTrue(r.completed(), name + ": " + r.message());
        return r;
    }

    /** Keys grouped by shared storage (alias groups), from a loaded checkpoint's model state. */
    static TreeSet<String> aliasGroups(Map<String, Tensor> sd) {
        Map<Long, List<String>> byPtr = new HashMap<>();
        for (Map.Entry<String, Tensor> e : sd.entrySet())
            if (e.getValue().numel() > 0) byPtr.computeIfAbsent(e.getValue().storage().data().address(), k -> new ArrayList<>()).add(e.getKey());
        TreeSet<String> groups = new TreeSet<>();
        for (List<String> g : byPtr.values()) if (g.size() > 1) groups.add(String.join(",", new TreeSet<>(g)));
        return groups;
    }

    @Test
    void trainsOnCudaAndItsCheckpointsLoadOnTheCpu() throws Exception {
        Path data = tmp.resolve("mnist");
        Files.createDirectories(data);
        ResumeAfterKillTest.writeMnist(data, 64, 32);
        Path cfg = config(data);

        Trainer.Result cpu = train(cfg, "cpu", "train.device=cpu");
        // like for like: the CPU has no TF32, so the GPU run uses full float32 too (training keeps libtorch's TF32
        // default; with it, spikes flip and the first-epoch loss differed by 1.1 % on an H200)
        Devices.strictFloat32();
        Trainer.Result gpu = train(cfg, "gpu", "train.device=cuda:0");
        double[] lc = AmpTrainTest.trainLosses(cpu.runDir()), lg = AmpTrainTest.trainLosses(gpu.runDir());
        assertEquals(lc[0], lg[0], 1e-2 * lc[0], "float32 first-epoch loss on cuda vs cpu: " + lc[0] + " vs " + lg[0]);

        Map<?, ?> ckc = (Map<?, ?>) TorchFile.load(cpu.runDir().resolve("last.pth"));
        Map<?, ?> ckg = (Map<?, ?>) TorchFile.load(gpu.runDir().resolve("last.pth"));
        for (String part : new String[]{"model", "state_dict_ema"}) {
            Map<String, Tensor> sc = StateDicts.tensors(ckc.get(part), part), sg = StateDicts.tensors(ckg.get(part), part);
            assertEquals(sc.keySet(), sg.keySet(), part);
            for (String k : sc.keySet()) {
                assertTrue(sg.get(k).is_cpu(), "loaded tensors are CPU tensors: " + k);
                assertEquals(sc.get(k).scalar_type().value, sg.get(k).scalar_type().value, k);
            }
            assertEquals(aliasGroups(sc), aliasGroups(sg), part + ": alias groups of a GPU-written checkpoint");
        }
        Map<?, ?> opt = (Map<?, ?>) ckg.get("optimizer");
        assertFalse(((Map<?, ?>) opt.get("state")).isEmpty(), "optimizer state saved");

        // resume on the GPU from a GPU checkpoint, one more epoch
        train(cfg, "gpu", "train.device=cuda:0", "train.epochs=3", "train.resume=auto");
        assertEquals(4, Files.readAllLines(gpu.runDir().resolve("metrics.csv")).size(), "header + 3 epochs");

        // a CPU-written checkpoint evaluated on the GPU
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = SpikeRev.commandLine(new PrintWriter(out), new PrintWriter(err)).execute("eval", "--config", cfg.toString(),
                "--checkpoint", cpu.runDir().resolve("last.pth").toString(), "--device", "cuda:0");
        assertEquals(0, rc, out + "" + err);
    }

    @Test
    void mixedPrecisionOnCuda() throws Exception {
        Path data = tmp.resolve("mnist");
        Files.createDirectories(data);
        ResumeAfterKillTest.writeMnist(data, 64, 32);
        Path cfg = config(data);
        for (String amp : new String[]{"bf16", "fp16"}) {
            Trainer.Result r = train(cfg, amp, "train.device=cuda:0", "train.amp=" + amp);
            for (double l : AmpTrainTest.trainLosses(r.runDir())) assertTrue(Double.isFinite(l), amp + " loss " + l);
            Map<?, ?> ck = (Map<?, ?>) TorchFile.load(r.runDir().resolve("last.pth"));
            Object scaler = ((Map<?, ?>) ck.get("spikerev")).get("scaler");
            if (amp.equals("fp16")) assertTrue(scaler instanceof Map<?, ?> m && m.get("scale") instanceof Number, "fp16 saves the scaler: " + scaler);
            else assertNull(scaler);
        }
    }
}
