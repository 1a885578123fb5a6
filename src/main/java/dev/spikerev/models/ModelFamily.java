package dev.spikerev.models;

import java.util.Map;

/** A model family (t-revsnn, revsnn, mpis): builds {@link FamilyModel}s from a fixture's meta.json. */
public interface ModelFamily {
    /** Family name as in fixtures' {@code meta.json "family"}. */
    String name();

    /** Builds the model described by {@code meta} (its {@code constructor} object and family-specific keys). */
    FamilyModel build(Map<String, Object> meta);
}
