package dev.spikerev.models.mpis;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.testutil.Fixtures;
import dev.spikerev.testutil.Python;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A golden-fixture case of the mpis family, read through a raw dump (index.txt + little-endian .bin files) that
 * {@code src/test/resources/mpis/dump_fixture.py} writes from model.pth / io.pt / checkpoint.pth with the project
 * venv's torch. Interim bridge until {@code dev.spikerev.checkpoint.TorchFile} reads .pt files in Java.
 * Names: {@code model/<key>}, {@code io/<key>[/<sub>]}, {@code ckpt/<key>[/...]}.
 */
final class MpisFixture {
    final String name;
    final Map<String, Object> meta;
    private final Path dir;
    private final Map<String, String[]> index = new LinkedHashMap<>();

    @SuppressWarnings("unchecked")
    private MpisFixture(String name) {
        this.name = name;
        Path caseDir = Fixtures.of("mpis", name);
        try {
            meta = new ObjectMapper().readValue(caseDir.resolve("meta.json").toFile(), Map.class);
            dir = Path.of("target", "mpis-fixtures", name);
            Path idx = dir.resolve("index.txt");
            if (!Files.exists(idx) || Files.getLastModifiedTime(idx).compareTo(Files.getLastModifiedTime(caseDir.resolve("io.pt"))) < 0) {
                Path script = Path.of("src/test/resources/mpis/dump_fixture.py");
                Python.run(Files.readString(script), caseDir.toAbsolutePath().toString(), dir.toAbsolutePath().toString());
            }
            for (String line : Files.readAllLines(idx)) {
                if (line.isBlank()) continue;
                String[] f = line.split("\t", -1);
                index.put(f[0], f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    boolean has(String name) { return index.containsKey(name); }

    /** A fresh tensor (a new copy on every call). */
    Tensor tensor(String name) {
        String[] f = index.get(name);
        if (f == null) throw new IllegalArgumentException("fixture " + this.name + ": no tensor '" + name + "'");
        long[] shape = f[2].isEmpty() ? new long[0] : java.util.Arrays.stream(f[2].split(",")).mapToLong(Long::parseLong).toArray();
        try {
            ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(f[3]))).order(ByteOrder.LITTLE_ENDIAN);
            switch (f[1]) {
                case "float32": { float[] a = new float[bb.remaining() / 4]; bb.asFloatBuffer().get(a); return Tensor.create(a, shape); }
                case "float64": { double[] a = new double[bb.remaining() / 8]; bb.asDoubleBuffer().get(a); return Tensor.create(a, shape); }
                case "int64": { long[] a = new long[bb.remaining() / 8]; bb.asLongBuffer().get(a); return Tensor.create(a, shape); }
                default: throw new IllegalArgumentException("fixture dtype " + f[1] + " not supported here (" + name + ")");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** All tensors under {@code prefix + "/"}, keyed by the rest of the name, in file order. */
    LinkedHashMap<String, Tensor> group(String prefix) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        String p = prefix + "/";
        for (String k : index.keySet())
            if (k.startsWith(p) && !k.substring(p.length()).contains("/")) out.put(k.substring(p.length()), tensor(k));
        return out;
    }

    /** A fresh model of this case (reference switches unless given) with model.pth loaded strictly. */
    MPISNet model(MpisConfig.Options options) {
        MpisConfig cfg = MpisConfig.fromConstructor(constructor(), null);
        if (options != null) cfg = cfg.withOptions(options);
        MPISNet net = new MPISNet(cfg);
        MpisStateDict.load(net, group("model"));
        return net;
    }
}
