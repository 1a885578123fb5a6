package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recipe augmentations reach the training loop: RandAugment ({@code data.auto_augment}), Mixup/CutMix
 * ({@code data.mixup}, {@code data.cutmix}: soft targets into the family's soft-target criterion); bad values and
 * families without a soft-target criterion give one-line errors.
 */
class AugmentationWiringTest {
    @TempDir Path tmp;

    Path config(Path data, String family, String extraData) throws Exception {
        Path cfg = tmp.resolve(family + ".yaml");
        String model = family.equals("t-revsnn")
                ? "{channels: [4, 8, 8, 8], num_subnet: 4, kernel_size: 3, num_classes: 10, save_memory: true, in_chans: 1, img_size: 32}"
                : "{channels: 8, T: 2, num_classes: 10, in_chans: 1}";
        Files.writeString(cfg, """
                family: %s
                model: %s
                data: {dataset: mnist, root: "%s", download: false, batch_size: 16, eval_batch_size: 32, workers: 1, pad: 2, mean: [0.1307], std: [0.3081]%s}
                optimizer: {name: adamw, lr: 0.005}
                schedule: {name: constant}
                train: {epochs: 1, max_steps_per_epoch: 3, seed: 5, threads: 1}
                """.formatted(family, model, data.toString().replace("\\", "/"), extraData));
        return cfg;
    }

    Path data() throws Exception {
        Path data = tmp.resolve("mnist");
        Files.createDirectories(data);
        ResumeAfterKillTest.writeMnist(data, 64, 32);
        return data;
    }

    Trainer.Result train(Path cfg, String out) throws Exception {
        TrainConfig c = ConfigLoader.load(cfg, List.of("train.out=" + tmp.resolve(out)));
        return new Trainer(c, new PrintStream(new ByteArrayOutputStream()), false).run();
    }

    @Test
    void mixupCutmixAndRandAugmentChangeTheTrainingOfTRevSNN() throws Exception {
        Path d = data();
        Trainer.Result plain = train(config(d, "t-revsnn", ""), "plain");
        Trainer.Result aug = train(config(d, "t-revsnn", ", mixup: 0.8, cutmix: 1.0, auto_augment: rand-m9-mstd0.5-inc1"), "aug");
        assertTrue(plain.completed(), plain.message());
        assertTrue(aug.completed(), aug.message());
        double[] lp = AmpTrainTest.trainLosses(plain.runDir()), la = AmpTrainTest.trainLosses(aug.runDir());
        assertTrue(Double.isFinite(la[0]) && la[0] > 0, java.util.Arrays.toString(la));
        assertNotEquals(lp[0], la[0], "the augmented run must see different inputs/targets");
        // RandAugment alone (no soft targets) also changes the run
        Trainer.Result ra = train(config(d, "t-revsnn", ", auto_augment: rand-m9-n2"), "ra");
        assertNotEquals(lp[0], AmpTrainTest.trainLosses(ra.runDir())[0]);
    }

    @Test
    void badAutoAugmentAndUnsupportedMixupAreNamedErrors() throws Exception {
        Path d = data();
        ConfigException e = assertThrows(ConfigException.class,
                () -> train(config(d, "t-revsnn", ", auto_augment: autoaug-v0"), "bad"));
        assertTrue(e.getMessage().startsWith("data.auto_augment"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        ConfigException e2 = assertThrows(ConfigException.class,
                () -> train(config(d, "t-revsnn", ", auto_augment: rand-q9"), "bad2"));
        assertTrue(e2.getMessage().contains("rand-q9"), e2.getMessage());
        ConfigException e3 = assertThrows(ConfigException.class,
                () -> train(config(d, "baseline", ", mixup: 0.8"), "bad3"));
        assertTrue(e3.getMessage().contains("data.mixup") && e3.getMessage().contains("baseline"), e3.getMessage());
    }
}
