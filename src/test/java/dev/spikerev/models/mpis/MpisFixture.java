package dev.spikerev.models.mpis;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.testutil.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A golden-fixture case of the mpis family: meta.json plus model.pth / io.pt / checkpoint.pth read with
 * {@link TorchFile#load} (no Python). Tensors are addressed by path: {@code model/<key>},
 * {@code io/<key>[/<nested key>...]}, {@code ckpt/<key>[/...]} (list indices and int keys as decimal strings).
 * Loaded values are cached for the JVM's lifetime; {@link #tensor} hands out fresh copies.
 */
final class MpisFixture {
    final String name;
    final Map<String, Object> meta;
    final Path dir;
    private final Map<String, Object> roots = new LinkedHashMap<>();

    @SuppressWarnings("unchecked")
    private MpisFixture(String name) {
        this.name = name;
        dir = Fixtures.of("mpis", name);
        try {
            meta = new ObjectMapper().readValue(dir.resolve("meta.json").toFile(), Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        roots.put("model", keep(TorchFile.load(dir.resolve("model.pth"))));
        roots.put("io", keep(TorchFile.load(dir.resolve("io.pt"))));
        if (Files.isRegularFile(dir.resolve("checkpoint.pth"))) roots.put("ckpt", keep(TorchFile.load(dir.resolve("checkpoint.pth"))));
    }

    /** Pins every loaded tensor so that no caller's PointerScope frees the cached copy. */
    private static Object keep(Object o) {
        if (o instanceof Tensor t) t.retainReference();
        else if (o instanceof Map<?, ?> m) m.values().forEach(MpisFixture::keep);
        else if (o instanceof List<?> l) l.forEach(MpisFixture::keep);
        return o;
    }

    private static final Map<String, MpisFixture> CACHE = new LinkedHashMap<>();

    static synchronized MpisFixture load(String name) {
        return CACHE.computeIfAbsent(name, MpisFixture::new);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> constructor() { return (Map<String, Object>) meta.get("constructor"); }

    @SuppressWarnings("unchecked")
    Map<String, Object> optimizer() { return (Map<String, Object>) meta.get("optimizer"); }

    @SuppressWarnings("unchecked")
    double[] tol(String group) {
        List<Number> l = (List<Number>) ((Map<String, Object>) meta.get("tolerances")).get(group);
        return new double[]{l.get(0).doubleValue(), l.get(1).doubleValue()};
    }

    /** The loaded value at {@code path} (shared, do not modify), or null. */
    Object value(String path) {
        String[] parts = path.split("/");
        Object o = roots.get(parts[0]);
        for (int i = 1; i < parts.length && o != null; i++) {
            if (o instanceof Map<?, ?> m) {
                Object next = m.get(parts[i]);
                if (next == null) {
                    for (Map.Entry<?, ?> e : m.entrySet())
                        if (String.valueOf(e.getKey()).equals(parts[i])) { next = e.getValue(); break; }
                }
                o = next;
            } else if (o instanceof List<?> l) {
                int idx = Integer.parseInt(parts[i]);
                o = idx < l.size() ? l.get(idx) : null;
            } else {
                return null;
            }
        }
        return o;
    }

    boolean has(String path) { return value(path) instanceof Tensor; }

    /** A fresh tensor (a new copy on every call). */
    Tensor tensor(String path) {
        if (!(value(path) instanceof Tensor t)) throw new IllegalArgumentException("fixture " + name + ": no tensor '" + path + "'");
        return t.clone();
    }

    /** All tensors directly under {@code prefix} (a map), keyed by their name, in file order; fresh copies. */
    LinkedHashMap<String, Tensor> group(String prefix) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        if (!(value(prefix) instanceof Map<?, ?> m)) throw new IllegalArgumentException("fixture " + name + ": no map '" + prefix + "'");
        for (Map.Entry<?, ?> e : m.entrySet())
            if (e.getValue() instanceof Tensor t) out.put(String.valueOf(e.getKey()), t.clone());
        return out;
    }

    /** A fresh model of this case (reference switches unless given) with model.pth loaded strictly. */
    MPISNet model(MpisConfig.Options options) {
        MpisConfig cfg = MpisConfig.fromConstructor(constructor(), null);
        if (options != null) cfg = cfg.withOptions(options);
        MPISNet net = new MPISNet(cfg);
        StateDictIO.loadStateDict(net, group("model"), true);
        return net;
    }
}
