package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spikerev.testutil.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DVS RevSResNet (the revs_resnet24 layout at fixture size) trains end to end on DVS128-Gesture-layout files written
 * by SpikingJelly (fixtures/dvs/gesture): frames [T=3, 2, 128, 128] with the clip-wide horizontal flip, reversible
 * backward, eval on the official test split, checkpoints written; with T=5 (no frame files) the events are integrated.
 */
class DvsTrainTest {
    @TempDir Path tmp;

    Trainer.Result train(int t, String out) throws Exception {
        Path cfg = tmp.resolve("dvs.yaml");
        Files.writeString(cfg, """
                family: revsnn
                model: {cls: RevSResNet, layers: [1, 1, 1], planes: [4, 8, 8], num_classes: 11, T: %d, dvs: true}
                data: {dataset: dvs128-gesture, root: "%s", batch_size: 2, eval_batch_size: 3, workers: 1, hflip: true}
                optimizer: {name: adamw, lr: 0.001, weight_decay: 0.0}
                schedule: {name: constant}
                train: {epochs: 1, seed: 3, threads: 1}
                """.formatted(t, Fixtures.of("dvs", "gesture").toAbsolutePath().toString().replace("\\", "/")));
        TrainConfig c = ConfigLoader.load(cfg, List.of("train.out=" + tmp.resolve(out)));
        return new Trainer(c, new PrintStream(new ByteArrayOutputStream()), false).run();
    }

    @Test
    void trainsOnSpikingJellyFramesAndEvents() throws Exception {
        Trainer.Result r = train(3, "frames");
        assertTrue(r.completed(), r.message());
        List<String> csv = Files.readAllLines(r.runDir().resolve("metrics.csv"));
        assertEquals(2, csv.size(), csv.toString()); // header + 1 epoch
        int col = List.of(csv.get(0).split(",")).indexOf("train_loss");
        assertTrue(Double.isFinite(Double.parseDouble(csv.get(1).split(",")[col])), csv.toString());
        try (var s = Files.list(r.runDir())) {
            assertTrue(s.anyMatch(p -> p.toString().endsWith(".pth")), "no checkpoint in " + r.runDir());
        }
        Trainer.Result e = train(5, "events");
        assertTrue(e.completed(), e.message());
    }
}
