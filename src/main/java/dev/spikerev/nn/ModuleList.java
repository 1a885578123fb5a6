package dev.spikerev.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.bytedeco.pytorch.Module;

/** PyTorch's {@code nn.ModuleList}/{@code nn.Sequential} naming: children registered as "0", "1", .... */
public class ModuleList<M extends Module> extends Module {
    private final List<M> items = new ArrayList<>();

    public ModuleList() { super(); }

    public M add(M m) {
        items.add(register_module(Integer.toString(items.size()), m));
        return m;
    }

    public M get(int i) { return items.get(i); }

    public int size() { return items.size(); }

    public List<M> items() { return Collections.unmodifiableList(items); }
}
