package dev.spikerev.models.mpis;

import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.testutil.Python;
import dev.spikerev.tensor.Natives;
import dev.spikerev.testutil.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The full-size upstream state dicts ({@code keys-cifar10/cifar100/nmnist.txt}): every line
 * {@code key | shape | dtype | kind | alias-of} equal, in order, for the repo-default constructors; plus the
 * config validation of the port's switches.
 */
class MpisKeysTest {
    @TempDir Path tmp;

    @BeforeAll
    static void threads() { Natives.setThreads(2); }

    @ParameterizedTest
    @ValueSource(strings = {"cifar10", "cifar100", "nmnist"})
    void fullSizeKeysMatchReferenceListing(String config) throws Exception {
        List<String> expected = Files.readAllLines(Fixtures.of("mpis", "keys-" + config + ".txt")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).map(String::strip).collect(Collectors.toList());
        MpisConfig cfg = switch (config) {
            case "cifar10" -> MpisConfig.cifar(10);
            case "cifar100" -> MpisConfig.cifar(100);
            default -> MpisConfig.nmnist();
        };
        try (PointerScope ps = new PointerScope()) {
            MPISNet net = new MPISNet(cfg);
            List<String> mine = listing(net);
            assertEquals(expected.size(), mine.size(), config + ": number of state_dict entries");
            for (int i = 0; i < expected.size(); i++) assertEquals(expected.get(i), mine.get(i), config + ": line " + (i + 1));
            long trainable = 0, frozen = 0;
            for (Tensor p : net.uniqueParameters()) {
                if (p.requires_grad()) trainable += p.numel();
                else frozen += p.numel();
            }
            MpisAssert.report(String.format("%s: %d keys equal keys-%s.txt line for line; trainable params %,d, frozen copy %,d",
                    config, mine.size(), config, trainable, frozen));
            long[] exp = switch (config) {
                case "cifar10" -> new long[]{28_512_138, 17_705_728};
                case "cifar100" -> new long[]{29_986_788, 17_705_728};
                default -> new long[]{185_578, 103_328};
            };
            assertEquals(exp[0], trainable, "trainable parameters (spec 4.3)");
            assertEquals(exp[1], frozen, "frozen copy (spec 4.3)");
        }
    }

    /**
     * A Java-written ({@link TorchFile#saveStateDict}) full-size state_dict, read by Python ({@code torch.load(
     * weights_only=True)}, test venv) and compared with the listing by {@code tools/check_keys.py}: keys in order,
     * shapes, dtypes and alias groups (= shared storage in the file).
     */
    @ParameterizedTest
    @ValueSource(strings = {"cifar10", "nmnist"})
    void javaWrittenFullSizeStateDictMatchesListingInPython(String config) throws Exception {
        Path file = tmp.resolve("mpis-" + config + ".pth");
        try (PointerScope ps = new PointerScope()) {
            MPISNet net = new MPISNet(config.equals("cifar10") ? MpisConfig.cifar(10) : MpisConfig.nmnist());
            TorchFile.saveStateDict(file, StateDictIO.stateDict(net));
        }
        String out = Python.run(Files.readString(Path.of("tools/check_keys.py")), file.toString(),
                Fixtures.of("mpis", "keys-" + config + ".txt").toString()).strip();
        MpisAssert.report(config + ": " + out + " (" + Files.size(file) / 1_000_000 + " MB)");
        assertTrue(out.startsWith("OK "), out);
        Files.delete(file);
    }

    /**
     * {@code key | (shape) | dtype | param trainable/param frozen/buffer | alias-of}, as in the reference listing, from
     * {@link StateDictIO#stateDict} (aliases = same storage address) and the live parameters (kind, requires_grad).
     */
    static List<String> listing(MPISNet net) {
        Map<Long, Tensor> params = new HashMap<>();
        for (Tensor p : net.namedParameters().values()) params.put(p.data_ptr().address(), p);
        Map<Long, String> first = new HashMap<>();
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : StateDictIO.stateDict(net).entrySet()) {
            Tensor t = e.getValue();
            long id = t.data_ptr().address();
            String alias = first.containsKey(id) ? first.get(id) : "";
            first.putIfAbsent(id, e.getKey());
            long[] s = t.sizes().vec().get();
            String shape = s.length == 1 ? "(" + s[0] + ",)" : "(" + java.util.Arrays.stream(s).mapToObj(Long::toString).collect(Collectors.joining(", ")) + ")";
            String dtype = StateDictIO.dtypeName(t);
            Tensor live = params.get(id);
            String kind = live != null ? (live.requires_grad() ? "param trainable" : "param frozen") : "buffer";
            out.add((e.getKey() + " | " + shape + " | " + dtype + " | " + kind + " | " + alias).strip());
        }
        return out;
    }

    @Test
    void configValidation() {
        MpisConfig ok = MpisConfig.nmnist();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MpisConfig(ok.kind(), 2, 32, 32, 64, 0, 10, 3, 2, 1,
                false, 3, 8, 8, 0.2, 30, 30, 2.0, 1.0, "broy", 32, null, MpisConfig.Options.reference()));
        assertTrue(e.getMessage().contains("unit_leak"), e.getMessage());
        MpisConfig unit = new MpisConfig(ok.kind(), 2, 8, 8, 16, 0, 10, 3, 2, 1, false, 3, 8, 8, 0.0, 30, 3, 2.0, 1.0, "broy", 8, null,
                MpisConfig.Options.reference().withUnitLeak(MpisConfig.UnitLeak.COUNT));
        try (PointerScope ps = new PointerScope()) {
            assertEquals(3.0, new MPISNet(unit).readoutWeight().item_double(), 0.0, "w(T) = T for λ = 1 with unit_leak: count");
            assertEquals((1 - Math.pow(0.95f, 30)) / (1 - 0.95f), new MPISNet(MpisConfig.nmnist()).readoutWeight().item_double(), 1e-5);
        }
        assertThrows(IllegalArgumentException.class, () -> MpisConfig.fromConstructor(Map.of("kind", "static", "c_hidden", 8, "c_s1", 16,
                "c_s2", 16, "c_s3", 24, "h_hidden", 4, "w_hidden", 4, "fusion_channels", 32), null), "fusion width must equal c_s1");
        IllegalArgumentException strict = assertThrows(IllegalArgumentException.class, () -> MpisConfig.fromConstructor(Map.of("kind", "static",
                "c_hidden", 8, "c_s1", 16, "c_s2", 16, "c_s3", 24, "h_hidden", 4, "w_hidden", 4), Map.of("strict_reference", true)));
        assertTrue(strict.getMessage().contains("256"), strict.getMessage());
        assertEquals(MpisConfig.Gradient.IMPLICIT, MpisConfig.Options.fromMap(Map.of("gradient", "implicit")).gradient());
        assertThrows(IllegalArgumentException.class, () -> MpisConfig.Options.fromMap(Map.of("gradient", "bptt")));
    }
}
