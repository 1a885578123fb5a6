package dev.spikerev.checkpoint;

import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/** Working with training checkpoints (a dict holding a model state_dict plus optimizer state, epoch, ...). */
public final class Checkpoints {
    private Checkpoints() {}

    /**
     * Keys tried, in order, when no key is given. They cover the reference training scripts:
     * T-RevSNN {@code model} (EMA weights under {@code state_dict_ema}), RevSNN {@code model} (RevSResNet,
     * DVS) or {@code state_dict} (timm RevSFormer), MPIS {@code state_dict} (prefixed {@code module.}).
     */
    public static final List<String> DEFAULT_MODEL_KEYS = List.of("model", "state_dict", "model_state_dict", "net");

    /**
     * Extracts a model state_dict from a loaded checkpoint.
     *
     * @param loaded      what {@link TorchFile#load} returned
     * @param key         top-level key holding the state_dict; null picks the first of
     *                    {@link #DEFAULT_MODEL_KEYS} present, or the checkpoint itself if it already is a state_dict
     * @param stripPrefix removed from every key that starts with it (e.g. {@code module.} of DataParallel);
     *                    null or empty for none. At least one key must start with it.
     * @return an ordered state_dict; the {@code _metadata} of the source (per-module versions) is kept with
     *         the prefix stripped from its module names as well
     */
    public static PyOrderedDict extractStateDict(Object loaded, String key, String stripPrefix) {
        Object sdObj;
        String what;
        if (key == null || key.isEmpty()) {
            if (StateDicts.isStateDict(loaded)) {
                sdObj = loaded;
                what = "the file";
            } else {
                if (!(loaded instanceof Map<?, ?> m))
                    throw new CheckpointFormatException("the checkpoint is " + Unpickler.kind(loaded) + ", not a dict");
                String found = defaultModelKey(loaded);
                if (found == null)
                    throw new CheckpointFormatException("none of the keys " + DEFAULT_MODEL_KEYS
                            + " holds a state_dict; top-level keys are " + keys(m) + " (choose one with --key)");
                sdObj = m.get(found);
                what = "key '" + found + "'";
            }
        } else {
            if (!(loaded instanceof Map<?, ?> m))
                throw new CheckpointFormatException("the checkpoint is " + Unpickler.kind(loaded) + ", not a dict with key '" + key + "'");
            if (!m.containsKey(key))
                throw new CheckpointFormatException("no key '" + key + "'; top-level keys are " + keys(m));
            sdObj = m.get(key);
            what = "key '" + key + "'";
            if (sdObj == null) throw new CheckpointFormatException(what + " is None (no weights stored there)");
        }
        Map<String, Tensor> sd = StateDicts.tensors(sdObj, what);
        PyOrderedDict out = new PyOrderedDict();
        String p = stripPrefix == null ? "" : stripPrefix;
        int stripped = 0;
        for (Map.Entry<String, Tensor> e : sd.entrySet()) {
            String k = e.getKey();
            if (!p.isEmpty() && k.startsWith(p)) { k = k.substring(p.length()); stripped++; }
            if (out.containsKey(k)) throw new CheckpointFormatException("stripping '" + p + "' makes key '" + k + "' appear twice");
            out.put(k, e.getValue());
        }
        if (!p.isEmpty() && stripped == 0 && !sd.isEmpty())
            throw new CheckpointFormatException("no key of " + what + " starts with '" + p + "' (first key: '"
                    + sd.keySet().iterator().next() + "')");
        if (sdObj instanceof PyOrderedDict src && src.attributes().get("_metadata") instanceof Map<?, ?> meta) {
            PyOrderedDict newMeta = new PyOrderedDict();
            String mod = p.endsWith(".") ? p.substring(0, p.length() - 1) : p;
            for (Map.Entry<?, ?> e : meta.entrySet()) {
                if (!(e.getKey() instanceof String k)) continue;
                if (!p.isEmpty()) {
                    if (k.equals(mod)) k = "";
                    else if (k.startsWith(p)) k = k.substring(p.length());
                    else if (!k.isEmpty()) continue;
                    else if (meta.containsKey(mod)) continue; // the old root entry is replaced by the stripped module's
                }
                newMeta.put(k, e.getValue());
            }
            out.attributes().put("_metadata", newMeta);
        }
        return out;
    }

    /**
     * The key {@link #extractStateDict} uses when none is given: the first of {@link #DEFAULT_MODEL_KEYS}
     * whose value is not None; null if {@code loaded} is itself a state_dict or has none of them.
     */
    public static String defaultModelKey(Object loaded) {
        if (StateDicts.isStateDict(loaded) || !(loaded instanceof Map<?, ?> m)) return null;
        for (String k : DEFAULT_MODEL_KEYS) if (m.get(k) != null) return k;
        return null;
    }

    static String keys(Map<?, ?> m) {
        StringBuilder sb = new StringBuilder("[");
        int n = 0;
        for (Object k : m.keySet()) {
            if (n > 0) sb.append(", ");
            if (n++ == 20) { sb.append("…"); break; }
            sb.append(PyRepr.repr(k, 1));
        }
        return sb.append(']').toString();
    }
}
