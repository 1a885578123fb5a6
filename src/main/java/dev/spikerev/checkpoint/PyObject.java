package dev.spikerev.checkpoint;

import java.util.LinkedHashMap;
import java.util.Objects;

/**
 * An inert Python object from a checkpoint: only recorded, never executed. Two shapes:
 * <ul>
 *   <li>a <b>reference</b> to a global, e.g. the function {@code builtins.input} that some training
 *       scripts pickle by mistake ({@link #isReference()});</li>
 *   <li>an <b>instance</b> of an allow-listed class ({@code argparse.Namespace},
 *       {@code yacs.config.CfgNode}, {@code collections.Counter}, {@code torch.device}): its constructor
 *       arguments ({@link #args()}), the state set by {@code BUILD} ({@link #state()}, usually a map of
 *       attributes) and, for dict subclasses, the items ({@link #items()}).</li>
 * </ul>
 * The module is the Python 3 name ({@code builtins}, not {@code __builtin__}).
 */
public final class PyObject {
    private final String module;
    private final String name;
    private final boolean reference;
    private final PyTuple args;
    private Object state;
    private final LinkedHashMap<Object, Object> items = new LinkedHashMap<>();

    private PyObject(String module, String name, boolean reference, PyTuple args) {
        this.module = Objects.requireNonNull(module);
        this.name = Objects.requireNonNull(name);
        this.reference = reference;
        this.args = args;
    }

    /** A reference to the global {@code module.name} itself (a function or class object). */
    public static PyObject reference(String module, String name) {
        return new PyObject(module, name, true, null);
    }

    /** An instance of {@code module.name} built from {@code args} (empty for {@code NEWOBJ cls ()}). */
    public static PyObject instance(String module, String name, PyTuple args) {
        return new PyObject(module, name, false, args == null ? PyTuple.of() : args);
    }

    public String module() { return module; }
    public String name() { return name; }
    /** {@code module.name}, e.g. {@code argparse.Namespace}. */
    public String qualifiedName() { return module + "." + name; }
    public boolean isReference() { return reference; }
    /** Constructor arguments of an instance; null for a reference. */
    public PyTuple args() { return args; }
    /** State set by BUILD (for most classes a map attribute → value); null if none. */
    public Object state() { return state; }
    public void setState(Object state) {
        if (reference) throw new IllegalStateException("a global reference has no state");
        this.state = state;
    }
    /** Dict items of a dict subclass (CfgNode, Counter); empty otherwise. Mutable. */
    public LinkedHashMap<Object, Object> items() { return items; }

    /**
     * Attribute {@code key} of the instance state (e.g. {@code Namespace.lr}), or null.
     * Works when the state is a map, or a (dict, slots) pair.
     */
    public Object attribute(String key) {
        Object s = state;
        if (s instanceof PyTuple t && t.size() == 2) s = t.get(0);
        return s instanceof java.util.Map<?, ?> m ? m.get(key) : null;
    }

    /** e.g. {@code argparse.Namespace(lr=0.1, T=2)} or {@code <builtins.input>}. */
    @Override public String toString() { return PyRepr.repr(this, 2); }
}
