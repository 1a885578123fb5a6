package dev.spikerev.autograd;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The Java backward hooks registered on forward outputs whose backward has not run yet. Holding them matters: a hook
 * object collected before its backward fires crashes that backward in native code. A hook removes itself when it
 * fires; {@link #discardAll()} frees what the remaining ones hold, for graphs dropped without a backward.
 *
 * @param <H> the hook type
 */
public final class PendingHooks<H> {
    private final Set<H> hooks = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    private final Consumer<H> release;

    /** @param release frees what a hook holds (called by {@link #discardAll()}) */
    public PendingHooks(Consumer<H> release) { this.release = release; }

    /** A hook just registered on a forward output. */
    public void add(H hook) { hooks.add(hook); }

    /** A hook that has fired (or been freed otherwise). */
    public void remove(H hook) { hooks.remove(hook); }

    /** Hooks still waiting for their backward. */
    public int size() { return hooks.size(); }

    /** Releases and forgets every pending hook; only when no graph containing them will be backpropagated. */
    public void discardAll() {
        synchronized (hooks) {
            for (H h : hooks) release.accept(h);
            hooks.clear();
        }
    }
}
