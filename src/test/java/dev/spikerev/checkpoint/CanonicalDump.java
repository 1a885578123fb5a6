package dev.spikerev.checkpoint;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The Java half of {@code src/test/resources/python/ckpt_dump.py}: one line per value with the exact
 * bytes (SHA-256), exact float64 sum, dtype, shape, strides, offset and storage sharing of every tensor.
 */
final class CanonicalDump {
    private CanonicalDump() {}

    static List<String> dump(Object v) {
        List<String> out = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            walk("", v, out, new HashMap<>());
        }
        return out;
    }

    private static String seg(Object k) {
        if (k instanceof String s) return "/" + s;
        if (k instanceof Long || k instanceof BigInteger) return "/#" + k;
        return "/?" + PyRepr.repr(k, 3);
    }

    private static void walk(String path, Object v, List<String> out, Map<Long, String> groups) {
        String p = path.isEmpty() ? "<root>" : path;
        if (v instanceof Tensor t) out.add(tensorLine(p, t, groups));
        else if (v instanceof Map<?, ?> m) {
            out.add("D " + p + " " + (m instanceof PyOrderedDict ? "OrderedDict" : "dict") + " " + m.size());
            for (Map.Entry<?, ?> e : m.entrySet()) walk(path + seg(e.getKey()), e.getValue(), out, groups);
        } else if (v instanceof List<?> l) {
            out.add("L " + p + " " + l.size());
            for (int i = 0; i < l.size(); i++) walk(path + "/[" + i + "]", l.get(i), out, groups);
        } else if (v instanceof PyTuple t) {
            out.add("U " + p + " " + t.size());
            for (int i = 0; i < t.size(); i++) walk(path + "/[" + i + "]", t.get(i), out, groups);
        } else if (v == null) out.add("S " + p + " None");
        else if (v instanceof Boolean b) out.add("S " + p + " bool " + (b ? "True" : "False"));
        else if (v instanceof Long || v instanceof BigInteger || v instanceof Integer || v instanceof Short || v instanceof Byte)
            out.add("S " + p + " int " + v);
        else if (v instanceof Double || v instanceof Float)
            out.add("S " + p + " float " + String.format("%016x", Double.doubleToRawLongBits(((Number) v).doubleValue())));
        else if (v instanceof String s) out.add("S " + p + " str " + HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8)));
        else if (v instanceof byte[] b) out.add("S " + p + " bytes " + HexFormat.of().formatHex(b));
        else if (v instanceof PyObject o) out.add("O " + p + " " + o.qualifiedName());
        else if (v instanceof Set<?>) out.add("O " + p + " builtins.set");
        else throw new AssertionError("unexpected " + v.getClass());
    }

    static String tensorLine(String p, Tensor t, Map<Long, String> groups) {
        long nbytes = t.storage().nbytes();
        String group = nbytes == 0 ? "-" : groups.computeIfAbsent(t.storage().data().address(), a -> p);
        return "T " + p + " " + TensorInfo.dtypeName(t) + " " + Arrays.toString(TensorInfo.shape(t)) + " "
                + Arrays.toString(TensorInfo.strides(t)) + " " + t.storage_offset() + " " + group + " "
                + sha256(t) + " " + fsumHex(t);
    }

    static byte[] contiguousBytes(Tensor t) {
        Tensor c = t.contiguous();
        long n = c.numel() * c.element_size();
        byte[] b = new byte[Math.toIntExact(n)];
        if (n > 0) new BytePointer(c.data_ptr()).capacity(n).get(b);
        return b;
    }

    static String sha256(Tensor t) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(contiguousBytes(t)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Exact (correctly rounded) float64 sum, as Python's math.fsum. */
    static String fsumHex(Tensor t) {
        Tensor d = t.to(ScalarType.Double).contiguous();
        long n = d.numel();
        double[] vals = new double[Math.toIntExact(n)];
        if (n > 0) new DoublePointer(d.data_ptr()).capacity(n).get(vals);
        BigDecimal sum = BigDecimal.ZERO;
        for (double x : vals) {
            if (!Double.isFinite(x)) return "nonfinite";
            sum = sum.add(new BigDecimal(x));
        }
        return String.format("%016x", Double.doubleToRawLongBits(sum.doubleValue()));
    }

    /** Splits the Python output into per-file dumps. */
    static Map<String, List<String>> parsePython(String text) {
        Map<String, List<String>> m = new java.util.LinkedHashMap<>();
        List<String> cur = null;
        for (String line : text.split("\n")) {
            if (line.isEmpty()) continue;
            if (line.startsWith("FILE ")) { cur = new ArrayList<>(); m.put(line.substring(5), cur); }
            else cur.add(line);
        }
        return m;
    }
}
