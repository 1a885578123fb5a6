package dev.spikerev.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.data.Idx;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.train.ConfigLoader;
import dev.spikerev.train.TrainConfig;
import dev.spikerev.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spikerev energy} end to end on small real-format MNIST files and a checkpoint of the baseline SNN. */
class EnergyCommandTest {
    @TempDir Path tmp;

    Path setup() throws Exception {
        Path data = tmp.resolve("mnist");
        Files.createDirectories(data);
        Random r = new Random(3);
        for (String split : new String[]{"train", "t10k"}) {
            int n = 40;
            byte[] img = new byte[n * 784], lbl = new byte[n];
            for (int i = 0; i < n; i++) {
                lbl[i] = (byte) r.nextInt(10);
                for (int p = 0; p < 784; p++) img[i * 784 + p] = (byte) r.nextInt(256);
            }
            Idx.write(data.resolve(split + "-images-idx3-ubyte"), img, n, 28, 28);
            Idx.write(data.resolve(split + "-labels-idx1-ubyte"), lbl, n);
        }
        Path cfg = tmp.resolve("baseline.yaml");
        Files.writeString(cfg, """
                family: baseline
                model: {channels: 8, T: 4, num_classes: 10, in_chans: 1}
                data: {dataset: mnist, root: "%s", download: false, batch_size: 16, eval_batch_size: 16, workers: 1}
                train: {threads: 1}
                """.formatted(data.toString().replace("\\", "/")));
        return cfg;
    }

    @Test
    void reportsLayersEnergyJsonAndPlot() throws Exception {
        Path cfg = setup();
        TrainConfig tc = ConfigLoader.load(cfg, List.of());
        FamilyModel model = new Trainer(tc, System.out, false).buildModel();
        Path ckpt = tmp.resolve("run/model.pth");
        Files.createDirectories(ckpt.getParent());
        TorchFile.save(ckpt, StateDictIO.stateDict(model.module()));
        Path json = tmp.resolve("energy.json");
        CliRun run = CliRun.of("energy", "-c", cfg.toString(), "--checkpoint", ckpt.toString(), "--images", "24",
                "--json", json.toString());
        assertEquals(0, run.rc(), run.err());
        Map<?, ?> rep = new ObjectMapper().readValue(json.toFile(), Map.class);
        assertEquals(24, ((Number) rep.get("images")).intValue());
        List<?> layers = (List<?>) rep.get("layers");
        assertEquals(List.of("conv1", "conv2", "fc"), layers.stream().map(l -> ((Map<?, ?>) l).get("name")).toList());
        Map<?, ?> conv1 = (Map<?, ?>) layers.get(0), conv2 = (Map<?, ?>) layers.get(1);
        assertEquals("conv1", conv1.get("name"));
        assertEquals("MAC", conv1.get("kind"), "the encoding layer sees pixels");
        // conv1 (1->8, 3x3, stride 2) on 28x28: 8 x 14 x 14 outputs x 9 taps, once per image (direct encoding)
        assertEquals(8 * 14 * 14 * 9, ((Number) conv1.get("macs_per_image")).doubleValue(), 1e-6);
        assertEquals("conv2", conv2.get("name"));
        assertEquals("AC", conv2.get("kind"), "conv2 sees spikes");
        double fr = ((Number) conv2.get("firing_rate")).doubleValue();
        // conv2 (8->8, 3x3, stride 2) on 14x14 for T=4 steps: 8 x 7 x 7 x 8 x 9 x 4 dense MACs per image
        double dense = 8 * 7 * 7 * 8 * 9 * 4;
        assertEquals(dense, ((Number) conv2.get("dense_macs_per_image")).doubleValue(), 1e-6);
        assertEquals(dense * fr, ((Number) conv2.get("sops_per_image")).doubleValue(), 1e-6 * dense);
        double total = 0;
        for (Object o : layers) total += ((Number) ((Map<?, ?>) o).get("energy_mj_per_image")).doubleValue();
        assertEquals(total, ((Number) rep.get("total_mj_per_image")).doubleValue(), 1e-12);
        assertTrue(((Number) rep.get("total_mj_per_image")).doubleValue() > 0);
        Path png = tmp.resolve("run/energy.png");
        assertNotNull(ImageIO.read(png.toFile()), "a PNG next to the checkpoint");
    }

    @Test
    void missingCheckpointIsANamedOneLineError() throws Exception {
        Path cfg = setup();
        CliRun run = CliRun.of("energy", "-c", cfg.toString(), "--checkpoint", tmp.resolve("nope.pth").toString());
        assertEquals(ExitCodes.INVALID_INPUT, run.rc());
        assertTrue(run.err().contains("nope.pth"), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
    }

    @Test
    void wrongModelInTheCheckpointIsNamed() throws Exception {
        Path cfg = setup();
        Path bad = tmp.resolve("bad.pth");
        TorchFile.save(bad, new java.util.LinkedHashMap<>(Map.of("fc.weight", org.bytedeco.pytorch.global.torch.zeros(2, 2))));
        CliRun run = CliRun.of("energy", "-c", cfg.toString(), "--checkpoint", bad.toString());
        assertNotEquals(0, run.rc());
        assertTrue(run.err().startsWith("error:"), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
    }
}
