package dev.spikerev.checkpoint;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Python {@code collections.OrderedDict}. Reading maps every OrderedDict to this class (a
 * {@link LinkedHashMap}, so code that only wants a map need not care); writing uses it as the
 * explicit marker for "pickle this map as an OrderedDict". Every other {@link Map} is written as a
 * plain {@code dict}. A {@code state_dict} must be a {@code PyOrderedDict} to look like PyTorch's.
 *
 * <p>{@link #attributes()} holds the instance attributes Python sets with {@code BUILD} — for a
 * state_dict that is {@code _metadata} (per-module version numbers, used by some modules'
 * {@code _load_from_state_dict}). They are read and written back unchanged.
 */
public final class PyOrderedDict extends LinkedHashMap<Object, Object> {
    private static final long serialVersionUID = 1L;
    private final LinkedHashMap<String, Object> attributes = new LinkedHashMap<>();

    public PyOrderedDict() {}

    public PyOrderedDict(Map<?, ?> m) { super(m); }

    /** Instance attributes (e.g. {@code _metadata}); empty for most dicts. Mutable. */
    public LinkedHashMap<String, Object> attributes() { return attributes; }
}
