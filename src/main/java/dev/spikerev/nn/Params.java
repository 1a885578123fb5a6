package dev.spikerev.nn;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * Safe parameter/buffer registration. {@code Module.register_parameter} returns a C++ reference into the module's
 * parameter table; JavaCPP wraps it without ownership, and the table reallocates as more entries are registered,
 * so a kept return value silently points at another tensor (or freed memory: a native crash). Keep the handle you
 * passed in instead: it shares the TensorImpl with the registered parameter.
 */
public final class Params {
    private Params() {}

    /** Registers {@code t} as parameter {@code name} (requires grad) and returns {@code t} itself. */
    public static Tensor register(Module m, String name, Tensor t) {
        m.register_parameter(name, t, true);
        return t;
    }

    /** Registers {@code t} as buffer {@code name} and returns {@code t} itself. */
    public static Tensor buffer(Module m, String name, Tensor t) {
        m.register_buffer(name, t);
        return t;
    }
}
