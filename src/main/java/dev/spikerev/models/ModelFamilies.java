package dev.spikerev.models;

import dev.spikerev.models.revsnn.RevSNNFamily;
import dev.spikerev.models.trevsnn.TRevSNNFamily;
import java.util.LinkedHashMap;
import java.util.Map;

/** Registry of model families by name (as in fixtures' meta.json and configs' {@code family}). */
public final class ModelFamilies {
    private static final Map<String, ModelFamily> FAMILIES = new LinkedHashMap<>();

    static {
        register(new TRevSNNFamily());
        register(new RevSNNFamily());
        register(new dev.spikerev.models.mpis.MpisFamily());
        register(new dev.spikerev.models.baseline.BaselineFamily());
    }

    private ModelFamilies() {}

    static void register(ModelFamily f) { FAMILIES.put(f.name(), f); }

    public static ModelFamily get(String name) {
        ModelFamily f = FAMILIES.get(name);
        if (f == null)
            throw new IllegalArgumentException("unknown model family '" + name + "' (available: " + String.join(", ", FAMILIES.keySet()) + ")");
        return f;
    }
}
