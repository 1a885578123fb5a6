package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RevSNN and MPIS-SNNs training scripts' arguments as YAML (argparse dests as keys) load as spikerev configs
 * ({@link ReferenceScriptArgs}), like T-RevSNN's small.yaml in {@link ConfigLoaderTest}.
 */
class ReferenceScriptArgsTest {
    @TempDir Path dir;

    Path write(String name, String yaml) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, yaml);
        return p;
    }

    TrainConfig load(String yaml, String... overrides) throws Exception {
        return ConfigLoader.load(write("args.yaml", yaml), List.of(overrides));
    }

    ConfigException error(String yaml) throws Exception {
        Path p = write("bad.yaml", yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(p, List.of()));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    /** RevSNN cifar10/configs/revsformer_2_384.yml, key for key as the reference ships it (train.py -c loads it). */
    static final String REVSFORMER_2_384 = """
            model: RevSpikingformer
            epochs: 300
            time_step: 4
            depths: 2
            dim: 384
            num_heads: 12
            patch_size: 4
            mlp_ratio: 4
            data_dir: datasets/cifar/cifar10/
            dataset: torch/cifar10
            num_classes: 10
            img_size: 32
            mean:
                - 0.4914
                - 0.4822
                - 0.4465
            std:
                - 0.2470
                - 0.2435
                - 0.2616
            crop_pct: 1.0
            scale:
                - 1.0
                - 1.0
            ratio: [1.0,1.0]
            color_jitter: 0.
            interpolation: bicubic
            train_interpolation: bicubic
            aa: rand-m9-n1-mstd0.4-inc1
            mixup: 0.5
            mixup_off_epoch: 200
            mixup_prob: 1.0
            mixup_mode: batch
            mixup_switch_prob: 0.5
            cutmix: 0.0
            reprob: 0.25
            remode: const
            amp: False
            batch_size: 64
            val_batch_size: 64
            lr: 5e-4
            min_lr: 1e-5
            sched: cosine
            weight_decay: 6e-2
            cooldown_epochs: 10
            warmup_epochs: 20
            warmup_lr: 0.00001
            opt: adamw
            smoothing: 0.1
            workers: 4
            sync_bn: True
            """;

    @Test
    void revsformerRecipeFileIsMapped() throws Exception {
        TrainConfig c = load(REVSFORMER_2_384, "data.root=/data/cifar10");
        assertEquals("revsnn", c.family);
        assertEquals("rev_vit_snn", c.model.get("cls"));
        assertEquals(384, c.model.get("embed_dims"));
        assertEquals(12, c.model.get("num_heads"));
        assertEquals(2, c.model.get("depths"));
        assertEquals(4.0, ((Number) c.model.get("mlp_ratios")).doubleValue());
        assertEquals(10, c.model.get("num_classes"));
        assertEquals(4, c.model.get("T"));
        assertEquals("cifar10", c.data.dataset);
        assertEquals("/data/cifar10", c.data.root);
        assertEquals(64, c.data.batchSize);
        assertEquals(64, c.data.evalBatchSize);
        assertTrue(c.data.hflip);
        assertEquals(List.of(0.4914, 0.4822, 0.4465), c.data.mean);
        assertEquals(List.of(0.2470, 0.2435, 0.2616), c.data.std);
        assertEquals("rand-m9-n1-mstd0.4-inc1", c.data.autoAugment);
        assertEquals(0.25, c.data.reprob);
        assertEquals(0.5, c.data.mixup);
        assertEquals("adamw", c.optimizer.name);
        assertEquals(5e-4, c.optimizer.lr);
        assertEquals(0.06, c.optimizer.weightDecay);
        assertEquals("timm-cosine", c.schedule.name);
        assertEquals(20.0, c.schedule.warmupEpochs);
        assertEquals(1e-5, c.schedule.warmupLr);
        assertEquals(1e-5, c.schedule.minLr);
        assertEquals(10, c.schedule.cooldownEpochs);
        assertEquals(310, c.train.epochs, "timm: epochs + cooldown_epochs");
        assertEquals(0.1, c.train.labelSmoothing);
        assertEquals(42, c.train.seed);
        assertEquals("./output/train/RevSpikingformer-32", c.train.out);
        // the timm scripts' grouping and checkpoint layout follow from the model
        assertEquals(dev.spikerev.models.revsnn.RevSNNCheckpoint.Layout.TIMM, dev.spikerev.models.revsnn.RevSNNCheckpoint.Layout.of(c.model));
        assertFalse(Optimizers.oneGroupScript(c));
        // the cifar100 file: 8 heads, 100 classes
        TrainConfig c100 = load(REVSFORMER_2_384.replace("num_heads: 12", "num_heads: 8").replace("torch/cifar10", "torch/cifar100")
                .replace("num_classes: 10", "num_classes: 100"));
        assertEquals("cifar100", c100.data.dataset);
        assertEquals(8, c100.model.get("num_heads"));
        assertEquals(100, c100.model.get("num_classes"));
    }

    @Test
    void trainResnetOriginArgs() throws Exception {
        // python train_resnet_origin.py --model revs_resnet21 --T 4 --tb
        TrainConfig c = load("model: revs_resnet21\nT: 4\ntb: true\n");
        assertEquals("revsnn", c.family);
        assertEquals(Map.of("cls", "RevSResNet", "layers", List.of(1, 1, 1, 1), "planes", List.of(64, 128, 256, 448),
                "num_classes", 100, "T", 4), c.model);
        assertEquals("cifar10", c.data.dataset);
        assertEquals("data/cifar10", c.data.root);
        assertEquals(32, c.data.batchSize);
        assertEquals(4, c.data.randomCrop);
        assertEquals(List.of(0.557, 0.549, 0.5534), c.data.std);
        assertEquals("sgd", c.optimizer.name);
        assertEquals(0.1, c.optimizer.lr);
        assertEquals(0.9, c.optimizer.momentum);
        assertEquals(1e-4, c.optimizer.weightDecay);
        assertEquals("multistep", c.schedule.name);
        assertEquals(List.of(100, 150), c.schedule.milestones);
        assertEquals(200, c.train.epochs);
        assertEquals(2020, c.train.seed);
        assertEquals("./output/logs/revs_resnet21_b32_lr0.1_T4_wd0.0001_steplr_sgd", c.train.out);
        assertTrue(Optimizers.oneGroupScript(c), "torch.optim.SGD(model.parameters())");
        // cifar100/train_resnet_origin.py (data_path names cifar100): milestones 60/120/160, seed 2023; --adam
        TrainConfig c100 = load("model: revs_resnet37\ndata_path: /data/cifar100\nadam: true\nlr: 1e-3\nweight_decay: 5e-5\n");
        assertEquals("cifar100", c100.data.dataset);
        assertEquals(List.of(1, 2, 3, 2), c100.model.get("layers"));
        assertEquals(List.of(60, 120, 160), c100.schedule.milestones);
        assertEquals("adam", c100.optimizer.name);
        assertEquals(2023, c100.train.seed);
        assertEquals("./output/logs/revs_resnet37_b32_lr0.001_T4_wd5e-05_steplr_adam", c100.train.out);
    }

    @Test
    void dvsScriptArgs() throws Exception {
        // python train_resnet.py --T 16 --tb --amp --weight-decay 0. --model revs_resnet24   (cifar10-dvs)
        TrainConfig c = load("T: 16\ntb: true\namp: true\nweight_decay: 0.\nmodel: revs_resnet24\n");
        assertEquals("revsnn", c.family);
        assertEquals(Boolean.TRUE, c.model.get("dvs"));
        assertEquals(List.of(16, 32, 48), c.model.get("planes"));
        assertEquals(10, c.model.get("num_classes"));
        assertEquals(16, c.model.get("T"));
        assertEquals("cifar10-dvs", c.data.dataset);
        assertEquals(16, c.data.batchSize);
        assertEquals("adamw", c.optimizer.name);
        assertEquals(1e-3, c.optimizer.lr);
        assertEquals(0.0, c.optimizer.weightDecay);
        assertEquals("timm-cosine", c.schedule.name);
        assertEquals(10.0, c.schedule.warmupEpochs);
        assertEquals(106, c.train.epochs);
        assertEquals(2021, c.train.seed);
        assertEquals("./logs/revs_resnet24_b16_T16_adamw_cnf_ADD/lr0.001", c.train.out);
        // dvs128-gesture RevSpikingformer: the factory's 11 classes, 192 + 10 epochs
        TrainConfig g = load("model: RevSpikingformer\ndataset: DVS128Gesture\nT: 10\n");
        assertEquals("dvs128-gesture", g.data.dataset);
        assertEquals(11, g.model.get("num_classes"));
        assertEquals(256, g.model.get("embed_dims"));
        assertEquals(202, g.train.epochs);
        assertEquals(0.06, g.optimizer.weightDecay);
        // the SpikingJelly-layout loader looks under the script's data_path and names what it misses
        java.io.UncheckedIOException e = assertThrows(java.io.UncheckedIOException.class, () -> DataSources.of(g.data, 10));
        assertTrue(e.getCause().getMessage().contains("dvs128-gesture"), e.getCause().getMessage());
    }

    @Test
    void mpisScriptArgs() throws Exception {
        // python static_data.py -d cifar100 --manualSeed 7 (argparse dests)
        TrainConfig s = load("dataset: cifar100\nmanualSeed: 7\npath: /data/cifar\n");
        assertEquals("mpis", s.family);
        assertEquals("static", s.model.get("kind"));
        assertEquals(100, s.model.get("num_classes"));
        assertEquals(1024, s.model.get("c_s3"));
        assertEquals(0.2, ((Number) s.model.get("dropout")).doubleValue());
        assertEquals(1, s.model.get("time_step"));
        assertEquals(0.999, ((Number) s.model.get("leaky")).doubleValue());
        assertEquals("cifar100", s.data.dataset);
        assertEquals(128, s.data.batchSize);
        assertEquals(List.of(0.2023, 0.1994, 0.2010), s.data.std);
        assertEquals("sgd", s.optimizer.name);
        assertEquals(0.01, s.optimizer.lr);
        assertEquals(5e-4, s.optimizer.weightDecay);
        assertEquals(List.of(15, 40, 80, 100, 150, 200), s.schedule.milestones);
        assertEquals(500, s.schedule.warmupIters);
        assertEquals(500, s.train.epochs);
        assertEquals(7, s.train.seed);
        assertEquals("checkpoint", s.train.out);
        assertTrue(Optimizers.oneGroupScript(s), "optim.SGD(model.parameters())");
        // neuro_data.py: N-MNIST, T 30, lr 0.1, seed 3407; --optimizer Adam
        TrainConfig n = load("dataset: nmnist\noptimizer: Adam\nschedule: [10, 20]\n");
        assertEquals("neuro", n.model.get("kind"));
        assertEquals(30, n.model.get("time_step"));
        assertEquals("nmnist", n.data.dataset);
        assertEquals("adam", n.optimizer.name);
        assertEquals(0.1, n.optimizer.lr);
        assertEquals(List.of(10, 20), n.schedule.milestones);
        assertEquals(3407, n.train.seed);
        // warm-up over iterations: lr * (it + 1) / warmup, then the milestones
        LrSchedule sch = Optimizers.schedule(n, 100);
        assertEquals(0.1 * 1 / 500, sch.lr(0.0), 1e-15);
        assertEquals(0.1 * 250 / 500, sch.lr(2.49), 1e-15);
        assertEquals(0.1, sch.lr(5.0), 1e-15);
        assertEquals(0.1 * 0.1, sch.lr(10.0), 1e-15);
    }

    @Test
    void explicitScriptKey() throws Exception {
        TrainConfig c = load("script: cifar100/train_resnet_origin.py\nmodel: revs_resnet21\n");
        assertEquals("cifar100", c.data.dataset);
        TrainConfig n = load("script: neuro_data.py\n");
        assertEquals("neuro", n.model.get("kind"));
        ConfigException e = error("script: cifar10/main.py\nmodel: revs_resnet21\n");
        assertTrue(e.getMessage().contains("key 'script' must be one of cifar10/train_resnet_origin.py"), e.getMessage());
    }

    @Test
    void unknownAndUnsupportedKeysAreNamed() throws Exception {
        ConfigException e = error("model: revs_resnet21\nbatchsize: 64\n");
        assertTrue(e.getMessage().contains("RevSNN cifar10/train_resnet_origin.py arguments"), e.getMessage());
        assertTrue(e.getMessage().contains("unknown key 'batchsize'"), e.getMessage());
        assertTrue(e.getMessage().contains("batch_size"), e.getMessage());
        e = error(REVSFORMER_2_384 + "lr_noise: [0.4, 0.9]\n");
        assertTrue(e.getMessage().contains("key 'lr_noise' = [0.4,0.9] has no spikerev equivalent"), e.getMessage());
        e = error("dataset: cifar10\nevaluate: true\n");
        assertTrue(e.getMessage().contains("MPIS-SNNs static_data.py arguments") && e.getMessage().contains("spikerev eval"), e.getMessage());
        e = error("model: Spikingformer\n");
        assertTrue(e.getMessage().contains("key 'model' must be one of revs_resnet21"), e.getMessage());
        e = error(REVSFORMER_2_384.replace("time_step: 4", "time_step: 2"));
        assertTrue(e.getMessage().contains("key 'time_step' must be 4"), e.getMessage());
        e = error(REVSFORMER_2_384.replace("sched: cosine", "sched: step"));
        assertTrue(e.getMessage().contains("key 'sched' must be cosine"), e.getMessage());
        e = error("model: revs_resnet21\nT: many\n");
        assertTrue(e.getMessage().contains("key 'T' must be a number"), e.getMessage());
        e = error("dataset: mnist\n");
        assertTrue(e.getMessage().contains("key 'dataset' must be one of cifar10, cifar100"), e.getMessage());
    }

    @Test
    void ownFormatIsNotTakenForScriptArgs() throws Exception {
        assertFalse(ReferenceScriptArgs.isScriptArgs((com.fasterxml.jackson.databind.node.ObjectNode) ConfigLoader.YAML.readTree(
                "family: revsnn\n")));
        assertFalse(ReferenceScriptArgs.isScriptArgs((com.fasterxml.jackson.databind.node.ObjectNode) ConfigLoader.YAML.readTree(
                "train: {epochs: 2}\n")));
        assertEquals(2, load("train: {epochs: 2}\n").train.epochs);
    }

    @Test
    void pythonFloatFormatting() {
        assertEquals("0.1", ReferenceScriptArgs.py(0.1));
        assertEquals("0.0001", ReferenceScriptArgs.py(1e-4));
        assertEquals("5e-05", ReferenceScriptArgs.py(5e-5));
        assertEquals("1.5e-05", ReferenceScriptArgs.py(1.5e-5));
        assertEquals("0.06", ReferenceScriptArgs.py(0.06));
        assertEquals("2.0", ReferenceScriptArgs.py(2));
        assertEquals("1e+16", ReferenceScriptArgs.py(1e16));
    }

    /** With the reference clone ({@code spikerev.revsnn.ref}, see RevSNNCheckpointTest): its configs/revsformer_*.yml load unchanged. */
    @Test
    void referenceRecipeFilesLoadAsShipped() throws Exception {
        Path ref = dev.spikerev.models.revsnn.RevSNNCheckpointTestAccess.refDir();
        Assumptions.assumeTrue(ref != null && Files.isDirectory(ref.resolve("cifar10").resolve("configs")), "RevSNN reference clone not found");
        String p = ref.toString();
        List<Path> ymls;
        try (Stream<Path> s = Stream.of("cifar10", "cifar100").flatMap(f -> {
            try {
                return Files.list(Path.of(p, f, "configs"));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        })) {
            ymls = s.filter(f -> f.getFileName().toString().startsWith("revsformer")).sorted().toList();
        }
        assertEquals(4, ymls.size(), ymls.toString());
        for (Path y : ymls) {
            TrainConfig c = ConfigLoader.load(y, List.of());
            boolean c100 = y.getParent().getParent().getFileName().toString().equals("cifar100");
            assertEquals(c100 ? "cifar100" : "cifar10", c.data.dataset, y.toString());
            assertEquals(c100 ? 8 : 12, c.model.get("num_heads"), y.toString());
            assertEquals(y.getFileName().toString().contains("_4_") ? 4 : 2, c.model.get("depths"), y.toString());
        }
    }
}
