package dev.spikerev.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringSharedModuleDict;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * PyTorch-compatible {@code state_dict()} / {@code load_state_dict()} for any libtorch {@link Module}.
 *
 * <p>Key order is PyTorch's: for each module, its own parameters (registration order), then its own buffers, then each
 * child recursively under {@code childName + "."}. libtorch's recursive {@code named_parameters()} lists all
 * parameters of the tree before any buffer, so it is not used. Undefined tensors (e.g. {@code bias} of a bias-free
 * libtorch Linear/Conv, which Python stores as {@code None}) are skipped, as Python skips {@code None}. A tensor
 * registered under two names (weight tying), or a child registered twice, appears under every name, as in Python.
 * libtorch has no non-persistent buffers: every registered buffer is part of the state_dict.
 *
 * <p>Submodule names may not contain dots in libtorch: a Python {@code nn.ModuleList} attribute {@code layers} is a
 * child container named {@code layers} whose children are named {@code 0, 1, ...} (see {@link SpikeList}).
 */
public final class StateDictIO {
    private StateDictIO() {}

    /** What a non-strict load skipped (both empty after a strict load). */
    public record LoadResult(List<String> missingKeys, List<String> unexpectedKeys) {}

    /**
     * The state_dict: name to tensor, in PyTorch's order. Values are detached handles sharing storage with the
     * module's tensors (like Python's {@code state_dict()} with {@code keep_vars=False}); close them when done.
     */
    public static LinkedHashMap<String, Tensor> stateDict(Module module) {
        LinkedHashMap<String, Tensor> live = liveEntries(module);
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : live.entrySet()) {
            out.put(e.getKey(), e.getValue().detach());
            e.getValue().close();
        }
        return out;
    }

    /** The state_dict keys in PyTorch's order. */
    public static List<String> keys(Module module) {
        LinkedHashMap<String, Tensor> live = liveEntries(module);
        List<String> keys = new ArrayList<>(live.keySet());
        live.values().forEach(Tensor::close);
        return keys;
    }

    /**
     * Copies {@code stateDict} into the module's parameters and buffers (under no-grad, converting device; dtypes must
     * match). Validates everything first and throws one {@link StateDictException} listing every problem, leaving
     * the module unchanged: with {@code strict}, missing and unexpected keys are errors; shape and dtype mismatches
     * are always errors (as in PyTorch). Returns the keys a non-strict load skipped.
     */
    public static LoadResult loadStateDict(Module module, Map<String, Tensor> stateDict, boolean strict) {
        LinkedHashMap<String, Tensor> live = liveEntries(module);
        try {
            List<String> missing = new ArrayList<>();
            List<String> unexpected = new ArrayList<>();
            List<String> mismatches = new ArrayList<>();
            for (Map.Entry<String, Tensor> e : live.entrySet()) {
                Tensor src = stateDict.get(e.getKey());
                if (src == null) { missing.add(e.getKey()); continue; }
                Tensor dst = e.getValue();
                long[] ss = shape(src), ds = shape(dst);
                if (!Arrays.equals(ss, ds))
                    mismatches.add(e.getKey() + ": shape " + Arrays.toString(ss) + " in state_dict, "
                            + Arrays.toString(ds) + " in model");
                if (src.scalar_type().value != dst.scalar_type().value)
                    mismatches.add(e.getKey() + ": dtype " + dtypeName(src) + " in state_dict, " + dtypeName(dst)
                            + " in model");
            }
            for (String k : stateDict.keySet()) if (!live.containsKey(k)) unexpected.add(k);
            boolean keyErrors = strict && (!missing.isEmpty() || !unexpected.isEmpty());
            if (keyErrors || !mismatches.isEmpty())
                throw new StateDictException(message(module, strict, missing, unexpected, mismatches),
                        strict ? missing : List.of(), strict ? unexpected : List.of(), mismatches);
            try (NoGradGuard ng = new NoGradGuard()) {
                for (Map.Entry<String, Tensor> e : live.entrySet()) {
                    Tensor src = stateDict.get(e.getKey());
                    if (src != null) e.getValue().copy_(src);
                }
            }
            return new LoadResult(List.copyOf(missing), List.copyOf(unexpected));
        } finally {
            live.values().forEach(Tensor::close);
        }
    }

    private static String message(Module module, boolean strict, List<String> missing, List<String> unexpected,
                                  List<String> mismatches) {
        StringBuilder sb = new StringBuilder("Error(s) in loading state_dict for ")
                .append(module.getClass().getSimpleName()).append(strict ? " (strict)" : " (non-strict)").append(':');
        if (strict && !missing.isEmpty())
            sb.append("\n  Missing key(s) (").append(missing.size()).append("): ").append(quote(missing));
        if (strict && !unexpected.isEmpty())
            sb.append("\n  Unexpected key(s) (").append(unexpected.size()).append("): ").append(quote(unexpected));
        for (String m : mismatches) sb.append("\n  Mismatch for ").append(m);
        sb.append("\n  Hint: ");
        if (!mismatches.isEmpty())
            sb.append("a mismatch means the checkpoint was written for another configuration (channels, classes, dtype); ");
        if (strict && (!missing.isEmpty() || !unexpected.isEmpty()))
            sb.append("key differences usually mean another model or a renamed module (check the model name and any "
                    + "key prefix such as 'module.'); use a non-strict load to skip them deliberately");
        else sb.append("build the model with the configuration stored next to the weights");
        return sb.toString();
    }

    private static String quote(List<String> keys) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < keys.size(); i++) sb.append(i == 0 ? "" : ", ").append('"').append(keys.get(i)).append('"');
        return sb.toString();
    }

    /** Live handles (sharing the module's tensors) in PyTorch order. Caller closes them. */
    static LinkedHashMap<String, Tensor> liveEntries(Module module) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect(module, "", out);
        return out;
    }

    /**
     * {@code named_parameters()} in PyTorch order (libtorch's recursive pre-order is the same), aliases of shared
     * tensors included, as owning handles (the entries of libtorch's dict are references into it).
     */
    public static LinkedHashMap<String, Tensor> namedParameters(Module m) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        StringTensorDict d = m.named_parameters(true);
        for (long i = 0; i < d.size(); i++) out.put(d.get(i).key().getString(), new Tensor(d.get(i).value()));
        d.close();
        return out;
    }

    private static void collect(Module m, String prefix, LinkedHashMap<String, Tensor> out) {
        StringTensorDict params = m.named_parameters(false);
        for (long i = 0; i < params.size(); i++) put(out, prefix + params.get(i).key().getString(), params.get(i).value());
        params.close();
        StringTensorDict buffers = m.named_buffers(false);
        for (long i = 0; i < buffers.size(); i++) put(out, prefix + buffers.get(i).key().getString(), buffers.get(i).value());
        buffers.close();
        StringSharedModuleDict children = m.named_children();
        for (long i = 0; i < children.size(); i++)
            collect(children.get(i).value(), prefix + children.get(i).key().getString() + ".", out);
        children.close();
    }

    private static void put(LinkedHashMap<String, Tensor> out, String key, Tensor ref) {
        if (!ref.defined()) return;
        Tensor prev = out.put(key, new Tensor(ref));
        if (prev != null) prev.close();
    }

    static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int d = 0; d < s.length; d++) s[d] = t.size(d);
        return s;
    }

    /** PyTorch dtype name ({@code float32}, {@code int64}, ...). */
    public static String dtypeName(Tensor t) {
        int v = t.scalar_type().value;
        switch (v) {
            case 0: return "uint8";
            case 1: return "int8";
            case 2: return "int16";
            case 3: return "int32";
            case 4: return "int64";
            case 5: return "float16";
            case 6: return "float32";
            case 7: return "float64";
            case 11: return "bool";
            case 15: return "bfloat16";
            default:
                for (ScalarType st : ScalarType.values()) if (st.value == v) return st.toString();
                return "dtype#" + v;
        }
    }
}
