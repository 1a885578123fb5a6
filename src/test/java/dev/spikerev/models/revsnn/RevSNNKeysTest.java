package dev.spikerev.models.revsnn;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.testutil.Fixtures;
import dev.spikerev.testutil.Python;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * State_dict of every published RevSNN variant equals the reference listing ({@code keys-*.txt}: key, shape, dtype,
 * line for line, and the parameter count in its header); a Java-written state_dict loads in Python with
 * {@code torch.load(weights_only=True)} with the same keys, shapes, dtypes and values.
 */
class RevSNNKeysTest {
    @TempDir Path tmp;

    static RevSNNConfig config(String variant) {
        switch (variant) {
            case "revsresnet21": return RevSNNConfig.revsResnet("revs_resnet21", 100, 4, true);
            case "revsresnet37": return RevSNNConfig.revsResnet("revs_resnet37", 100, 4, true);
            case "revsresnet109": return RevSNNConfig.revsResnet("revs_resnet109", 100, 4, true);
            case "revsresnet24-dvs-c10": return RevSNNConfig.revsResnet("revs_resnet24", 10, 10, true);
            case "revsresnet24-dvs-c11": return RevSNNConfig.revsResnet("revs_resnet24", 11, 16, true);
            case "revsformer-2-384-c10": return RevSNNConfig.former(false, 384, 12, 2, 10, 4, true);
            case "revsformer-2-384-c100": return RevSNNConfig.former(false, 384, 8, 2, 100, 4, true);
            case "revsformer-4-384-c10": return RevSNNConfig.former(false, 384, 12, 4, 10, 4, true);
            case "revsformer-4-384-c100": return RevSNNConfig.former(false, 384, 8, 4, 100, 4, true);
            case "revsformer-2-256-dvs-c10": return RevSNNConfig.former(true, 256, 16, 2, 10, 10, true);
            case "revsformer-2-256-dvs-c11": return RevSNNConfig.former(true, 256, 16, 2, 11, 16, true);
            default: throw new IllegalArgumentException(variant);
        }
    }

    static String shape(Tensor t) {
        long[] s = t.sizes().vec().get();
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < s.length; i++) b.append(i > 0 ? ", " : "").append(s[i]);
        return b.append(s.length == 1 ? ",)" : ")").toString();
    }

    static List<String> listing(Map<String, Tensor> sd) {
        List<String> out = new ArrayList<>();
        sd.forEach((k, v) -> out.add(k + "\t" + shape(v) + "\t" + StateDictIO.dtypeName(v)));
        return out;
    }

    static List<String> reference(String variant) throws IOException {
        List<String> out = new ArrayList<>();
        for (String l : Files.readAllLines(Fixtures.of("revsnn", "keys-" + variant + ".txt")))
            if (!l.startsWith("#") && !l.isBlank()) out.add(l.strip());
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"revsresnet21", "revsresnet37", "revsresnet109", "revsresnet24-dvs-c10", "revsresnet24-dvs-c11",
            "revsformer-2-384-c10", "revsformer-2-384-c100", "revsformer-4-384-c10", "revsformer-4-384-c100",
            "revsformer-2-256-dvs-c10", "revsformer-2-256-dvs-c11"})
    void keysMatchReferenceListing(String variant) throws IOException {
        try (PointerScope s = new PointerScope()) {
            RevSNNNet net = RevSNNFamily.create(config(variant));
            LinkedHashMap<String, Tensor> sd = net.stateDict();
            List<String> expected = reference(variant), actual = listing(sd);
            for (int i = 0; i < Math.min(expected.size(), actual.size()); i++)
                assertEquals(expected.get(i), actual.get(i), "line " + (i + 1));
            assertEquals(expected.size(), actual.size(), "entries");
            String header = Files.readAllLines(Fixtures.of("revsnn", "keys-" + variant + ".txt")).get(1);
            long params = 0;
            for (Tensor p : dev.spikerev.nn.StateDictIO.namedParameters(net).values()) params += p.numel();
            assertTrue(header.startsWith("# " + params + " parameters"), header + " vs " + params);
        }
    }

    static final String PY_CHECK = String.join("\n",
            "import sys, json, torch",
            "sd = torch.load(sys.argv[1], weights_only=True)",
            "ref = [l.rstrip('\\n') for l in open(sys.argv[2]) if l.strip() and not l.startswith('#')]",
            "got = [f\"{k}\\t{tuple(v.shape)}\\t{str(v.dtype).replace('torch.', '')}\" for k, v in sd.items()]",
            "assert type(sd).__name__ == 'OrderedDict', type(sd)",
            "assert got == ref, [(a, b) for a, b in zip(got, ref) if a != b][:5] or (len(got), len(ref))",
            "sums = json.load(open(sys.argv[3]))",
            "bad = [k for k, v in sd.items() if abs(v.double().sum().item() - sums[k]) > 1e-6 * (1 + abs(sums[k]))]",
            "assert not bad, bad[:5]",
            "print('ok', len(sd))");

    @ParameterizedTest
    @ValueSource(strings = {"revsresnet21", "revsresnet24-dvs-c11", "revsformer-2-384-c10", "revsformer-2-256-dvs-c10"})
    void javaStateDictLoadsInPython(String variant) throws IOException {
        Path file = tmp.resolve(variant + ".pth"), sums = tmp.resolve(variant + ".json");
        try (PointerScope s = new PointerScope()) {
            RevSNNNet net = RevSNNFamily.create(config(variant));
            LinkedHashMap<String, Tensor> sd = net.stateDict();
            TorchFile.saveStateDict(file, sd);
            StringBuilder json = new StringBuilder("{");
            sd.forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(k).append("\":")
                    .append(v.to(org.bytedeco.pytorch.global.torch.ScalarType.Double).sum().item_double()));
            Files.writeString(sums, json.append('}').toString());
        }
        String out = Python.run(PY_CHECK, file.toString(), Fixtures.of("revsnn", "keys-" + variant + ".txt").toString(), sums.toString());
        assertTrue(out.startsWith("ok "), out);
    }
}
