package dev.spikerev.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * Base class for spikerev modules: a libtorch {@link Module} with PyTorch's state_dict API
 * ({@link StateDictIO}), and which keeps every child registered through {@link #register_module(String, Module)}
 * strongly reachable from Java.
 *
 * <p>Why the latter matters: a Module created from Java is a native object that calls back into its Java object for
 * virtual methods ({@code zero_grad}, {@code train}, ...). If only the native parent holds the child, the Java object
 * can be garbage-collected and the next such call fails with a {@code NullPointerException} from native code.
 */
public class SpikeModule extends Module {
    private final List<Module> children = new ArrayList<>();

    public SpikeModule() { super(); }

    /** Registers a child (the name becomes the state_dict key prefix; no dots allowed) and keeps it reachable. */
    @Override public <M extends Module> M register_module(String name, M module) {
        M m = super.register_module(name, module);
        children.add(module);
        return m;
    }

    /** Children registered through this object, in order (Java handles). */
    public List<Module> registeredChildren() { return Collections.unmodifiableList(children); }

    /** {@link StateDictIO#stateDict(Module)}: PyTorch-ordered, detached handles. */
    public LinkedHashMap<String, Tensor> stateDict() { return StateDictIO.stateDict(this); }

    /** {@link StateDictIO#keys(Module)}. */
    public List<String> stateDictKeys() { return StateDictIO.keys(this); }

    /** {@link StateDictIO#loadStateDict(Module, Map, boolean)}: all-or-nothing, one exception listing every problem. */
    public StateDictIO.LoadResult loadStateDict(Map<String, Tensor> stateDict, boolean strict) {
        return StateDictIO.loadStateDict(this, stateDict, strict);
    }
}
