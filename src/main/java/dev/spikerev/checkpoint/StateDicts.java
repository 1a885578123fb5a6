package dev.spikerev.checkpoint;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Views of loaded values as state_dicts (ordered name → tensor maps). */
public final class StateDicts {
    private StateDicts() {}

    /**
     * The loaded value as a name → tensor map, in file order. Fails with a message naming the first
     * offending entry if {@code loaded} is not a map, a key is not a string or a value is not a tensor.
     */
    public static LinkedHashMap<String, Tensor> tensors(Object loaded) {
        return tensors(loaded, "value");
    }

    /** As {@link #tensors(Object)}; {@code what} names the value in messages (e.g. "key 'model'"). */
    public static LinkedHashMap<String, Tensor> tensors(Object loaded, String what) {
        if (!(loaded instanceof Map<?, ?> m))
            throw new CheckpointFormatException(what + " is " + Unpickler.kind(loaded) + ", not a state_dict (a dict of tensors)");
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String k))
                throw new CheckpointFormatException(what + " has key " + PyRepr.repr(e.getKey(), 1) + ", not a string: not a state_dict");
            if (!(e.getValue() instanceof Tensor t))
                throw new CheckpointFormatException(what + " entry '" + k + "' is " + Unpickler.kind(e.getValue())
                        + ", not a tensor: not a state_dict");
            out.put(k, t);
        }
        return out;
    }

    /** True if {@code loaded} is a non-empty map of string → tensor. */
    public static boolean isStateDict(Object loaded) {
        if (!(loaded instanceof Map<?, ?> m) || m.isEmpty()) return false;
        for (Map.Entry<?, ?> e : m.entrySet())
            if (!(e.getKey() instanceof String) || !(e.getValue() instanceof Tensor)) return false;
        return true;
    }

    /** Copies {@code sd} into a {@link PyOrderedDict} (written as {@code collections.OrderedDict}). */
    public static PyOrderedDict ordered(Map<String, Tensor> sd) {
        PyOrderedDict d = new PyOrderedDict();
        d.putAll(sd);
        return d;
    }

    /** Total number of elements of all tensors. */
    public static long parameterCount(Map<String, Tensor> sd) {
        long n = 0;
        for (Tensor t : sd.values()) n += t.numel();
        return n;
    }
}
