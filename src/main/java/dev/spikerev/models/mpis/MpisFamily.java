package dev.spikerev.models.mpis;

import dev.spikerev.models.FamilyModel;
import dev.spikerev.models.ModelFamily;
import java.util.Map;

/**
 * The {@code mpis} family: builds {@link MpisModel}s from a fixture's meta.json ({@code constructor} with the
 * reference's argument names; optional port switches under {@code mpis_options}, e.g.
 * {@code {"gradient": "implicit"}}), or from a training config, whose {@code model:} map is the constructor and may
 * hold the switches itself ({@code model: {..., mpis_options: {gradient: implicit}}}).
 */
public final class MpisFamily implements ModelFamily {
    @Override public String name() { return "mpis"; }

    @Override @SuppressWarnings("unchecked")
    public FamilyModel build(Map<String, Object> meta) {
        Object c = meta.get("constructor");
        if (!(c instanceof Map<?, ?>)) throw new IllegalArgumentException("mpis: meta.json has no 'constructor' object");
        Object sw = meta.get("mpis_options");
        if (sw == null) sw = ((Map<?, ?>) c).get("mpis_options"); // a YAML config's model: map
        if (sw != null && !(sw instanceof Map<?, ?>))
            throw new IllegalArgumentException("mpis: mpis_options must be a map (e.g. {gradient: implicit}), found " + sw);
        return new MpisModel(MpisConfig.fromConstructor((Map<String, Object>) c, sw instanceof Map<?, ?> m ? (Map<String, Object>) m : null));
    }
}
