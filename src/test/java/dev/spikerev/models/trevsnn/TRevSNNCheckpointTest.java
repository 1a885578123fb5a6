package dev.spikerev.models.trevsnn;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.models.trevsnn.TRevSNNCheckpoint.Contents;
import dev.spikerev.models.trevsnn.TRevSNNCheckpoint.Resumed;
import dev.spikerev.models.trevsnn.TRevSNNCheckpoint.WeightSource;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import dev.spikerev.testutil.Fixtures;
import dev.spikerev.testutil.Python;
import dev.spikerev.train.Lamb;
import dev.spikerev.train.ModelEma;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.bytedeco.pytorch.global.torch.equal;

/**
 * The reference training checkpoint (spec section 9): each fixture's {@code checkpoint.pth} is read, resumed into a
 * model + timm-layout Lamb + EMA (optimizer state equal to the file's tensors, EMA read, epoch and max_accuracy),
 * evaluated, written back from Java, read again by Java, and loaded by Python with {@code weights_only=True}: same
 * structure and values as the reference file except the documented differences ({@code input} omitted,
 * {@code config} a plain dict).
 */
class TRevSNNCheckpointTest {
    @TempDir Path tmp;

    @SuppressWarnings("unchecked")
    @ParameterizedTest
    @ValueSource(strings = {"k3_rev", "k5_rev", "k3_plain"})
    void readResumeEvaluateWriteAndPythonLoads(String name) throws Exception {
        Natives.setThreads(2);
        Path dir = Fixtures.of("t-revsnn", name);
        Path ref = dir.resolve("checkpoint.pth");
        Path out = tmp.resolve(name + "_java_ckpt.pth"), noEma = tmp.resolve(name + "_java_ckpt_no_ema.pth");
        Map<String, Object> meta = new ObjectMapper().readValue(dir.resolve("meta.json").toFile(), Map.class);
        try (PointerScope scope = new PointerScope()) {
            Contents c = TRevSNNCheckpoint.read(ref);
            assertEquals(List.of("model", "optimizer", "max_accuracy", "epoch", "state_dict_ema", "input", "config"), c.keys());
            assertTrue(c.hasInput());
            assertEquals(0L, c.epoch());
            assertEquals(0.0, c.maxAccuracy());
            assertEquals(499, c.model().size());
            assertNotNull(c.ema());
            assertEquals(499, c.ema().size());
            Map<String, Object> model = (Map<String, Object>) c.config().get("MODEL");
            assertEquals(10L, model.get("NUM_CLASSES"));
            assertEquals("lamb", ((Map<String, Object>) ((Map<String, Object>) c.config().get("TRAIN")).get("OPTIMIZER")).get("NAME"));

            TRevSNN net = new TRevSNN(TRevSNNConfig.fromConstructor((Map<String, Object>) meta.get("constructor")));
            Lamb lamb = TRevSNNFamily.lambOptimizer(net, 2e-3, 0.01, 1e-8, new double[]{0.9, 0.999}, 1.0, true);
            ModelEma ema = new ModelEma(StateDictIO.stateDict(net), 0.9992, ModelEma.Mode.FAITHFUL);
            Resumed r = TRevSNNCheckpoint.resume(ref, net, lamb, ema, WeightSource.MODEL);
            assertEquals(1L, r.startEpoch());
            assertTrue(r.optimizerRestored() && r.emaRestored() && !r.weightsFromEma());

            // optimizer state = the file's tensors, index by index (group 0 then group 1, shared params once)
            Map<Object, Object> fileState = (Map<Object, Object>) c.optimizer().get("state");
            assertEquals(lamb.params().size(), fileState.size());
            int n = 0;
            for (Map.Entry<Object, Object> e : fileState.entrySet()) {
                int idx = ((Number) e.getKey()).intValue();
                Map<String, Object> fs = (Map<String, Object>) e.getValue();
                Map<String, Object> js = lamb.state(idx);
                assertEquals(fs.keySet(), js.keySet());
                for (String k : fs.keySet()) {
                    assertTrue(equal((Tensor) fs.get(k), (Tensor) js.get(k)), name + " state " + idx + "." + k);
                    assertArrayEquals(lamb.params().get(idx).sizes().vec().get(), ((Tensor) js.get(k)).sizes().vec().get());
                    n++;
                }
            }
            List<Object> fileGroups = (List<Object>) c.optimizer().get("param_groups");
            for (int g = 0; g < 2; g++) {
                Map<String, Object> fg = (Map<String, Object>) fileGroups.get(g);
                assertEquals(((List<?>) fg.get("params")).size(), lamb.paramGroups().get(g).params().size());
                assertEquals(2.0, ((Tensor) lamb.paramGroups().get(g).get("step")).item_double());
                assertEquals(((Number) fg.get("weight_decay")).doubleValue(), lamb.paramGroups().get(g).getDouble("weight_decay"));
                assertArrayEquals(new double[]{0.9, 0.999}, lamb.paramGroups().get(g).getPair("betas"));
            }
            // EMA and model weights
            Map<String, Tensor> emaFile = StateDicts.tensors(c.ema());
            for (Map.Entry<String, Tensor> e : ema.state().entrySet())
                assertTrue(equal(e.getValue(), emaFile.get(e.getKey())), "ema " + e.getKey());
            Map<String, Tensor> sd = StateDictIO.stateDict(net);
            Map<String, Tensor> modelFile = StateDicts.tensors(c.model());
            for (Map.Entry<String, Tensor> e : sd.entrySet()) assertTrue(equal(e.getValue(), modelFile.get(e.getKey())), e.getKey());
            double emaShift = 0;
            for (Map.Entry<String, Tensor> e : emaFile.entrySet())
                if (e.getValue().is_floating_point())
                    emaShift = Math.max(emaShift, e.getValue().sub(modelFile.get(e.getKey())).abs().max().item_double());

            // evaluate from it: the checkpoint's model is the fixture's model after its steps
            Map<String, Object> io = (Map<String, Object>) TorchFile.load(dir.resolve("io.pt"));
            net.train(false);
            double d;
            try (NoGradGuard ng = new NoGradGuard()) {
                List<Tensor> heads = net.forward((Tensor) io.get("input"));
                d = heads.get(3).sub((Tensor) io.get("logits_eval_after_steps")).abs().max().item_double();
            }
            assertTrue(d <= 1e-4, "eval from checkpoint vs logits_eval_after_steps: " + d);
            // the reference's resume: EMA weights into the model
            TRevSNN net2 = new TRevSNN(TRevSNNConfig.fromConstructor((Map<String, Object>) meta.get("constructor")));
            Resumed r2 = TRevSNNCheckpoint.resume(ref, net2, null, null, WeightSource.EMA_IF_PRESENT);
            assertTrue(r2.weightsFromEma() && !r2.optimizerRestored());
            for (Map.Entry<String, Tensor> e : StateDictIO.stateDict(net2).entrySet())
                assertTrue(equal(e.getValue(), emaFile.get(e.getKey())), "ema->model " + e.getKey());
            System.out.printf("[checkpoint] %s: read %s; optimizer: %d state tensors equal, step 2 in both groups; "
                    + "EMA read (max |ema-model| %.3g); eval from checkpoint vs logits_eval_after_steps %.3g%n",
                    name, c.keys(), n, emaShift, d);

            // write from Java, read back in Java
            TRevSNNCheckpoint.write(out, net, lamb, ema, c.epoch(), c.maxAccuracy(), c.config());
            TRevSNNCheckpoint.write(noEma, net, lamb, null, c.epoch(), c.maxAccuracy(), c.config());
            assertNull(TRevSNNCheckpoint.read(noEma).ema());
            Contents back = TRevSNNCheckpoint.read(out);
            assertEquals(List.of("model", "optimizer", "max_accuracy", "epoch", "state_dict_ema", "config"), back.keys());
            assertEquals(c.config(), back.config());
            assertEquals(c.epoch(), back.epoch());
            TRevSNN net3 = new TRevSNN(TRevSNNConfig.fromConstructor((Map<String, Object>) meta.get("constructor")));
            Lamb lamb3 = TRevSNNFamily.lambOptimizer(net3, 2e-3, 0.01, 1e-8, new double[]{0.9, 0.999}, 1.0, true);
            TRevSNNCheckpoint.resume(out, net3, lamb3, null, WeightSource.MODEL);
            for (int i = 0; i < lamb.params().size(); i++)
                for (String k : List.of("exp_avg", "exp_avg_sq"))
                    assertTrue(equal((Tensor) lamb.state(i).get(k), (Tensor) lamb3.state(i).get(k)), "round trip state " + i);
            for (Map.Entry<String, Tensor> e : StateDictIO.stateDict(net3).entrySet())
                assertTrue(equal(e.getValue(), sd.get(e.getKey())), "round trip " + e.getKey());
        }
        String report = Python.run(PY_COMPARE, out.toString(), ref.toString());
        System.out.print(report);
        assertTrue(report.contains("STRUCTURE OK"), report);
        // optional (needs a reference clone): the reference's own utils.load_checkpoint resumes from the Java file
        String refDir = System.getProperty("spikerev.trevsnn.ref");
        if (refDir != null && !refDir.isBlank()) {
            // with EMA: the reference puts the EMA weights into the model (checked against the file)
            Python.Result r = Python.runFile(System.getProperty("spikerev.refpython"), Path.of("tools", "ref_resume.py"),
                    out.toString(), "--ref-dir", refDir);
            System.out.print(r.out());
            assertEquals(0, r.exit(), r.out() + r.err());
            // without EMA (key omitted): the model weights; eval logits = the fixture's after-steps logits
            r = Python.runFile(System.getProperty("spikerev.refpython"), Path.of("tools", "ref_resume.py"),
                    noEma.toString(), "--ref-dir", refDir, "--model-ema", "0", "--io", dir.resolve("io.pt").toString());
            System.out.print(r.out());
            assertEquals(0, r.exit(), r.out() + r.err());
        }
    }

    /** Loads the Java file with weights_only=True and the reference file (trusted) and compares them. */
    static final String PY_COMPARE = String.join("\n",
            "import pickle, sys, types, torch",
            "java = torch.load(sys.argv[1], map_location='cpu', weights_only=True)",
            "print('java file: torch.load(weights_only=True) OK, keys', list(java))",
            "class CfgNode(dict): pass",
            "class U(pickle.Unpickler):",
            "    def find_class(self, m, n):",
            "        if (m, n) == ('yacs.config', 'CfgNode'): return CfgNode",
            "        return super().find_class(m, n)",
            "pm = types.ModuleType('pm'); pm.Unpickler = U; pm.load = pickle.load",
            "ref = torch.load(sys.argv[2], map_location='cpu', weights_only=False, pickle_module=pm)",
            "errs = []",
            "def check(c, msg):",
            "    if not c: errs.append(msg)",
            "check(list(java) == [k for k in ref if k != 'input'], 'top-level keys %s vs %s' % (list(java), list(ref)))",
            "def plain(v):",
            "    return {k: plain(x) for k, x in v.items()} if isinstance(v, dict) else v",
            "check(type(java['config']) is dict and java['config'] == plain(ref['config']), 'config')",
            "for k in ('epoch', 'max_accuracy'):",
            "    check(type(java[k]) is type(ref[k]) and java[k] == ref[k], k)",
            "def same_sd(a, b, what):",
            "    check(type(a).__name__ == 'OrderedDict' and list(a) == list(b), what + ' keys/order')",
            "    for k in b:",
            "        check(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, what + ' dtype/shape ' + k)",
            "    groups = lambda sd: sorted(sorted(ks) for ks in ({p: [k for k in sd if sd[k].untyped_storage().data_ptr() == p] for p in {v.untyped_storage().data_ptr() for v in sd.values()}}).values() if len(ks) > 1)",
            "    check(groups(a) == groups(b), what + ' alias groups')",
            "same_sd(java['model'], ref['model'], 'model')",
            "same_sd(java['state_dict_ema'], ref['state_dict_ema'], 'state_dict_ema')",
            "dm = max((java['model'][k].double() - ref['model'][k].double()).abs().max().item() for k in ref['model'])",
            "de = max((java['state_dict_ema'][k].double() - ref['state_dict_ema'][k].double()).abs().max().item() for k in ref['model'])",
            "check(dm == 0 and de == 0, 'values model %g ema %g' % (dm, de))",
            "jo, ro = java['optimizer'], ref['optimizer']",
            "check(list(jo) == list(ro) and list(jo['state']) == list(ro['state']), 'optimizer state keys')",
            "for i, s in ro['state'].items():",
            "    check(list(jo['state'][i]) == list(s) and all(torch.equal(jo['state'][i][k], s[k]) for k in s), 'state %d' % i)",
            "for jg, rg in zip(jo['param_groups'], ro['param_groups']):",
            "    check(list(jg) == list(rg), 'group keys %s vs %s' % (list(jg), list(rg)))",
            "    for k in rg:",
            "        a, b = jg[k], rg[k]",
            "        ok = torch.equal(a, b) and a.dtype == b.dtype and a.dim() == b.dim() if isinstance(b, torch.Tensor) else (type(a) is type(b) and a == b)",
            "        check(ok, 'group %s: %r vs %r' % (k, a, b))",
            "print('compared: model %d, ema %d, optimizer state %d, groups %d; max |java-ref| model %g ema %g' % (len(ref['model']), len(ref['state_dict_ema']), len(ro['state']), len(ro['param_groups']), dm, de))",
            "print('STRUCTURE OK' if not errs else 'DIFFERENCES: %s' % errs[:10])",
            "");
}
