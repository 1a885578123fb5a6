package dev.spikerev.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.bytedeco.pytorch.Module;

/**
 * A numbered container like Python's {@code nn.ModuleList}: children are registered as {@code 0, 1, ...}, so a field
 * {@code layers = register_module("layers", new SpikeList<>())} gives state_dict keys {@code layers.0.weight}, ...
 */
public final class SpikeList<M extends Module> extends SpikeModule {
    private final List<M> items = new ArrayList<>();

    /** Appends {@code m} as child {@code size()}; returns it. */
    public M add(M m) {
        register_module(Integer.toString(items.size()), m);
        items.add(m);
        return m;
    }

    public M get(int i) { return items.get(i); }
    public int size() { return items.size(); }
    public List<M> items() { return Collections.unmodifiableList(items); }
}
