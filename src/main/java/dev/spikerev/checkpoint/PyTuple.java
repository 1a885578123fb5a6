package dev.spikerev.checkpoint;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A Python tuple: an immutable, ordered list of values (read from and written to checkpoints).
 * Also the Java form of {@code torch.Size} (a tuple of {@code Long}).
 *
 * <p>Tuples may be dict keys, so the hash is computed once at construction; together with the
 * nesting bound enforced by the reader this keeps {@code hashCode}/{@code equals} cheap and shallow.
 */
public final class PyTuple {
    private final List<Object> items;
    private final int hash;
    /** Nesting depth of tuples inside this one (1 for a tuple without tuple elements). */
    final int depth;

    public PyTuple(List<?> items) {
        this.items = Collections.unmodifiableList(new ArrayList<>(items));
        int h = 1, d = 0;
        for (Object o : this.items) {
            h = 31 * h + elementHash(o);
            if (o instanceof PyTuple t) d = Math.max(d, t.depth);
        }
        this.hash = h;
        this.depth = d + 1;
    }

    public static PyTuple of(Object... items) { return new PyTuple(Arrays.asList(items)); }

    /** A tuple of Longs, e.g. a shape. */
    public static PyTuple ofLongs(long... values) {
        List<Object> l = new ArrayList<>(values.length);
        for (long v : values) l.add(v);
        return new PyTuple(l);
    }

    public List<Object> items() { return items; }
    public int size() { return items.size(); }
    public Object get(int i) { return items.get(i); }

    private static int elementHash(Object o) {
        if (o instanceof byte[] b) return Arrays.hashCode(b);
        return Objects.hashCode(o);
    }

    @Override public int hashCode() { return hash; }

    @Override public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof PyTuple t) || t.hash != hash || t.items.size() != items.size()) return false;
        for (int i = 0; i < items.size(); i++) {
            Object a = items.get(i), b = t.items.get(i);
            if (a instanceof byte[] x && b instanceof byte[] y) { if (!Arrays.equals(x, y)) return false; }
            else if (!Objects.equals(a, b)) return false;
        }
        return true;
    }

    /** Python-like rendering: {@code (1, 2)}, {@code (1,)}, {@code ()}. */
    @Override public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) sb.append(", ");
            sb.append(PyRepr.repr(items.get(i), 1));
        }
        if (items.size() == 1) sb.append(',');
        return sb.append(')').toString();
    }
}
