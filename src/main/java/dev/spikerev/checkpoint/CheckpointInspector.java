package dev.spikerev.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * Renders a loaded checkpoint as an indented tree (or JSON): keys, dtypes and shapes, and for every
 * container the number of tensors and parameters (elements) below it. Output is bounded: containers
 * deeper than {@code depth} are summarised in one line, and at most {@value #MAX_LINES} lines are printed.
 */
public final class CheckpointInspector {
    static final int MAX_LINES = 100_000;

    private final int depth;
    private final IdentityHashMap<Object, long[]> counts = new IdentityHashMap<>();
    private int lines;

    private CheckpointInspector(int depth) { this.depth = Math.max(0, depth); }

    /** Text tree of {@code value}; {@code depth} levels of containers are expanded (1 = top-level keys only). */
    public static String text(Object value, int depth) {
        CheckpointInspector in = new CheckpointInspector(depth);
        StringBuilder sb = new StringBuilder();
        in.node(sb, "<root>", value, 0);
        long[] c = in.count(value);
        sb.append(String.format("total: %,d tensors, %,d parameters%n", c[0], c[1]));
        return sb.toString();
    }

    /** JSON form of {@link #text}: {@code {"total_tensors", "total_parameters", "root": node}}. */
    public static String json(Object value, int depth) {
        CheckpointInspector in = new CheckpointInspector(depth);
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = m.createObjectNode();
        long[] c = in.count(value);
        root.put("total_tensors", c[0]);
        root.put("total_parameters", c[1]);
        root.set("root", in.jsonNode(m, value, 0));
        try {
            return m.writeValueAsString(root) + System.lineSeparator();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {tensors, elements} below {@code v}, counting every entry (a tensor stored under two names, e.g. an
     * alias in a state_dict, counts twice, as {@code sum(t.numel() for t in sd.values())} does in Python).
     */
    long[] count(Object v) {
        if (v instanceof Tensor t) return new long[] {1, t.numel()};
        if (v == null || !isContainer(v)) return new long[2];
        long[] c = counts.get(v);
        if (c != null) return c;
        c = new long[2];
        counts.put(v, c); // before descending: a cycle adds nothing
        for (Object child : children(v)) {
            long[] k = count(child);
            c[0] = saturatedAdd(c[0], k[0]);
            c[1] = saturatedAdd(c[1], k[1]);
        }
        return c;
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    private static boolean isContainer(Object v) {
        return v instanceof Map || v instanceof List || v instanceof PyTuple || v instanceof Set
                || (v instanceof PyObject o && !o.isReference());
    }

    private static Iterable<?> children(Object v) {
        if (v instanceof Map<?, ?> m) return m.values();
        if (v instanceof List<?> l) return l;
        if (v instanceof PyTuple t) return t.items();
        if (v instanceof Set<?> s) return s;
        if (v instanceof PyObject o && !o.isReference()) {
            java.util.ArrayList<Object> all = new java.util.ArrayList<>(o.items().values());
            all.add(o.state());
            return all;
        }
        return List.of();
    }

    private static String typeName(Object v) {
        if (v == null) return "None";
        if (v instanceof PyOrderedDict) return "OrderedDict";
        if (v instanceof Map) return "dict";
        if (v instanceof List) return "list";
        if (v instanceof PyTuple) return "tuple";
        if (v instanceof Set) return "set";
        if (v instanceof Long || v instanceof BigInteger) return "int";
        if (v instanceof Double) return "float";
        if (v instanceof Boolean) return "bool";
        if (v instanceof String) return "str";
        if (v instanceof byte[]) return "bytes";
        if (v instanceof Tensor) return "tensor";
        if (v instanceof PyObject o) return o.qualifiedName();
        return v.getClass().getSimpleName();
    }

    private static String key(Object k) { return k instanceof String s ? s : PyRepr.repr(k, 2); }

    private void line(StringBuilder sb, int indent, String text) {
        if (lines == MAX_LINES) sb.append("  ".repeat(indent)).append("… (output truncated)\n");
        if (lines++ >= MAX_LINES) return;
        sb.append("  ".repeat(indent)).append(text).append('\n');
    }

    private void node(StringBuilder sb, String name, Object v, int level) {
        if (v instanceof Tensor t) { line(sb, level, name + ": " + TensorInfo.describe(t)); return; }
        if (v instanceof PyObject o) {
            Map<?, ?> attrs = o.state() instanceof Map<?, ?> st ? st : Map.of();
            if (o.isReference() || level >= depth || (o.items().isEmpty() && attrs.isEmpty())) {
                line(sb, level, name + ": " + PyRepr.repr(o, level >= depth ? 1 : 2));
                return;
            }
            line(sb, level, name + ": " + o.qualifiedName() + (o.items().isEmpty() ? "" : ", " + o.items().size() + " keys")
                    + (attrs.isEmpty() ? "" : ", " + attrs.size() + " attributes"));
            for (Map.Entry<?, ?> e : o.items().entrySet()) node(sb, key(e.getKey()), e.getValue(), level + 1);
            for (Map.Entry<?, ?> e : attrs.entrySet()) node(sb, "." + key(e.getKey()), e.getValue(), level + 1);
            return;
        }
        if (!isContainer(v)) {
            line(sb, level, name + ": " + typeName(v) + (v == null ? "" : " " + PyRepr.repr(v, 1)));
            return;
        }
        int size = v instanceof Map<?, ?> m ? m.size() : v instanceof List<?> l ? l.size()
                : v instanceof PyTuple t ? t.size() : ((Set<?>) v).size();
        long[] c = count(v);
        String what = v instanceof Map ? " keys" : " items";
        StringBuilder head = new StringBuilder(name).append(": ").append(typeName(v)).append(", ").append(size).append(what);
        if (c[0] > 0) head.append(String.format(", %,d tensors, %,d parameters", c[0], c[1]));
        if (level >= depth || size == 0) {
            if (v instanceof PyTuple || v instanceof Set || (v instanceof List<?> && c[0] == 0 && size <= 8))
                head.append(" ").append(PyRepr.repr(v, 2));
            line(sb, level, head.toString());
            return;
        }
        line(sb, level, head.toString());
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) node(sb, key(e.getKey()), e.getValue(), level + 1);
        } else {
            int i = 0;
            for (Object x : children(v)) node(sb, "[" + i++ + "]", x, level + 1);
        }
    }

    private com.fasterxml.jackson.databind.JsonNode jsonNode(ObjectMapper m, Object v, int level) {
        ObjectNode n = m.createObjectNode();
        n.put("type", typeName(v));
        if (v instanceof Tensor t) {
            n.put("dtype", TensorInfo.dtypeName(t));
            ArrayNode shape = n.putArray("shape");
            for (long d : TensorInfo.shape(t)) shape.add(d);
            n.put("parameters", t.numel());
            return n;
        }
        if (v instanceof PyObject o) {
            n.put("type", "object");
            n.put("class", o.qualifiedName());
            n.put("repr", PyRepr.repr(o, 2));
            return n;
        }
        if (!isContainer(v)) {
            if (v == null) n.putNull("value");
            else if (v instanceof Long l) n.put("value", l);
            else if (v instanceof BigInteger b) n.put("value", b);
            else if (v instanceof Double d) n.put("value", d);
            else if (v instanceof Boolean b) n.put("value", b);
            else if (v instanceof String s) n.put("value", s);
            else n.put("value", PyRepr.repr(v, 1));
            return n;
        }
        long[] c = count(v);
        n.put("tensors", c[0]);
        n.put("parameters", c[1]);
        if (v instanceof Map<?, ?> map) {
            n.put("size", map.size());
            if (level < depth) {
                ObjectNode items = n.putObject("items");
                for (Map.Entry<?, ?> e : map.entrySet()) items.set(key(e.getKey()), jsonNode(m, e.getValue(), level + 1));
            }
        } else {
            int size = 0;
            for (Object ignored : children(v)) size++;
            n.put("size", size);
            if (level < depth) {
                ArrayNode items = n.putArray("items");
                for (Object x : children(v)) items.add(jsonNode(m, x, level + 1));
            }
        }
        return n;
    }
}
