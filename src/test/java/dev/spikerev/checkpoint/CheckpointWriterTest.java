package dev.spikerev.checkpoint;

import static org.bytedeco.pytorch.global.torch.arange;
import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.randn;
import static org.bytedeco.pytorch.global.torch.scalar_tensor;
import static org.bytedeco.pytorch.global.torch.zeros;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spikerev.tensor.Natives;
import dev.spikerev.testutil.Fixtures;
import dev.spikerev.testutil.Python;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Java writes; PyTorch (weights_only=True) and the Java reader read back identical values. */
class CheckpointWriterTest {
    @TempDir Path tmp;

    private static Tensor rand(ScalarType t, long... shape) { return randn(shape).mul(new Scalar(3.0)).to(t); }

    /** A value using every supported type, shared views, 0-d, empty and non-contiguous tensors. */
    static Map<String, Object> sample() {
        Natives.init();
        manual_seed(7);
        Tensor base = randn(4, 6);
        PyOrderedDict sd = new PyOrderedDict();
        sd.put("base", base);
        sd.put("base_t", base.t());                        // non-contiguous view, shares storage
        sd.put("row1", base.select(0, 1));                 // offset 6
        sd.put("cols", base.narrow(1, 2, 3));              // offset 2, non-contiguous
        sd.put("strided", base.view(24).slice(0, new org.bytedeco.pytorch.LongOptional(1), new org.bytedeco.pytorch.LongOptional(24), 5));
        sd.put("f16", rand(ScalarType.Half, 3, 5));
        sd.put("bf16", rand(ScalarType.BFloat16, 2, 2, 3));
        sd.put("f64", rand(ScalarType.Double, 7));
        sd.put("i64", arange(new Scalar(-5), new Scalar(5), new TensorOptions(ScalarType.Long)).mul(new Scalar(1_000_000_007L)));
        sd.put("i32", arange(new Scalar(0), new Scalar(6), new TensorOptions(ScalarType.Int)).reshape(2, 3));
        sd.put("i16", rand(ScalarType.Short, 4));
        sd.put("i8", rand(ScalarType.Char, 4));
        sd.put("u8", arange(new Scalar(250), new Scalar(256), new TensorOptions(ScalarType.Byte)));
        sd.put("mask", randn(3, 4).gt(new Scalar(0.0)));
        sd.put("scalar", scalar_tensor(new Scalar(2.5)));
        sd.put("num_batches_tracked", scalar_tensor(new Scalar(17L), new TensorOptions(ScalarType.Long)));
        sd.put("empty", zeros(0, 3));
        sd.put("empty_i", zeros(new long[] {0}, new TensorOptions(ScalarType.Long)));
        Tensor other = randn(10);
        Map<Object, Object> state = new LinkedHashMap<>();
        state.put(0L, new LinkedHashMap<>(Map.of("momentum_buffer", other.narrow(0, 0, 5))));
        state.put(1L, new LinkedHashMap<>(Map.of("momentum_buffer", other.narrow(0, 5, 5))));
        Map<String, Object> optimizer = new LinkedHashMap<>();
        optimizer.put("state", state);
        List<Object> groups = new ArrayList<>();
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("lr", 0.1);
        g.put("betas", PyTuple.of(0.9, 0.999));
        g.put("params", new ArrayList<>(List.of(0L, 1L)));
        g.put("nesterov", false);
        g.put("foreach", null);
        groups.add(g);
        optimizer.put("param_groups", groups);

        Map<String, Object> top = new LinkedHashMap<>();
        top.put("model", sd);
        top.put("optimizer", optimizer);
        top.put("epoch", 3L);
        top.put("int", 7);
        top.put("float", 1.5f);
        top.put("neg", -123456L);
        top.put("int32min", (long) Integer.MIN_VALUE);
        top.put("longmin", Long.MIN_VALUE);
        top.put("longmax", Long.MAX_VALUE);
        top.put("big", BigInteger.TWO.pow(100).negate().add(BigInteger.ONE));
        top.put("lr", 1e-05);
        top.put("nan_free", -0.0);
        top.put("name", "spikerev ✓ jävä\n'quote'");
        top.put("long_string", "x".repeat(300));
        top.put("none", null);
        top.put("flag", true);
        top.put("bytes", new byte[] {0, (byte) 255, 10, (byte) 0x80});
        top.put("list", new ArrayList<>(List.of(1L, 2.5, "x", new ArrayList<>(List.of(PyTuple.of())))));
        top.put("tuple", PyTuple.of(1L, "a", null, PyTuple.of(2L, 3L)));
        top.put("size", PyTuple.ofLongs(2, 3, 32, 32));
        Map<Object, Object> keys = new LinkedHashMap<>();
        keys.put(5L, "five");
        keys.put(PyTuple.of("a", 1L), "tuple key");
        top.put("keys", keys);
        top.put("many", new ArrayList<>(java.util.Collections.nCopies(2500, 1L))); // several APPENDS batches
        return top;
    }

    @Test
    void pythonReadsWhatJavaWrites() throws Exception {
        try (PointerScope scope = new PointerScope()) {
            Map<String, Object> value = sample();
            Path f = tmp.resolve("sample.pth");
            TorchFile.save(f, value);
            List<String> expected = CanonicalDump.dump(value);
            List<String> python = CanonicalDump.parsePython(CkptTestSupport.pythonDump(true, List.of(f))).get(f.toString());
            assertEquals(null, CkptTestSupport.firstDifference(python, expected));
            assertTrue(expected.stream().anyMatch(l -> l.startsWith("T /model/base_t ") && l.contains(" /model/base ")),
                    "the transposed view is in the storage group of base");

            // Python's own sharing check, and the types torch sees
            String out = Python.run(String.join("\n",
                    "import sys, torch, collections",
                    "d = torch.load(sys.argv[1], weights_only=True)",
                    "m = d['model']",
                    "assert type(m) is collections.OrderedDict, type(m)",
                    "assert m['base_t'].untyped_storage().data_ptr() == m['base'].untyped_storage().data_ptr()",
                    "assert m['cols'].untyped_storage().data_ptr() == m['base'].untyped_storage().data_ptr()",
                    "m['base'][1, 3] = 1000.0",
                    "assert m['base_t'][3, 1] == 1000.0 and m['row1'][3] == 1000.0 and m['cols'][1, 1] == 1000.0",
                    "s = d['optimizer']['state']",
                    "assert s[0]['momentum_buffer'].untyped_storage().data_ptr() == s[1]['momentum_buffer'].untyped_storage().data_ptr()",
                    "assert not m['base_t'].is_contiguous() and m['scalar'].dim() == 0 and m['empty'].shape == (0, 3)",
                    "assert d['big'] == -(2**100) + 1 and d['bytes'] == b'\\x00\\xff\\n\\x80' and d['tuple'][3] == (2, 3)",
                    "print('ok')"), f.toString());
            assertEquals("ok", out.trim());
        }
    }

    @Test
    void javaRoundTripIsBitExactAndDeterministic() throws Exception {
        try (PointerScope scope = new PointerScope()) {
            Map<String, Object> value = sample();
            Path a = tmp.resolve("a.pth"), b = tmp.resolve("b.pth");
            TorchFile.save(a, value);
            Object back = TorchFile.load(a);
            assertEquals(null, CkptTestSupport.firstDifference(CanonicalDump.dump(value), CanonicalDump.dump(back)));
            Map<?, ?> sd = (Map<?, ?>) ((Map<?, ?>) back).get("model");
            assertTrue(((Tensor) sd.get("base_t")).is_alias_of((Tensor) sd.get("base")));
            TorchFile.save(b, back);
            assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "writing the re-read value gives the same bytes");
            try (var files = Files.list(tmp)) {
                assertEquals(2, files.count(), "no temporary files left behind");
            }
        }
    }

    @Test
    void rewrittenFixturesReadTheSameInPython() {
        List<Path> originals = CkptTestSupport.fixtureFiles("*.{pth,pt}");
        List<Path> copies = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            for (Path f : originals) {
                Path c = tmp.resolve(Fixtures.root().relativize(f).toString().replace('/', '_'));
                TorchFile.save(c, TorchFile.load(f));
                copies.add(c);
            }
        }
        List<Path> all = new ArrayList<>(originals);
        all.addAll(copies);
        Map<String, List<String>> dumps = CanonicalDump.parsePython(CkptTestSupport.pythonDump(false, all));
        for (int i = 0; i < originals.size(); i++) {
            String diff = CkptTestSupport.firstDifference(dumps.get(originals.get(i).toString()), dumps.get(copies.get(i).toString()));
            assertEquals(null, diff, originals.get(i) + " rewritten by Java");
        }
        // state_dict metadata (per-module versions) survives, and model files stay weights_only-loadable
        String out = Python.run(String.join("\n",
                "import sys, torch",
                "a = torch.load(sys.argv[1], weights_only=True); b = torch.load(sys.argv[2], weights_only=True)",
                "assert a._metadata == b._metadata and len(a._metadata) > 10",
                "print('ok')"),
                originals.get(originals.size() - 1).toString(), copies.get(copies.size() - 1).toString());
        assertEquals("ok", out.trim());
    }

    @Test
    void stateDictsAreOrderedDicts() {
        try (PointerScope scope = new PointerScope()) {
            Natives.init();
            Map<String, Tensor> sd = new LinkedHashMap<>();
            sd.put("z.weight", randn(2, 2));
            sd.put("a.bias", randn(2));
            Path f = tmp.resolve("sd.pth");
            TorchFile.saveStateDict(f, sd);
            Object back = TorchFile.load(f);
            assertTrue(back instanceof PyOrderedDict);
            assertEquals(List.of("z.weight", "a.bias"), new ArrayList<>(StateDicts.tensors(back).keySet()));
            Map<String, Object> plain = new LinkedHashMap<>(sd);
            TorchFile.save(f, plain);
            assertFalse(TorchFile.load(f) instanceof PyOrderedDict, "a plain map is written as a dict");
        }
    }

    @Test
    void unsupportedValuesAreRefusedWithThePath() {
        try (PointerScope scope = new PointerScope()) {
            Natives.init();
            Path f = tmp.resolve("bad.pth");
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("model", new LinkedHashMap<>(Map.of("w", new Object())));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TorchFile.save(f, v));
            assertTrue(e.getMessage().contains("model.w"), e.getMessage());
            Tensor base = randn(4);
            Map<String, Object> mixed = new LinkedHashMap<>();
            mixed.put("f", base);
            mixed.put("i", base.view(ScalarType.Int));
            assertThrows(IllegalArgumentException.class, () -> TorchFile.save(f, mixed));
            assertThrows(IllegalArgumentException.class, () -> TorchFile.save(f, PyObject.reference("posix", "system")));
            assertFalse(Files.exists(f), "nothing written on failure");
            Map<String, Object> set = new LinkedHashMap<>();
            set.put("s", new LinkedHashSet<>(List.of("a", 1L)));
            TorchFile.save(f, set);
            assertEquals(set.get("s"), ((Map<?, ?>) TorchFile.load(f)).get("s"));
        }
    }
}
