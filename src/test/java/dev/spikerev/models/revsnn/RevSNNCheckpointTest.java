package dev.spikerev.models.revsnn;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.PyObject;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import dev.spikerev.testutil.Fixtures;
import dev.spikerev.testutil.Python;
import dev.spikerev.train.ConfigLoader;
import dev.spikerev.train.Optimizer;
import dev.spikerev.train.Optimizers;
import dev.spikerev.train.TrainConfig;
import dev.spikerev.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code spikerev train} with family revsnn writes the RevSNN training scripts' checkpoint layouts
 * ({@link RevSNNCheckpoint}) and resumes from them, and reads the files the scripts write:
 * <ul>
 * <li>Java-written files (a real training run on a tiny CIFAR-10 in the CIFAR RevSResNet and CIFAR RevSFormer
 * layouts; a DVS RevSResNet file written directly) load in Python with {@code torch.load(weights_only=True)} and go
 * through the scripts' resume code ({@code tools/check_checkpoint_revsnn.py}: keys, strict load, optimizer type of the
 * script, scheduler state, start epoch). With the reference clone (a checkout of mi804/RevSNN at
 * {@code -Dspikerev.revsnn.ref=DIR}, by default {@code ../ref/revsnn} next to the project, or {@code SPIKEREV_REVSNN_REF})
 * the checker loads the weights into the reference model itself; those tests are skipped without it.</li>
 * <li>Files in the reference layout: the fixtures' checkpoint.pth (written by the reference harness, argparse
 * Namespace included) and one written by a torch-only Python script after three "epochs" (SGD + MultiStepLR) are read
 * and resumed: epoch, best accuracy and optimizer state equal; a training run resumed from the latter continues at
 * the next epoch.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RevSNNCheckpointTest {
    @TempDir static Path tmp; // one folder for the class: the training runs are shared by several tests
    private Path cifar, resnetRun, formerRun;

    @BeforeAll
    void setUp() throws Exception {
        Natives.setThreads(1);
    }

    // ------------------------------------------------------------------ helpers

    /** A tiny CIFAR-10 in the binary layout: 5 train batches of {@code perBatch} images and a test batch. */
    static void writeCifar10(Path dir, int perBatch, int test) throws Exception {
        Files.createDirectories(dir);
        Random r = new Random(11);
        for (int f = 0; f <= 5; f++) {
            int n = f == 0 ? test : perBatch;
            byte[] b = new byte[n * 3073];
            for (int i = 0; i < n; i++) {
                int label = r.nextInt(10);
                b[i * 3073] = (byte) label;
                for (int p = 0; p < 3072; p++) b[i * 3073 + 1 + p] = (byte) ((p % 32) / 3 == label ? 180 + r.nextInt(60) : r.nextInt(50));
            }
            Files.write(dir.resolve(f == 0 ? "test_batch.bin" : "data_batch_" + f + ".bin"), b);
        }
    }

    Path cifar() throws Exception {
        if (cifar == null) {
            cifar = tmp.resolve("cifar10");
            writeCifar10(cifar, 8, 16); // 40 train images: 5 steps of 8
        }
        return cifar;
    }

    Path writeConfig(String name, String body) throws Exception {
        Path p = tmp.resolve(name + ".yaml");
        Files.writeString(p, body.replace("@DATA@", cifar().toString().replace("\\", "/")));
        return p;
    }

    static final String RESNET = """
            family: revsnn
            model: {cls: RevSResNet, layers: [1, 1, 1, 1], planes: [4, 8, 8, 16], num_classes: 10, T: 2}
            data: {dataset: cifar10, root: "@DATA@", download: false, batch_size: 8, eval_batch_size: 16, workers: 1,
                   mean: [0.4914, 0.4822, 0.4465], std: [0.557, 0.549, 0.5534]}
            optimizer: {name: sgd, lr: 0.1, momentum: 0.9, weight_decay: 1.0e-4}
            schedule: {name: multistep, milestones: [1], gamma: 0.1}
            train: {epochs: 2, seed: 5, threads: 1, checkpoint_every_steps: 3}
            """;

    static final String FORMER = """
            family: revsnn
            model: {cls: rev_vit_snn, embed_dims: 32, num_heads: 4, depths: 1, num_classes: 10, T: 1}
            data: {dataset: cifar10, root: "@DATA@", download: false, batch_size: 8, eval_batch_size: 16, workers: 1}
            optimizer: {name: adamw, lr: 5.0e-4, weight_decay: 0.06}
            schedule: {name: timm-cosine, warmup_epochs: 1, warmup_lr: 1.0e-5, min_lr: 1.0e-5}
            train: {epochs: 2, seed: 5, threads: 1, max_steps_per_epoch: 2, ema: true, ema_decay: 0.9}
            """;

    static Trainer.Result train(Path config, Path out, String... overrides) throws Exception {
        List<String> o = new ArrayList<>(List.of("train.out=" + out));
        o.addAll(List.of(overrides));
        TrainConfig cfg = ConfigLoader.load(config, o);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer.Result r = new Trainer(cfg, new PrintStream(log, true, StandardCharsets.UTF_8), false).run();
        assertTrue(r.completed(), log.toString(StandardCharsets.UTF_8));
        Files.writeString(out.resolve("train.log"), log.toString(StandardCharsets.UTF_8));
        return r;
    }

    Path resnetRun() throws Exception {
        if (resnetRun == null) {
            resnetRun = tmp.resolve("resnet");
            train(writeConfig("resnet", RESNET), resnetRun);
        }
        return resnetRun;
    }

    Path formerRun() throws Exception {
        if (formerRun == null) {
            formerRun = tmp.resolve("former");
            train(writeConfig("former", FORMER), formerRun);
        }
        return formerRun;
    }

    /** The reference clone (a checkout of mi804/RevSNN), or null. */
    static Path refDir() {
        for (String p : new String[]{System.getProperty("spikerev.revsnn.ref"), System.getenv("SPIKEREV_REVSNN_REF")}) {
            if (p == null || p.isBlank()) continue;
            Path d = Path.of(p);
            if (Files.isDirectory(d.resolve("cifar10")) && Files.isDirectory(d.resolve("cifar10-dvs"))) return d;
        }
        return null;
    }

    /** Runs tools/check_checkpoint_revsnn.py; returns its RESULT object (fails the test on a non-zero exit). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> check(Path ckpt, String refFolder, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(ckpt.toString(), "--check-lr"));
        if (refFolder != null) args.addAll(List.of("--ref-dir", refDir().resolve(refFolder).toString()));
        args.addAll(List.of(extra));
        Python.Result r = Python.runFile(null, Path.of("tools", "check_checkpoint_revsnn.py"), args.toArray(new String[0]));
        assertEquals(0, r.exit(), "check_checkpoint_revsnn.py " + args + ":\n" + r.out() + r.err());
        String line = r.out().lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).orElseThrow();
        return new ObjectMapper().readValue(line.substring("RESULT ".length()), Map.class);
    }

    static Map<?, ?> group(Map<?, ?> optimizer, int i) {
        return (Map<?, ?>) ((List<?>) optimizer.get("param_groups")).get(i);
    }

    static void assertSameTensors(String what, Map<?, ?> expected, Map<?, ?> actual) {
        assertEquals(expected.keySet(), actual.keySet(), what + " keys");
        for (Object k : expected.keySet()) {
            Object e = expected.get(k), a = actual.get(k);
            if (e instanceof Tensor te) assertTrue(a instanceof Tensor ta && ta.equal(te), what + "." + k + " differs");
            else if (e instanceof Map<?, ?> me) assertSameTensors(what + "." + k, me, (Map<?, ?>) a);
            else assertEquals(e instanceof Number n ? n.doubleValue() : e, a instanceof Number n ? n.doubleValue() : a, what + "." + k);
        }
    }

    // ------------------------------------------------------------------ Java-written files

    @Test
    void resnetRunWritesTrainResnetOriginLayout() throws Exception {
        Path run = resnetRun();
        RevSNNCheckpoint.Contents c = RevSNNCheckpoint.read(run.resolve("ckpt_epoch_0.pth"));
        assertEquals(RevSNNCheckpoint.Layout.RESNET_ORIGIN, c.layout());
        assertEquals(0, c.epoch());
        assertEquals(1, c.nextEpoch());
        Map<?, ?> raw = (Map<?, ?>) TorchFile.load(run.resolve("ckpt_epoch_0.pth"));
        assertEquals(List.of("model", "optimizer", "lr_scheduler", "epoch", "max_test_acc1", "test_acc5_at_max_test_acc1", "spikerev"),
                new ArrayList<>(raw.keySet()));
        // torch.optim.SGD(model.parameters()): one group, every parameter decayed; MultiStepLR stepped after epoch 0
        assertEquals(1, ((List<?>) c.optimizer().get("param_groups")).size());
        Map<?, ?> g = group(c.optimizer(), 0);
        assertEquals(1e-4, ((Number) g.get("weight_decay")).doubleValue());
        assertEquals(0.1, ((Number) g.get("initial_lr")).doubleValue());
        assertEquals(0.1 * 0.1, ((Number) g.get("lr")).doubleValue(), 1e-15, "the next epoch's lr (milestone 1)");
        assertEquals(1L, c.lrScheduler().get("last_epoch"));
        assertTrue(c.lrScheduler().get("milestones") instanceof PyObject o && o.qualifiedName().equals("collections.Counter"));
        assertTrue(c.maxTestAcc1() >= 0 && c.maxTestAcc1() <= 100 && c.testAcc5AtMax() >= c.maxTestAcc1(), c.maxTestAcc1() + " / " + c.testAcc5AtMax());

        for (String f : List.of("ckpt_epoch_0.pth", "last.pth", "best.pth")) {
            if (!Files.exists(run.resolve(f))) continue; // best.pth only once an epoch beats 0 %
            Map<String, Object> res = check(run.resolve(f), null);
            assertEquals("SCRIPT", res.get("layout"), f);
            assertEquals(List.of(62), res.get("groups"), f);
            assertEquals(RevSNNCheckpoint.read(run.resolve(f)).nextEpoch(), ((Number) res.get("start_epoch")).longValue(), f);
        }
        assertEquals(2, ((Number) check(run.resolve("last.pth"), null).get("start_epoch")).intValue());
    }

    @Test
    void resnetResumeFromScriptLayoutEqualsUninterrupted() throws Exception {
        Path run = resnetRun();
        Path resumed = tmp.resolve("resnet-resumed");
        Files.createDirectories(resumed);
        Files.copy(run.resolve("ckpt_epoch_0.pth"), resumed.resolve("from.pth"));
        train(writeConfig("resnet", RESNET), resumed, "train.resume=" + resumed.resolve("from.pth"));
        assertTrue(Files.readString(resumed.resolve("train.log")).contains("resumed from"));
        Map<String, Tensor> a = RevSNNCheckpoint.read(run.resolve("last.pth")).stateDict();
        Map<String, Tensor> b = RevSNNCheckpoint.read(resumed.resolve("last.pth")).stateDict();
        assertSameTensors("model", a, b);
        assertSameTensors("optimizer.state", (Map<?, ?>) RevSNNCheckpoint.read(run.resolve("last.pth")).optimizer().get("state"),
                (Map<?, ?>) RevSNNCheckpoint.read(resumed.resolve("last.pth")).optimizer().get("state"));
    }

    @Test
    void formerRunWritesTimmSaverLayout() throws Exception {
        Path run = formerRun();
        Map<?, ?> raw = (Map<?, ?>) TorchFile.load(run.resolve("last.pth"));
        assertEquals(List.of("epoch", "arch", "state_dict", "optimizer", "version", "state_dict_ema", "metric", "spikerev"),
                new ArrayList<>(raw.keySet()));
        RevSNNCheckpoint.Contents c = RevSNNCheckpoint.read(run.resolve("last.pth"));
        assertEquals(RevSNNCheckpoint.Layout.TIMM, c.layout());
        assertEquals(1, c.epoch());
        assertEquals(2, c.version());
        assertEquals(2, c.nextEpoch());
        assertEquals("RevSpikingformer", c.arch());
        assertNotNull(c.metric());
        assertEquals(2, ((List<?>) c.optimizer().get("param_groups")).size(), "timm param_groups_weight_decay: no-decay + decay");
        assertEquals(0.0, ((Number) group(c.optimizer(), 0).get("weight_decay")).doubleValue());
        assertEquals(0.06, ((Number) group(c.optimizer(), 1).get("weight_decay")).doubleValue());
        Map<String, Object> res = check(run.resolve("last.pth"), null);
        assertEquals("TIMM", res.get("layout"));
        assertEquals(2, ((Number) res.get("start_epoch")).intValue());
    }

    /** {@code spikerev eval} reads both layouts' weights ({@code model}, timm's {@code state_dict}, {@code state_dict_ema}). */
    @Test
    void evalCommandReadsBothLayouts() throws Exception {
        String[][] cases = {
                {writeConfig("resnet", RESNET).toString(), resnetRun().resolve("last.pth").toString()},
                {writeConfig("former", FORMER).toString(), formerRun().resolve("last.pth").toString()},
                {writeConfig("former", FORMER).toString(), formerRun().resolve("last.pth").toString(), "--ema"}};
        for (String[] c : cases) {
            PrintStream old = System.out;
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            int rc;
            java.io.StringWriter err = new java.io.StringWriter();
            try {
                System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
                List<String> args = new ArrayList<>(List.of("eval", "--config", c[0], "--checkpoint", c[1]));
                if (c.length > 2) args.add(c[2]);
                rc = dev.spikerev.cli.SpikeRev.commandLine(new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(err, true))
                        .execute(args.toArray(new String[0]));
            } finally {
                System.setOut(old);
            }
            String out = buf.toString(StandardCharsets.UTF_8);
            assertEquals(0, rc, out + err);
            assertTrue(out.contains("top-1 accuracy") && out.contains(c.length > 2 ? "(EMA)" : "eval "), out);
        }
    }

    /** DVS RevSResNet (cifar10-dvs/train_resnet.py): timm AdamW groups + timm CosineLRScheduler state, written directly. */
    Path dvsFile() throws Exception {
        Path f = tmp.resolve("dvs").resolve("checkpoint_latest.pth");
        if (Files.exists(f)) return f;
        Path fx = Fixtures.of("revsnn", "revsresnet_dvs_tiny");
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = new ObjectMapper().readValue(fx.resolve("meta.json").toFile(), Map.class);
        Path cfgFile = tmp.resolve("dvs.yaml");
        Files.writeString(cfgFile, """
                family: revsnn
                model: {cls: RevSResNet, dvs: true, layers: [1, 1, 1], planes: [4, 4, 8], num_classes: 10, T: 2}
                optimizer: {name: adamw, lr: 1.0e-3, weight_decay: 0.06}
                schedule: {name: timm-cosine, warmup_epochs: 10, warmup_lr: 1.0e-5, min_lr: 1.0e-5, cooldown_epochs: 10}
                train: {epochs: 106}
                """);
        TrainConfig cfg = ConfigLoader.load(cfgFile, List.of());
        try (PointerScope s = new PointerScope()) {
            FamilyModel m = new RevSNNFamily().build(meta);
            StateDictIO.loadStateDict(m.module(), StateDicts.tensors(TorchFile.load(fx.resolve("model.pth")), "model.pth"), true);
            Optimizer opt = Optimizers.build(cfg, m.module());
            assertEquals(2, opt.paramGroups().size());
            opt.paramGroups().forEach(g -> g.set("initial_lr", 1e-3));
            Map<?, ?> io = (Map<?, ?>) TorchFile.load(fx.resolve("io.pt"));
            Tensor[] lo = m.forwardLoss((Tensor) io.get("input"), (Tensor) io.get("target"));
            opt.zeroGrad();
            m.backward(lo[1]);
            opt.step();
            int epoch = 4; // finished epochs 0..4; the groups hold the lr of epoch 5
            opt.setLr(Optimizers.schedule(cfg, 10).lr(epoch + 1));
            RevSNNCheckpoint.write(f, new RevSNNCheckpoint.Contents(RevSNNCheckpoint.Layout.DVS, epoch, 0,
                    new LinkedHashMap<>(StateDictIO.stateDict(m.module())), opt.stateDict(),
                    RevSNNCheckpoint.lrSchedulerState(cfg, epoch + 1, opt.paramGroups().size()), 41.5, 88.0, null, null, null, null));
        }
        return f;
    }

    @Test
    void dvsLayoutLoadsIntoAdamWAndTimmScheduler() throws Exception {
        Path f = dvsFile();
        RevSNNCheckpoint.Contents c = RevSNNCheckpoint.read(f);
        assertEquals(RevSNNCheckpoint.Layout.DVS, c.layout(), "a timm scheduler state marks the DVS scripts");
        assertEquals(96L, c.lrScheduler().get("t_initial"));
        Map<String, Object> res = check(f, null);
        assertEquals(5, ((Number) res.get("start_epoch")).intValue());
        assertEquals(41.5, ((Number) res.get("max_test_acc1")).doubleValue());
        assertEquals(88.0, ((Number) res.get("test_acc5_at_max_test_acc1")).doubleValue());
    }

    /** The checker fails (exit 1, naming the problem) on a file that is not in the scripts' layout. */
    @Test
    void checkerRejectsABrokenLayout() throws Exception {
        Map<Object, Object> ck = new LinkedHashMap<>((Map<?, ?>) TorchFile.load(resnetRun().resolve("last.pth")));
        ck.remove("max_test_acc1");
        Path bad = tmp.resolve("broken").resolve("no-max.pth");
        Files.createDirectories(bad.getParent());
        TorchFile.save(bad, ck);
        Python.Result r = Python.runFile(null, Path.of("tools", "check_checkpoint_revsnn.py"), bad.toString());
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("FAIL layout") && r.out().contains("max_test_acc1"), r.out());
    }

    // ------------------------------------------------------------------ with the reference model (skipped without the clone)

    @Test
    void referenceModelResumesJavaWrittenFiles() throws Exception {
        Assumptions.assumeTrue(refDir() != null, "RevSNN reference clone not given (-Dspikerev.revsnn.ref=DIR or SPIKEREV_REVSNN_REF)");
        Map<String, Object> r = check(resnetRun().resolve("last.pth"), "cifar10");
        assertTrue(String.valueOf(r.get("model")).startsWith("RevSResNet(layers=[1, 1, 1, 1], planes=[4, 8, 8, 16]"), r.toString());
        assertTrue(String.valueOf(check(resnetRun().resolve("ckpt_epoch_0.pth"), "cifar100").get("model")).startsWith("RevSResNet"));
        r = check(formerRun().resolve("last.pth"), "cifar10", "--heads", "4");
        assertTrue(String.valueOf(r.get("model")).startsWith("rev_vit_snn(embed_dims=32, num_heads=4, depths=1"), r.toString());
        r = check(dvsFile(), "cifar10-dvs");
        assertTrue(String.valueOf(r.get("model")).startsWith("RevSResNet(layers=[1, 1, 1], planes=[4, 4, 8]"), r.toString());
        assertEquals(List.of(31, 16), r.get("groups"));
        // a weight the reference model does not have: its strict load_state_dict refuses the file
        Map<Object, Object> ck = new LinkedHashMap<>((Map<?, ?>) TorchFile.load(resnetRun().resolve("last.pth")));
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>(StateDicts.tensors(ck.get("model"), "model"));
        sd.put("extra.weight", sd.get("fc.weight"));
        ck.put("model", StateDicts.ordered(sd));
        Path bad = tmp.resolve("broken").resolve("extra-key.pth");
        Files.createDirectories(bad.getParent());
        TorchFile.save(bad, ck);
        Python.Result res = Python.runFile(null, Path.of("tools", "check_checkpoint_revsnn.py"), bad.toString(), "--ref-dir",
                refDir().resolve("cifar10").toString());
        assertEquals(1, res.exit(), res.out() + res.err());
        assertTrue(res.out().contains("Unexpected key(s) in state_dict: \"extra.weight\""), res.out());
    }

    // ------------------------------------------------------------------ reference-layout files read by Java

    @ParameterizedTest
    @ValueSource(strings = {"revsresnet_cifar_tiny", "revsresnet_cifar_multiblock", "revsformer_cifar_tiny", "revsresnet_dvs_tiny",
            "revsformer_dvs_tiny"})
    @SuppressWarnings("unchecked")
    void readsAndRestoresTheReferenceHarnessCheckpoints(String c) throws Exception {
        Path dir = Fixtures.of("revsnn", c);
        Map<String, Object> meta = new ObjectMapper().readValue(dir.resolve("meta.json").toFile(), Map.class);
        try (PointerScope s = new PointerScope()) {
            RevSNNCheckpoint.Contents ck = RevSNNCheckpoint.read(dir.resolve("checkpoint.pth"));
            RevSNNCheckpoint.Layout want = c.contains("dvs") ? RevSNNCheckpoint.Layout.DVS
                    : c.contains("former") ? RevSNNCheckpoint.Layout.TIMM : RevSNNCheckpoint.Layout.RESNET_ORIGIN;
            assertEquals(want, ck.layout());
            assertEquals(0, ck.epoch());
            assertEquals(1, ck.nextEpoch());
            RevSNNFamily.Model m = (RevSNNFamily.Model) new RevSNNFamily().build(meta);
            assertEquals(want, RevSNNCheckpoint.Layout.of(m.net().config()));
            Optimizer opt = RevSNNFamily.optimizer(m.net(), (Map<String, Object>) meta.get("optimizer"));
            RevSNNCheckpoint.restore(dir.resolve("checkpoint.pth"), m.module(), opt);
            assertSameTensors("model", ck.stateDict(), StateDictIO.stateDict(m.module()));
            assertSameTensors("optimizer.state", (Map<?, ?>) ck.optimizer().get("state"), (Map<?, ?>) opt.stateDict().get("state"));
            for (int i = 0; i < opt.paramGroups().size(); i++)
                assertEquals(((Number) group(ck.optimizer(), i).get("lr")).doubleValue(), opt.paramGroups().get(i).lr());
        }
    }

    /** A torch-only Python script: the SCRIPT layout after three epochs of SGD + MultiStepLR, saved with torch.save. */
    static final String PY_WRITER = """
            import argparse, collections, sys, torch
            sd = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
            BUF = ("running_mean", "running_var", "num_batches_tracked")
            params = collections.OrderedDict((k, torch.nn.Parameter(v.clone())) for k, v in sd.items() if k.rsplit(".", 1)[-1] not in BUF)
            opt = torch.optim.SGD(params.values(), lr=0.1, momentum=0.9, weight_decay=1e-4)
            sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 2], gamma=0.1)
            g = torch.Generator().manual_seed(3)
            for epoch in range(3):
                for p in params.values():
                    p.grad = torch.randn(p.shape, generator=g)
                opt.step()
                sched.step()
            model = collections.OrderedDict((k, params[k].detach() if k in params else v) for k, v in sd.items())
            torch.save({"model": model, "optimizer": opt.state_dict(), "lr_scheduler": sched.state_dict(), "epoch": 2,
                        "args": argparse.Namespace(model="revs_resnet21", T=2, lr=0.1, weight_decay=1e-4),
                        "max_test_acc1": 63.25, "test_acc5_at_max_test_acc1": 97.5}, sys.argv[2])
            print("ok")
            """;

    @Test
    @SuppressWarnings("unchecked")
    void resumesFromAFileSavedByTorchInTheScriptLayout() throws Exception {
        Path file = tmp.resolve("py").resolve("checkpoint_latest.pth");
        Files.createDirectories(file.getParent());
        Python.run(PY_WRITER, Fixtures.of("revsnn", "revsresnet_cifar_tiny", "model.pth").toString(), file.toString());
        Path dir = Fixtures.of("revsnn", "revsresnet_cifar_tiny");
        Map<String, Object> meta = new ObjectMapper().readValue(dir.resolve("meta.json").toFile(), Map.class);
        try (PointerScope s = new PointerScope()) {
            RevSNNFamily.Model m = (RevSNNFamily.Model) new RevSNNFamily().build(meta);
            Optimizer opt = RevSNNFamily.optimizer(m.net(), (Map<String, Object>) meta.get("optimizer"));
            RevSNNCheckpoint.Contents c = RevSNNCheckpoint.restore(file, m.module(), opt);
            assertEquals(2, c.epoch());
            assertEquals(3, c.nextEpoch());
            assertEquals(63.25, c.maxTestAcc1());
            assertEquals(97.5, c.testAcc5AtMax());
            assertEquals(3L, c.lrScheduler().get("last_epoch"));
            Map<?, ?> fileState = (Map<?, ?>) c.optimizer().get("state");
            assertEquals(62, fileState.size());
            assertSameTensors("optimizer.state", fileState, (Map<?, ?>) opt.stateDict().get("state"));
            assertEquals(0.1 * 0.1 * 0.1, opt.paramGroups().get(0).lr(), 1e-15);
            assertEquals(0.1, opt.paramGroups().get(0).getDouble("initial_lr"));
            assertSameTensors("model", c.stateDict(), StateDictIO.stateDict(m.module()));
        }
        // spikerev train --resume FILE: continues with epoch index 3 from the file's weights, best accuracy and optimizer
        Path run = tmp.resolve("py-resumed");
        Trainer.Result r = train(writeConfig("resnet", RESNET), run, "train.resume=" + file, "train.epochs=4",
                "schedule.milestones=[1, 2]", "train.max_steps_per_epoch=1");
        String log = Files.readString(run.resolve("train.log"));
        assertTrue(log.contains("resumed from " + file + ": epoch 4, batch 0"), log);
        assertFalse(Files.exists(run.resolve("ckpt_epoch_2.pth")));
        RevSNNCheckpoint.Contents after = RevSNNCheckpoint.read(run.resolve("ckpt_epoch_3.pth"));
        assertEquals(3, after.epoch());
        assertTrue(after.maxTestAcc1() >= 63.25 && r.bestAcc() == after.maxTestAcc1(), after.maxTestAcc1() + " " + r.bestAcc());
        if (after.maxTestAcc1() == 63.25) assertEquals(97.5, after.testAcc5AtMax());
        assertEquals(4L, after.lrScheduler().get("last_epoch"));
    }
}
