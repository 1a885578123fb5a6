package dev.spikerev.checkpoint;

import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Short Python-like renderings of loaded values for messages and {@code inspect}. Bounded in depth and length. */
public final class PyRepr {
    private static final int MAX_ITEMS = 12;
    private static final int MAX_STRING = 200;

    private PyRepr() {}

    /** Renders {@code v} down to {@code depth} levels of nesting ("…" beyond). */
    public static String repr(Object v, int depth) {
        StringBuilder sb = new StringBuilder();
        append(sb, v, depth);
        return sb.toString();
    }

    static void append(StringBuilder sb, Object v, int depth) {
        if (sb.length() > 4000) { sb.append('…'); return; }
        if (v == null) sb.append("None");
        else if (v instanceof Boolean b) sb.append(b ? "True" : "False");
        else if (v instanceof String s) appendString(sb, s);
        else if (v instanceof Double d) sb.append(floatRepr(d));
        else if (v instanceof Number n) sb.append(n);
        else if (v instanceof byte[] b) sb.append("b<").append(b.length).append(" bytes>");
        else if (v instanceof Tensor t) sb.append(TensorInfo.describe(t));
        else if (v instanceof PyTuple t) {
            if (depth <= 0) { sb.append("(…)"); return; }
            sb.append('(');
            appendItems(sb, t.items(), depth);
            if (t.size() == 1) sb.append(',');
            sb.append(')');
        } else if (v instanceof List<?> l) {
            if (depth <= 0) { sb.append("[…]"); return; }
            sb.append('[');
            appendItems(sb, l, depth);
            sb.append(']');
        } else if (v instanceof java.util.Set<?> s) {
            if (depth <= 0) { sb.append("{…}"); return; }
            sb.append(s.isEmpty() ? "set(" : "{");
            appendItems(sb, s, depth);
            sb.append(s.isEmpty() ? ")" : "}");
        } else if (v instanceof Map<?, ?> m) {
            if (v instanceof PyOrderedDict) sb.append("OrderedDict");
            appendMap(sb, m, depth);
        } else if (v instanceof PyObject o) {
            if (o.isReference()) { sb.append('<').append(o.qualifiedName()).append('>'); return; }
            sb.append(o.qualifiedName()).append('(');
            if (depth <= 0) { sb.append("…)"); return; }
            boolean any = false;
            if (!o.args().items().isEmpty()) { appendItems(sb, o.args().items(), depth); any = true; }
            if (!o.items().isEmpty()) { if (any) sb.append(", "); appendMap(sb, o.items(), depth); any = true; }
            Object st = o.state();
            if (st instanceof PyTuple t && t.size() == 2 && (t.get(0) instanceof Map || t.get(0) == null)) st = t.get(0);
            if (st instanceof Map<?, ?> m) {
                int n = 0;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (any) sb.append(", ");
                    any = true;
                    if (n++ == MAX_ITEMS) { sb.append("… ").append(m.size() - MAX_ITEMS).append(" more"); break; }
                    sb.append(e.getKey() instanceof String s ? s : repr(e.getKey(), 1)).append('=');
                    append(sb, e.getValue(), depth - 1);
                }
            } else if (st != null) {
                if (any) sb.append(", ");
                sb.append("state=");
                append(sb, st, depth - 1);
            }
            sb.append(')');
        } else sb.append(v.getClass().getSimpleName());
    }

    private static void appendMap(StringBuilder sb, Map<?, ?> m, int depth) {
        if (depth <= 0) { sb.append("{…}"); return; }
        sb.append('{');
        int n = 0;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (n > 0) sb.append(", ");
            if (n++ == MAX_ITEMS) { sb.append("… ").append(m.size() - MAX_ITEMS).append(" more"); break; }
            append(sb, e.getKey(), 1);
            sb.append(": ");
            append(sb, e.getValue(), depth - 1);
        }
        sb.append('}');
    }

    private static void appendItems(StringBuilder sb, Collection<?> items, int depth) {
        int n = 0;
        Iterator<?> it = items.iterator();
        while (it.hasNext()) {
            Object o = it.next();
            if (n > 0) sb.append(", ");
            if (n++ == MAX_ITEMS) { sb.append("… ").append(items.size() - MAX_ITEMS).append(" more"); break; }
            append(sb, o, depth - 1);
        }
    }

    private static void appendString(StringBuilder sb, String s) {
        sb.append('\'');
        int n = Math.min(s.length(), MAX_STRING);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '\\') sb.append('\\').append(c);
            else if (c == '\n') sb.append("\\n");
            else if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
            else sb.append(c);
        }
        if (s.length() > n) sb.append("…");
        sb.append('\'');
    }

    /** Python's float repr for the common cases (shortest round-trip digits). */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == Math.rint(d) && Math.abs(d) < 1e16) return String.format("%.1f", d);
        String s = Double.toString(d);
        int e = s.indexOf('E');
        if (e < 0) return s;
        String mant = s.substring(0, e);
        if (mant.endsWith(".0")) mant = mant.substring(0, mant.length() - 2);
        int exp = Integer.parseInt(s.substring(e + 1));
        return mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }
}
