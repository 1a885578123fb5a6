package dev.spikerev.checkpoint;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/** Depth-bounded walk of an {@link Unpickler} result: no cycles, no internal objects escaping, nesting ≤ the limit. */
final class PickleValidator {
    private final int maxDepth;
    private final IdentityHashMap<Object, Boolean> state = new IdentityHashMap<>(); // false: on path, true: done
    PickleValidator(int maxDepth) { this.maxDepth = maxDepth; }

    void check(Object o) { visit(o, 0); }

    private void visit(Object o, int depth) {
        if (o == null || o instanceof String || o instanceof Number || o instanceof Boolean || o instanceof byte[]
                || o instanceof Tensor) return;
        if (o instanceof Unpickler.StorageRef) throw Unpickler.bad("a bare storage outside a tensor is not supported");
        if (o instanceof PickleGlobals.NumpyDType) throw Unpickler.bad("a bare numpy dtype is not supported");
        if (depth > maxDepth) throw Unpickler.bad("values nested deeper than " + maxDepth + " levels");
        Boolean s = state.get(o);
        if (s != null) {
            if (!s) throw Unpickler.bad("the checkpoint contains a reference cycle (" + Unpickler.kind(o) + " contains itself)");
            return;
        }
        state.put(o, false);
        if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) { visit(e.getKey(), depth + 1); visit(e.getValue(), depth + 1); }
            if (o instanceof PyOrderedDict d) for (Object v : d.attributes().values()) visit(v, depth + 1);
        } else if (o instanceof List<?> l) {
            for (Object x : l) visit(x, depth + 1);
        } else if (o instanceof PyTuple t) {
            for (Object x : t.items()) visit(x, depth + 1);
        } else if (o instanceof Set<?> st) {
            for (Object x : st) visit(x, depth + 1);
        } else if (o instanceof PyObject p) {
            if (!p.isReference()) {
                visit(p.args(), depth + 1);
                visit(p.state(), depth + 1);
                for (Map.Entry<?, ?> e : p.items().entrySet()) { visit(e.getKey(), depth + 1); visit(e.getValue(), depth + 1); }
            }
        } else {
            throw Unpickler.bad("internal: unexpected value " + Unpickler.kind(o));
        }
        state.put(o, true);
    }
}
