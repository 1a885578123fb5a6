package dev.spikerev.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spikerev.checkpoint.Checkpoints;
import dev.spikerev.checkpoint.PyOrderedDict;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.testutil.Fixtures;
import dev.spikerev.testutil.Python;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertCommandTest {
    @TempDir Path tmp;

    /** dtype, shape and SHA-256 of the bytes: equal strings mean bit-identical tensors. */
    static String fingerprint(Tensor t) throws Exception {
        Tensor c = t.contiguous();
        long n = c.numel() * c.element_size();
        byte[] b = new byte[(int) n];
        if (n > 0) new BytePointer(c.data_ptr()).capacity(n).get(b);
        return t.scalar_type().value + Arrays.toString(dev.spikerev.checkpoint.TensorInfo.shape(t)) + " "
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static Map<String, String> fingerprints(Map<String, Tensor> sd) throws Exception {
        Map<String, String> m = new LinkedHashMap<>();
        for (var e : sd.entrySet()) m.put(e.getKey(), fingerprint(e.getValue()));
        return m;
    }

    @Test
    void convertedModelsEqualTheCheckpointWeightsAndTheReferenceAfterSteps() throws Exception {
        List<Path> outs = new ArrayList<>();
        for (Path ck : InspectCommandTest.checkpoints()) {
            boolean mpis = ck.toString().contains("/mpis/");
            Path out = tmp.resolve(Fixtures.root().relativize(ck).toString().replace('/', '_'));
            List<String> args = new ArrayList<>(List.of("convert", ck.toString(), out.toString()));
            if (mpis) args.addAll(List.of("--strip-prefix", "module."));
            CliRun r = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, r.rc(), ck + ": " + r.err());
            assertTrue(r.out().startsWith("wrote "), r.out());
            outs.add(out);
            try (PointerScope scope = new PointerScope()) {
                Object converted = TorchFile.load(out);
                assertTrue(converted instanceof PyOrderedDict, "a state_dict is written as an OrderedDict");
                Map<String, String> got = fingerprints(StateDicts.tensors(converted));
                // 1. the checkpoint's own model entry, prefix stripped
                Object checkpoint = TorchFile.load(ck);
                String key = Checkpoints.defaultModelKey(checkpoint);
                Map<String, String> inCheckpoint = new LinkedHashMap<>();
                fingerprints(StateDicts.tensors(((Map<?, ?>) checkpoint).get(key)))
                        .forEach((k, v) -> inCheckpoint.put(mpis ? k.substring("module.".length()) : k, v));
                assertEquals(inCheckpoint, got, ck + " key " + key);
                // 2. the reference's weights after the fixture's optimizer steps (io.pt), which the checkpoint holds
                Map<?, ?> io = (Map<?, ?>) TorchFile.load(ck.resolveSibling("io.pt"));
                Map<String, String> after = fingerprints(StateDicts.tensors(io.get("after_steps")));
                assertEquals(after, got, ck + " vs io.pt after_steps");
            }
        }
        // 3. PyTorch reads every converted file with weights_only=True, as an OrderedDict of tensors
        String py = Python.run(String.join("\n",
                "import sys, torch, collections",
                "for f in sys.argv[1:]:",
                "    sd = torch.load(f, weights_only=True)",
                "    assert type(sd) is collections.OrderedDict and all(isinstance(v, torch.Tensor) for v in sd.values()), f",
                "    assert not any(k.startswith('module.') for k in sd), f",
                "print(len(sys.argv) - 1)"), outs.stream().map(Path::toString).toArray(String[]::new));
        assertEquals(String.valueOf(outs.size()), py.trim());
    }

    @Test
    void explicitKeyAndErrors() throws Exception {
        Path ck = Fixtures.of("t-revsnn", "k3_rev", "checkpoint.pth");
        Path out = tmp.resolve("ema.pth");
        CliRun ok = CliRun.of("convert", ck.toString(), out.toString(), "--key", "state_dict_ema");
        assertEquals(0, ok.rc(), ok.err());
        assertTrue(ok.out().contains("key 'state_dict_ema'"), ok.out());
        try (PointerScope scope = new PointerScope()) {
            Map<?, ?> c = (Map<?, ?>) TorchFile.load(ck);
            assertEquals(fingerprints(StateDicts.tensors(c.get("state_dict_ema"))),
                    fingerprints(StateDicts.tensors(TorchFile.load(out))));
        }
        Object[][] bad = {
                {new String[] {"--key", "nope"}, "no key 'nope'"},
                {new String[] {"--key", "epoch"}, "key 'epoch' is"},
                {new String[] {"--key", "config"}, "not a state_dict"},
                {new String[] {"--key", "optimizer"}, "not a tensor"},
                {new String[] {"--strip-prefix", "module."}, "starts with 'module.'"},
        };
        Path out2 = tmp.resolve("never.pth");
        for (Object[] b : bad) {
            List<String> args = new ArrayList<>(List.of("convert", ck.toString(), out2.toString()));
            args.addAll(List.of((String[]) b[0]));
            CliRun r = CliRun.of(args.toArray(String[]::new));
            assertEquals(2, r.rc(), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("error: " + ck) && r.err().contains((String) b[1]), r.err());
        }
        assertFalse(Files.exists(out2));
        CliRun missing = CliRun.of("convert", tmp.resolve("nope.pth").toString(), out2.toString());
        assertEquals(2, missing.rc());
        assertTrue(missing.err().startsWith("error: no such file"), missing.err());
    }
}
