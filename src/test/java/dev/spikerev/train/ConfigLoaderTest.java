package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir Path dir;

    Path write(String name, String yaml) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, yaml);
        return p;
    }

    @Test
    void ownFormatBindsWithDefaults() throws Exception {
        Path p = write("c.yaml", """
                family: t-revsnn
                model: {channels: [8, 16, 24, 32], num_subnet: 4, num_classes: 10}
                data: {dataset: mnist, batch_size: 32, pad: 2}
                optimizer: {name: adamw, lr: 0.001}
                train: {epochs: 2}
                """);
        TrainConfig c = ConfigLoader.load(p, List.of("train.seed=7", "data.mean=[0.5]", "data.std=[0.25]"));
        assertEquals(32, c.data.batchSize);
        assertEquals(2, c.data.pad);
        assertEquals("adamw", c.optimizer.name);
        assertEquals(0.001, c.optimizer.lr);
        assertEquals(7, c.train.seed);
        assertEquals(List.of(0.5), c.data.mean);
        assertEquals(List.of(8, 16, 24, 32), c.model.get("channels"));
        assertEquals(0.01, c.optimizer.weightDecay); // default kept
    }

    @Test
    void unknownKeyNamesKeyAndAllowed() throws Exception {
        Path p = write("c.yaml", "train: {epoch: 3}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(p, List.of()));
        assertTrue(e.getMessage().contains("unknown key 'train.epoch'"), e.getMessage());
        assertTrue(e.getMessage().contains("epochs"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void wrongTypeNamesKey() throws Exception {
        Path p = write("c.yaml", "data: {batch_size: many}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(p, List.of()));
        assertTrue(e.getMessage().contains("'data.batch_size' must be an integer"), e.getMessage());
    }

    @Test
    void outOfRangeAndEnumValues() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("optimizer.name=adagrad")));
        assertTrue(e.getMessage().contains("'optimizer.name' must be one of lamb, adamw, sgd, adam"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("train.label_smoothing=1.5")));
        assertTrue(e.getMessage().contains("'train.label_smoothing' must be in"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("train.device=tpu")));
        assertTrue(e.getMessage().contains("train.device"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("train.device=cuda:x")));
        assertTrue(e.getMessage().contains("train.device") && e.getMessage().contains("cpu, cuda, cuda:N"), e.getMessage());
        assertEquals("cuda:1", ConfigLoader.load(null, List.of("train.device=cuda:1")).train.device, "syntax only: no GPU needed to load");
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("train.amp=fp32")));
        assertTrue(e.getMessage().contains("'train.amp' must be one of none, bf16, fp16, found 'fp32'"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertEquals("none", ConfigLoader.load(null, List.of()).train.amp, "default");
        assertEquals("bf16", ConfigLoader.load(null, List.of("train.amp=bf16")).train.amp);
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("noequals")));
        assertTrue(e.getMessage().contains("key=value"), e.getMessage());
    }

    @Test
    void missingFileAndBadYaml() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir.resolve("nope.yaml"), List.of()));
        assertTrue(e.getMessage().contains("config file not found"), e.getMessage());
        Path bad = write("bad.yaml", "a: [1, 2\n");
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(bad, List.of()));
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
    }

    /** T-RevSNN's configs/small.yaml, key for key as the reference ships it. */
    static final String SMALL_YAML = """
            PRINT_FREQ: 100
            SAVE_FREQ: 1
            MODEL_EMA: True
            MODEL_EMA_DECAY: 0.9992
            DATA:
              IMG_SIZE: 224
              NUM_WORKERS: 8
            MODEL:
              TYPE: small
              NAME: small
              LABEL_SMOOTHING: 0.1
            REVCOL:
              INTER_SUPV: True
              SAVEMM: True
              CCOE: 1.0
              DROP_PATH: 0.0
              KERNEL_SIZE: 5
            TRAIN:
              AMP: True
              EPOCHS: 300
              BASE_LR: 2e-3
              WARMUP_EPOCHS: 20
              WEIGHT_DECAY: 0.01
              WARMUP_LR: 1e-5
              MIN_LR: 1e-6
              OPTIMIZER:
                NAME: 'lamb'
              CLIP_GRAD: 0.02
            AUG:
              COLOR_JITTER: 0.4
              AUTO_AUGMENT: 'rand-m9-mstd0.5-inc1'
              REPROB: 0.25
              REMODE: 'pixel'
              RECOUNT: 1
              MIXUP: 0.0
              CUTMIX: 0.0
              CUTMIX_MINMAX: None
              MIXUP_PROB: 1.0
              MIXUP_SWITCH_PROB: 0.5
              MIXUP_MODE: 'batch'
            """;

    @Test
    void trevsnnReferenceConfigIsMapped() throws Exception {
        Path p = write("small.yaml", SMALL_YAML);
        TrainConfig c = ConfigLoader.load(p, List.of("data.root=/data/imagenet/train"));
        assertEquals("t-revsnn", c.family);
        assertEquals(List.of(96, 192, 384, 512), c.model.get("channels"));
        assertEquals(5, c.model.get("kernel_size"));
        assertEquals(1000, c.model.get("num_classes"));
        assertEquals(224, c.model.get("img_size"));
        assertEquals("lamb", c.optimizer.name);
        assertEquals(0.01, c.optimizer.weightDecay);
        assertEquals(2e-3 * 128 / 1024, c.optimizer.lr, 1e-15);   // BATCH_SIZE default 128, linear scaling
        assertEquals(1e-6 * 128 / 1024, c.schedule.minLr, 1e-18);
        assertEquals(20.0, c.schedule.warmupEpochs);
        assertEquals(300, c.train.epochs);
        assertEquals(0.02, c.train.clipGrad);
        assertTrue(c.train.ema);
        assertEquals(0.9992, c.train.emaDecay);
        assertEquals(118, c.train.seed);
        assertEquals("rand-m9-mstd0.5-inc1", c.data.autoAugment);
        assertEquals("imagefolder", c.data.dataset);
        assertEquals("/data/imagenet/train", c.data.root);
        assertEquals("outputs/small/default", c.train.out);
    }

    @Test
    void referenceConfigUnknownKeyIsNamed() throws Exception {
        Path p = write("bad.yaml", SMALL_YAML.replace("  KERNEL_SIZE: 5", "  KERNEL: 5"));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(p, List.of()));
        assertTrue(e.getMessage().contains("unknown key 'REVCOL.KERNEL'"), e.getMessage());
        assertTrue(e.getMessage().contains("KERNEL_SIZE"), e.getMessage());
        Path p2 = write("bad2.yaml", SMALL_YAML.replace("TYPE: small", "TYPE: huge"));
        e = assertThrows(ConfigException.class, () -> ConfigLoader.load(p2, List.of()));
        assertTrue(e.getMessage().contains("'MODEL.TYPE' must be one of tiny, small, tiny_dvs"), e.getMessage());
    }
}
