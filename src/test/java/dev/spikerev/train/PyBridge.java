package dev.spikerev.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.testutil.Python;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Test-side bridge to the Python reference: exact float transport (hex floats) both ways, a Python-literal renderer for
 * Java state dicts, and a JSON decoder for Python state dicts.
 */
final class PyBridge {
    private PyBridge() {}

    /** Python helpers prepended to every script. */
    static final String PRELUDE = """
            import sys
            sys.path.pop(0)  # the script sits in the temp dir, which may hold files that shadow stdlib modules
            import json, math, copy, collections
            import torch
            torch.set_num_threads(1)

            def T(s, dtype=torch.float32):
                shape, vals = s.split(';')
                shape = [int(x) for x in shape.split(',')] if shape else []
                v = [float.fromhex(x) for x in vals.split()]
                return torch.tensor(v, dtype=torch.float64).to(dtype).reshape(shape)

            def TL(s):
                return T(s, torch.int64)

            def load(path):
                d = {}
                for line in open(path):
                    line = line.rstrip('\\n')
                    if not line:
                        continue
                    name, rest = line.split(';', 1)
                    d[name] = T(rest)
                return d

            def H(t):
                t = t.detach().to(torch.float64).contiguous()
                return ','.join(str(s) for s in t.shape) + ';' + ' '.join(float(x).hex() for x in t.reshape(-1).tolist())

            def out(name, t):
                print('T ' + name + ';' + H(t))

            def outf(name, x):
                print('F ' + name + ';' + float(x).hex())

            def enc(o):
                if isinstance(o, torch.Tensor):
                    return {'__tensor__': H(o), 'dtype': str(o.dtype)}
                if isinstance(o, dict):
                    if all(isinstance(k, str) for k in o):
                        return {k: enc(v) for k, v in o.items()}
                    return {'__dict__': [[enc(k), enc(v)] for k, v in o.items()]}
                if isinstance(o, tuple):
                    return {'__tuple__': [enc(v) for v in o]}
                if isinstance(o, list):
                    return [enc(v) for v in o]
                if isinstance(o, float):
                    return {'__float__': o.hex()}
                return o

            def outj(name, o):
                print('J ' + name + ';' + json.dumps(enc(o)))

            def same(a, b, path='', tol=1e-6):
                # deep comparison of two state structures: types, key order, tensor dtype/shape/values
                assert type(a) is type(b), f'{path}: type {type(a).__name__} != {type(b).__name__} ({a!r} vs {b!r})'
                if isinstance(a, dict):
                    assert list(a.keys()) == list(b.keys()), f'{path}: keys {list(a.keys())} != {list(b.keys())}'
                    m = 0.0
                    for k in a:
                        m = max(m, same(a[k], b[k], f'{path}.{k}', tol))
                    return m
                if isinstance(a, (list, tuple)):
                    assert len(a) == len(b), f'{path}: len {len(a)} != {len(b)}'
                    m = 0.0
                    for i, (x, y) in enumerate(zip(a, b)):
                        m = max(m, same(x, y, f'{path}[{i}]', tol))
                    return m
                if isinstance(a, torch.Tensor):
                    assert a.dtype == b.dtype and a.shape == b.shape, f'{path}: {a.dtype}{tuple(a.shape)} != {b.dtype}{tuple(b.shape)}'
                    d = (a.double() - b.double()).abs().max().item() if a.numel() else 0.0
                    assert d <= tol, f'{path}: max diff {d}'
                    return d
                assert a == b, f'{path}: {a!r} != {b!r}'
                return 0.0
            """;

    /** Runs PRELUDE + script with the given inputs file as argv[1]; returns parsed output. */
    static Result run(String script, Map<String, Tensor> inputs) {
        try {
            Path in = Files.createTempFile("spikerev-train", ".txt");
            try {
                StringBuilder sb = new StringBuilder();
                for (Map.Entry<String, Tensor> e : inputs.entrySet()) sb.append(e.getKey()).append(';').append(encode(e.getValue())).append('\n');
                Files.writeString(in, sb);
                return new Result(Python.run(PRELUDE + "\n" + script, in.toString()));
            } finally {
                Files.deleteIfExists(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parsed stdout: "T name;shape;hex..." tensors, "F name;hex" floats, "J name;json" structures. */
    static final class Result {
        final String raw;
        final Map<String, double[]> tensors = new LinkedHashMap<>();
        final Map<String, long[]> shapes = new LinkedHashMap<>();
        final Map<String, Double> floats = new LinkedHashMap<>();
        final Map<String, JsonNode> json = new LinkedHashMap<>();

        Result(String out) {
            raw = out;
            ObjectMapper om = new ObjectMapper();
            for (String line : out.split("\n")) {
                if (line.startsWith("T ")) {
                    String[] parts = line.substring(2).split(";", 3);
                    shapes.put(parts[0], parseShape(parts[1]));
                    tensors.put(parts[0], parseValues(parts[2]));
                } else if (line.startsWith("F ")) {
                    String[] parts = line.substring(2).split(";", 2);
                    floats.put(parts[0], parseHex(parts[1]));
                } else if (line.startsWith("J ")) {
                    String[] parts = line.substring(2).split(";", 2);
                    try {
                        json.put(parts[0], om.readTree(parts[1]));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }

        double[] t(String name) {
            double[] v = tensors.get(name);
            if (v == null) throw new AssertionError("python printed no tensor '" + name + "'; output:\n" + raw);
            return v;
        }

        double f(String name) {
            Double v = floats.get(name);
            if (v == null) throw new AssertionError("python printed no float '" + name + "'; output:\n" + raw);
            return v;
        }

        JsonNode j(String name) {
            JsonNode v = json.get(name);
            if (v == null) throw new AssertionError("python printed no json '" + name + "'; output:\n" + raw);
            return v;
        }
    }

    // ------------------------------------------------------------------ tensors <-> text

    static String encode(Tensor t) {
        StringBuilder sb = new StringBuilder();
        for (long i = 0; i < t.dim(); i++) {
            if (i > 0) sb.append(',');
            sb.append(t.size(i));
        }
        sb.append(';');
        double[] v = values(t);
        for (int i = 0; i < v.length; i++) {
            if (i > 0) sb.append(' ');
            sb.append(Double.toHexString(v[i]));
        }
        return sb.toString();
    }

    /** All values as doubles (exact for float32 and small integers). */
    static double[] values(Tensor t) {
        Tensor c = t.detach().cpu().to(ScalarType.Double).contiguous();
        int n = (int) c.numel();
        double[] out = new double[n];
        if (n > 0) new DoublePointer(c.data_ptr()).capacity(n).get(out);
        return out;
    }

    static double parseHex(String s) {
        s = s.trim();
        return switch (s) {
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            case "nan" -> Double.NaN;
            default -> Double.parseDouble(s);
        };
    }

    static double[] parseValues(String s) {
        s = s.trim();
        if (s.isEmpty()) return new double[0];
        String[] p = s.split(" ");
        double[] v = new double[p.length];
        for (int i = 0; i < p.length; i++) v[i] = parseHex(p[i]);
        return v;
    }

    static long[] parseShape(String s) {
        if (s.isEmpty()) return new long[0];
        String[] p = s.split(",");
        long[] v = new long[p.length];
        for (int i = 0; i < p.length; i++) v[i] = Long.parseLong(p[i]);
        return v;
    }

    static Tensor floatTensor(double[] v, long... shape) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return Tensor.create(f, shape);
    }

    /** Deterministic float32 values in [-scale, scale). */
    static Tensor random(SplittableRandom rnd, double scale, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        float[] f = new float[(int) n];
        for (int i = 0; i < f.length; i++) f[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        return Tensor.create(f, shape);
    }

    static double maxAbsDiff(Tensor a, double[] b) {
        double[] va = values(a);
        if (va.length != b.length) throw new AssertionError("size " + va.length + " != " + b.length);
        double m = 0;
        for (int i = 0; i < va.length; i++) {
            double d = Math.abs(va[i] - b[i]);
            if (Double.isNaN(d)) return Double.NaN;
            m = Math.max(m, d);
        }
        return m;
    }

    // ------------------------------------------------------------------ Java state -> Python literal

    /** Renders a state structure as a Python expression (tensors through {@code T(...)}/{@code TL(...)}). */
    static String pyRepr(Object o) {
        return pyRepr(o, null);
    }

    private static String pyRepr(Object o, String key) {
        if (o == null) return "None";
        if (o instanceof Boolean b) return b ? "True" : "False";
        if (o instanceof Long || o instanceof Integer) return o.toString();
        if (o instanceof Double d) return "float.fromhex('" + Double.toHexString(d) + "')";
        if (o instanceof String s) return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
        if (o instanceof Tensor t) {
            String fn = t.is_floating_point() ? "T" : "TL";
            String dtype = t.scalar_type().value == ScalarType.Double.value ? ", torch.float64" : "";
            return fn + "('" + encode(t) + "'" + (fn.equals("T") ? dtype : "") + ")";
        }
        if (o instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                sb.append(pyRepr(e.getKey(), null)).append(": ").append(pyRepr(e.getValue(), String.valueOf(e.getKey())));
                if (it.hasNext()) sb.append(", ");
            }
            return sb.append('}').toString();
        }
        if (o instanceof List<?> l) {
            boolean tuple = key != null && Optimizer.TUPLE_KEYS.contains(key);
            StringBuilder sb = new StringBuilder(tuple ? "(" : "[");
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(", ");
                sb.append(pyRepr(l.get(i), null));
            }
            if (tuple && l.size() == 1) sb.append(',');
            return sb.append(tuple ? ")" : "]").toString();
        }
        throw new IllegalArgumentException("cannot render " + o.getClass());
    }

    // ------------------------------------------------------------------ Python JSON -> Java state

    /** Decodes {@code enc(...)} JSON into Java state objects (Long/Double/Boolean/String/null/List/LinkedHashMap/Tensor). */
    static Object decode(JsonNode n) {
        if (n.isNull()) return null;
        if (n.isBoolean()) return n.booleanValue();
        if (n.isIntegralNumber()) return n.longValue();
        if (n.isFloatingPointNumber()) return n.doubleValue();
        if (n.isTextual()) return n.textValue();
        if (n.isArray()) {
            List<Object> l = new ArrayList<>();
            for (JsonNode c : n) l.add(decode(c));
            return l;
        }
        if (n.has("__float__")) return parseHex(n.get("__float__").textValue());
        if (n.has("__tuple__")) return decode(n.get("__tuple__"));
        if (n.has("__tensor__")) {
            String[] parts = n.get("__tensor__").textValue().split(";", 2);
            double[] v = parseValues(parts[1]);
            long[] shape = parseShape(parts[0]);
            String dtype = n.get("dtype").textValue();
            return switch (dtype) {
                case "torch.float32" -> floatTensor(v, shape);
                case "torch.float64" -> Tensor.create(v, shape);
                case "torch.int64" -> {
                    long[] lv = new long[v.length];
                    for (int i = 0; i < v.length; i++) lv[i] = (long) v[i];
                    yield Tensor.create(lv, shape);
                }
                default -> throw new IllegalArgumentException("dtype " + dtype);
            };
        }
        if (n.has("__dict__")) {
            LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
            for (JsonNode kv : n.get("__dict__")) m.put(decode(kv.get(0)), decode(kv.get(1)));
            return m;
        }
        LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> m.put(e.getKey(), decode(e.getValue())));
        return m;
    }
}
