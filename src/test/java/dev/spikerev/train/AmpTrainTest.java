package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.cli.SpikeRev;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train.amp: bf16} on the CPU (libtorch's CPU autocast): a tiny reversible T-RevSNN trains a few steps with
 * finite, decreasing loss; the numbers differ from float32 (so autocast really ran) but stay close; weights and
 * checkpoint stay float32; {@code spikerev eval} runs the checkpoint under bf16 too.
 */
class AmpTrainTest {
    @TempDir Path tmp;

    Path config(Path data) throws Exception {
        return tinyConfig(tmp.resolve("tiny.yaml"), data, "{epochs: 3, max_steps_per_epoch: 4, clip_grad: 0.02, seed: 3, threads: 1}");
    }

    /** A tiny reversible T-RevSNN on MNIST files in {@code data} (Lamb, constant lr), with the given {@code train:} map. */
    static Path tinyConfig(Path cfg, Path data, String train) throws Exception {
        Files.writeString(cfg, """
                family: t-revsnn
                model: {channels: [4, 8, 8, 8], num_subnet: 4, kernel_size: 3, num_classes: 10, save_memory: true, in_chans: 1, img_size: 32}
                data: {dataset: mnist, root: "%s", download: false, batch_size: 16, eval_batch_size: 32, workers: 1, pad: 2, mean: [0.1307], std: [0.3081]}
                optimizer: {name: lamb, lr: 0.01}
                schedule: {name: constant}
                train: %s
                """.formatted(data.toString().replace("\\", "/"), train));
        return cfg;
    }

    /** Per-epoch train losses from metrics.csv. */
    static double[] trainLosses(Path run) throws Exception {
        List<String> lines = Files.readAllLines(run.resolve("metrics.csv"));
        int col = List.of(lines.get(0).split(",")).indexOf("train_loss");
        return lines.stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[col])).toArray();
    }

    Trainer.Result train(Path cfg, String amp) {
        TrainConfig c = ConfigLoader.load(cfg, List.of("train.amp=" + amp, "train.out=" + tmp.resolve(amp)));
        return assertDoesNotThrow(() -> new Trainer(c, new PrintStream(new ByteArrayOutputStream()), false).run());
    }

    @Test
    void bf16TrainsWithFiniteDecreasingLossOnCpu() throws Exception {
        Path data = tmp.resolve("mnist");
        Files.createDirectories(data);
        ResumeAfterKillTest.writeMnist(data, 64, 32);
        Path cfg = config(data);

        Trainer.Result bf = train(cfg, "bf16");
        assertTrue(bf.completed(), bf.message());
        double[] lb = trainLosses(bf.runDir());
        assertEquals(3, lb.length);
        for (double l : lb) assertTrue(Double.isFinite(l) && l > 0, java.util.Arrays.toString(lb));
        System.out.println("bf16 train losses " + java.util.Arrays.toString(lb));
        assertTrue(lb[2] < lb[0], "bf16 loss must decrease over 12 steps: " + java.util.Arrays.toString(lb));

        Trainer.Result fp = train(cfg, "none");
        double[] lf = trainLosses(fp.runDir());
        System.out.println("fp32 train losses " + java.util.Arrays.toString(lf));
        assertNotEquals(lf[0], lb[0], "bf16 and float32 give identical losses: autocast did not run");
        assertEquals(lf[0], lb[0], 0.05 * lf[0], "first-epoch loss of bf16 should be close to float32's");

        Map<?, ?> ck = (Map<?, ?>) TorchFile.load(bf.runDir().resolve("last.pth"));
        for (Map.Entry<String, Tensor> e : StateDicts.tensors(ck.get("model"), "model").entrySet())
            if (e.getValue().is_floating_point())
                assertEquals(org.bytedeco.pytorch.global.torch.ScalarType.Float.value, e.getValue().scalar_type().value,
                        "weights must stay float32 under amp: " + e.getKey());
        assertNull(((Map<?, ?>) ck.get("spikerev")).get("scaler"), "no loss scaler for bf16");

        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = SpikeRev.commandLine(new PrintWriter(out), new PrintWriter(err)).execute("eval", "--config", cfg.toString(),
                "--checkpoint", bf.runDir().resolve("last.pth").toString(), "--device", "cpu", "--set", "train.amp=bf16");
        assertEquals(0, rc, out + "" + err);
    }
}
