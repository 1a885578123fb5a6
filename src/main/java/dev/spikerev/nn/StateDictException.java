package dev.spikerev.nn;

import java.util.List;

/**
 * A state_dict that does not fit a module. Thrown once per load, listing every problem: missing keys, unexpected keys
 * (strict loads only) and every shape or dtype mismatch.
 */
public class StateDictException extends IllegalArgumentException {
    private final List<String> missingKeys;
    private final List<String> unexpectedKeys;
    private final List<String> mismatches;

    public StateDictException(String message, List<String> missingKeys, List<String> unexpectedKeys, List<String> mismatches) {
        super(message);
        this.missingKeys = List.copyOf(missingKeys);
        this.unexpectedKeys = List.copyOf(unexpectedKeys);
        this.mismatches = List.copyOf(mismatches);
    }

    /** Keys the module has but the state_dict lacks (only reported as errors by strict loads). */
    public List<String> missingKeys() { return missingKeys; }

    /** Keys the state_dict has but the module lacks (only reported as errors by strict loads). */
    public List<String> unexpectedKeys() { return unexpectedKeys; }

    /** One line per shape or dtype mismatch, e.g. {@code fc.weight: shape [2, 4] in state_dict, [3, 4] in model}. */
    public List<String> mismatches() { return mismatches; }
}
