package dev.spikerev.tensor;

import java.util.function.Supplier;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Native-memory scopes. Every tensor handle made inside a {@link PointerScope} is freed when it closes; without one a
 * training step's handles keep its whole autograd graph alive until a GC (DEVELOPERS.md: ~8 MB/step).
 */
public final class Scopes {
    private Scopes() {}

    /**
     * Runs {@code body} in a fresh inner scope and moves only the returned pointers to the enclosing scope (or, with
     * none, leaves them owned by the caller). Everything else made in {@code body} is freed on return: use it around
     * each block of a graph-free forward so activations do not pile up.
     */
    public static <P extends Pointer> P[] keep(Supplier<P[]> body) {
        PointerScope outer = PointerScope.getInnerScope();
        try (PointerScope inner = new PointerScope()) {
            P[] out = body.get();
            for (P p : out) {
                if (p == null) continue;
                if (outer != null) outer.attach(p);
                else p.retainReference();
            }
            return out;
        }
    }

    /** Single-result variant of {@link #keep(Supplier)}. */
    public static <P extends Pointer> P keepOne(Supplier<P> body) {
        PointerScope outer = PointerScope.getInnerScope();
        try (PointerScope inner = new PointerScope()) {
            P p = body.get();
            if (p != null) {
                if (outer != null) outer.attach(p);
                else p.retainReference();
            }
            return p;
        }
    }
}
