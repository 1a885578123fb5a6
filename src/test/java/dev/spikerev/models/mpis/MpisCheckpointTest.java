package dev.spikerev.models.mpis;

import dev.spikerev.checkpoint.CheckpointFormatException;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import dev.spikerev.testutil.Python;
import dev.spikerev.train.SGD;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.spikerev.models.mpis.MpisAssert.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The training scripts' checkpoint layout ({@link MpisCheckpoint}, spec 9.3): the fixtures' checkpoint.pth read and
 * resumed (weights + SGD momentum buffers), a Java-written checkpoint round-tripped (resume gives bit-identical further
 * steps), and Python ({@code torch.load(weights_only=True)}, test venv) seeing the same structure as in the fixture's file.
 * With {@code -Dmpis.checkpoint.out=DIR} the written files are kept for the reference checks
 * ({@code tools/check_checkpoint_mpis.py}).
 */
class MpisCheckpointTest {
    @TempDir Path tmp;

    @BeforeAll
    static void threads() { Natives.setThreads(2); }

    /** Model from model.pth, {@code meta.steps} SGD steps on the fixture batch; returns the stepper. */
    static MpisModel.SgdStepper train(MpisModel model, MpisFixture f, int steps) {
        MpisModel.SgdStepper opt = model.optimizer(f.optimizer());
        for (int i = 0; i < steps; i++) step(model, opt, f);
        return opt;
    }

    static void step(MpisModel model, MpisModel.SgdStepper opt, MpisFixture f) {
        try (PointerScope s = new PointerScope()) {
            Tensor[] out = model.forwardLoss(f.tensor("io/input"), f.tensor("io/target"));
            opt.zeroGrad();
            model.backward(out[1]);
            opt.step();
        }
    }

    static int steps(MpisFixture f) { return ((Number) f.meta.get("steps")).intValue(); }

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void readsAndResumesFixtureCheckpoint(String c) {
        MpisFixture f = MpisFixture.load(c);
        try (PointerScope ps = new PointerScope()) {
            MpisCheckpoint.Contents ck = MpisCheckpoint.read(f.dir.resolve("checkpoint.pth"));
            assertEquals(1, ck.epoch());
            assertTrue(ck.dataParallel(), "the scripts wrap the model in DataParallel: 'module.' keys");
            assertTrue(ck.acc() >= 0 && ck.acc() <= 100 && ck.bestAcc() >= ck.acc(), ck.acc() + " / " + ck.bestAcc());
            MpisModel model = new MpisModel(MpisConfig.fromConstructor(f.constructor(), null));
            SGD sgd = model.optimizer(f.optimizer()).sgd();
            MpisCheckpoint.restore(f.dir.resolve("checkpoint.pth"), model.net(), sgd);
            // weights: the file's, bit for bit; and they reproduce the fixture's eval logits after the steps
            Map<String, Tensor> sd = StateDictIO.stateDict(model.net());
            assertEquals(ck.stateDict().keySet(), sd.keySet());
            for (String k : sd.keySet()) exact(c + " restored " + k, sd.get(k), ck.stateDict().get(k));
            // optimizer: one group with the file's options, momentum buffers equal the file's
            Map<?, ?> fileState = (Map<?, ?>) ck.optimizer().get("state");
            Map<?, ?> fileGroup = (Map<?, ?>) ((List<?>) ck.optimizer().get("param_groups")).get(0);
            assertEquals(((Number) fileGroup.get("lr")).doubleValue(), sgd.paramGroups().get(0).lr());
            assertEquals(((List<?>) fileGroup.get("params")).size(), sgd.params().size(), "parameters in the group (spec 9.2)");
            int n = 0;
            for (int i = 0; i < sgd.params().size(); i++) {
                Object st = fileState.get((long) i);
                if (st == null) {
                    assertTrue(sgd.state(i).isEmpty(), "no state for parameter " + i);
                    continue;
                }
                Tensor buf = (Tensor) ((Map<?, ?>) st).get("momentum_buffer");
                exact(c + " momentum_buffer[" + i + "]", (Tensor) sgd.state(i).get("momentum_buffer"), buf);
                assertArrayEquals(sgd.params().get(i).sizes().vec().get(), buf.sizes().vec().get(), "buffer " + i + " shape = param shape");
                n++;
            }
            assertEquals(c.startsWith("static") ? 43 : 35, n, "momentum buffers (spec 9.2)");
            // and they equal what our own SGD accumulates over the fixture's steps
            MpisModel ours = new MpisModel(f.model(null));
            SGD own = train(ours, f, steps(f)).sgd();
            double[] tg = f.tol("grads");
            double d = 0;
            for (int i = 0; i < own.params().size(); i++)
                if (!own.state(i).isEmpty())
                    d = Math.max(d, close(c + " own momentum[" + i + "]", (Tensor) own.state(i).get("momentum_buffer"),
                            (Tensor) sgd.state(i).get("momentum_buffer"), tg[0], tg[1]));
            model.net().train(false);
            Tensor le;
            try (NoGradGuard ng = new NoGradGuard()) {
                le = model.predict(f.tensor("io/input"));
            }
            double[] tl = f.tol("logits");
            double dl = close(c + " logits from checkpoint.pth", le, f.tensor("io/logits_eval_after_steps"), tl[0], tl[1]);
            report(String.format("%s: checkpoint.pth epoch %d, acc %.1f, best %.1f; %d keys and %d momentum buffers restored exactly; "
                    + "our 2-step momentum vs file %.2e; eval logits %.2e", c, ck.epoch(), ck.acc(), ck.bestAcc(), sd.size(), n, d, dl));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void javaWrittenCheckpointRoundTripsAndResumesExactly(String c) throws Exception {
        MpisFixture f = MpisFixture.load(c);
        try (PointerScope ps = new PointerScope()) {
            MpisModel a = new MpisModel(f.model(null));
            MpisModel.SgdStepper optA = train(a, f, steps(f));
            Path file = tmp.resolve(c + ".pth.tar");
            MpisCheckpoint.write(file, a.net(), optA.sgd(), 1, 50.0, 75.0);
            MpisCheckpoint.Contents ck = MpisCheckpoint.read(file);
            assertEquals(1, ck.epoch());
            assertEquals(50.0, ck.acc());
            assertEquals(75.0, ck.bestAcc());
            assertTrue(ck.dataParallel());
            Map<String, Tensor> sd = StateDictIO.stateDict(a.net());
            assertEquals(List.copyOf(sd.keySet()), List.copyOf(ck.stateDict().keySet()), "keys in order");
            for (String k : sd.keySet()) exact("round trip " + k, ck.stateDict().get(k), sd.get(k));
            // resume into a fresh model + SGD, then one more step on both: identical
            MpisModel b = new MpisModel(MpisConfig.fromConstructor(f.constructor(), null));
            MpisModel.SgdStepper optB = b.optimizer(f.optimizer());
            MpisCheckpoint.restore(file, b.net(), optB.sgd());
            step(a, optA, f);
            step(b, optB, f);
            Map<String, Tensor> sa = StateDictIO.stateDict(a.net()), sb = StateDictIO.stateDict(b.net());
            for (String k : sa.keySet()) exact("step after resume " + k, sb.get(k), sa.get(k));
            for (int i = 0; i < optA.sgd().params().size(); i++)
                if (!optA.sgd().state(i).isEmpty())
                    exact("momentum after resume " + i, (Tensor) optB.sgd().state(i).get("momentum_buffer"),
                            (Tensor) optA.sgd().state(i).get("momentum_buffer"));
            // a bare state_dict is not a training checkpoint
            Path bare = tmp.resolve(c + "-bare.pth");
            TorchFile.saveStateDict(bare, sd);
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> MpisCheckpoint.read(bare));
            assertTrue(e.getMessage().contains("epoch"), e.getMessage());
            report(String.format("%s: Java checkpoint %d bytes, %d keys; resumed model and SGD step identically (bitwise)",
                    c, Files.size(file), sd.size()));
        }
    }

    static final String PY_COMPARE = """
            import sys, collections, torch
            java_path, ref_path, atol, rtol = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
            J = torch.load(java_path, map_location='cpu', weights_only=True)
            R = torch.load(ref_path, map_location='cpu', weights_only=True)
            def ty(v):
                return 'dict' if isinstance(v, dict) else type(v).__name__
            def sd_rows(sd):
                first, rows = {}, []
                for k, v in sd.items():
                    sid = (v.untyped_storage().data_ptr(), v.storage_offset(), tuple(v.shape))
                    a = first.setdefault(sid, k)
                    rows.append((k, tuple(v.shape), str(v.dtype), '' if a == k else a))
                return rows
            assert list(J) == list(R), ('top-level keys', list(J), list(R))
            assert [ty(J[k]) for k in J] == [ty(R[k]) for k in R], ('top-level types', [ty(J[k]) for k in J], [ty(R[k]) for k in R])
            assert isinstance(J['epoch'], int) and J['epoch'] == R['epoch'], (J['epoch'], R['epoch'])
            assert all(k.startswith('module.') for k in J['state_dict']), 'module. prefix'
            jr, rr = sd_rows(J['state_dict']), sd_rows(R['state_dict'])
            assert jr == rr, [(a, b) for a, b in zip(jr, rr) if a != b][:5]
            worst = 0.0
            for k, v in R['state_dict'].items():
                w = J['state_dict'][k]
                if v.dtype == torch.int64:
                    assert torch.equal(w, v), k
                else:
                    assert torch.allclose(w, v, atol=atol, rtol=rtol), (k, (w - v).abs().max().item())
                    worst = max(worst, (w - v).abs().max().item())
            jo, ro = J['optimizer'], R['optimizer']
            assert list(jo) == list(ro) == ['state', 'param_groups'], (list(jo), list(ro))
            assert len(jo['param_groups']) == len(ro['param_groups']) == 1
            jg, rg = jo['param_groups'][0], ro['param_groups'][0]
            assert list(jg) == list(rg), (list(jg), list(rg))
            for k in rg:
                assert jg[k] == rg[k] and type(jg[k]) is type(rg[k]), (k, jg[k], rg[k])
            assert list(jo['state']) == list(ro['state']), (list(jo['state']), list(ro['state']))
            mworst = 0.0
            for i, st in ro['state'].items():
                assert list(jo['state'][i]) == list(st) == ['momentum_buffer'], (i, list(jo['state'][i]))
                a, b = jo['state'][i]['momentum_buffer'], st['momentum_buffer']
                assert a.shape == b.shape and a.dtype == b.dtype, i
                assert torch.allclose(a, b, atol=1e-4, rtol=1e-3), (i, (a - b).abs().max().item())
                mworst = max(mworst, (a - b).abs().max().item())
            md = getattr(J['state_dict'], '_metadata', None)
            print('OK keys=%d aliases=%d state=%d params=%d sd_max_diff=%.3e momentum_max_diff=%.3e metadata=%s %s' % (
                len(jr), sum(1 for r in jr if r[3]), len(jo['state']), len(jg['params']), worst, mworst,
                None if md is None else len(md), type(J['state_dict']).__name__))
            """;

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void pythonReadsJavaCheckpointWithTheFixtureStructure(String c) throws Exception {
        MpisFixture f = MpisFixture.load(c);
        try (PointerScope ps = new PointerScope()) {
            MpisModel a = new MpisModel(f.model(null));
            MpisModel.SgdStepper opt = train(a, f, steps(f));
            MpisCheckpoint.Contents ref = MpisCheckpoint.read(f.dir.resolve("checkpoint.pth"));
            Path out = keepDir(c);
            Path file = (out != null ? out : tmp).resolve("checkpoint.pth.tar");
            MpisCheckpoint.write(file, a.net(), opt.sgd(), ref.epoch(), ref.acc(), ref.bestAcc());
            double[] ts = f.tol("after_steps");
            String res = Python.run(PY_COMPARE, file.toString(), f.dir.resolve("checkpoint.pth").toString(),
                    Double.toString(ts[0]), Double.toString(ts[1])).strip();
            report(c + ": python torch.load(weights_only=True) of the Java checkpoint vs the fixture's: " + res);
            assertTrue(res.startsWith("OK"), res);
            if (out != null) {
                // for the reference checks: a bare state_dict (ref_mpis.py check) and the state after one more step
                TorchFile.saveStateDict(out.resolve("state_dict.pth"), StateDictIO.stateDict(a.net()));
                step(a, opt, f);
                TorchFile.saveStateDict(out.resolve("after_next_step.pth"), StateDictIO.stateDict(a.net()));
                report(c + ": kept " + file + ", state_dict.pth, after_next_step.pth");
            }
        }
    }

    private static Path keepDir(String c) throws Exception {
        String d = System.getProperty("mpis.checkpoint.out");
        if (d == null || d.isBlank()) return null;
        Path p = Path.of(d, c);
        Files.createDirectories(p);
        return p;
    }

    @Test
    void writeRejectsAForeignOptimizer() {
        MpisFixture f = MpisFixture.load("neuro_nmnist_small");
        try (PointerScope ps = new PointerScope()) {
            MPISNet net = f.model(null);
            SGD partial = new SGD(List.of(dev.spikerev.train.ParamGroup.of(net.uniqueParameters().subList(0, 3))), new LinkedHashMap<>(Map.of("lr", 0.1)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MpisCheckpoint.write(tmp.resolve("x.pth"), net, partial, 1, 0, 0));
            assertTrue(e.getMessage().contains("MpisModel.sgd"), e.getMessage());
        }
    }
}
