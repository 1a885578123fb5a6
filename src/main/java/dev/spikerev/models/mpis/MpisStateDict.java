package dev.spikerev.models.mpis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringSharedModuleDict;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;

/**
 * PyTorch's {@code state_dict()} / {@code load_state_dict(strict=True)} / {@code parameters()} orders over a libtorch
 * module tree, for the MPIS port until the shared {@code dev.spikerev.nn} state-dict API lands:
 * <ul>
 * <li>{@link #of}: per module its own parameters, then its own buffers, then its children recursively; a module
 * registered under several parents appears under every path (aliases), as in Python.</li>
 * <li>{@link #uniqueParameters}: {@code model.parameters()} (pre-order, each module once, each tensor once) —
 * the optimizer's parameter indices.</li>
 * </ul>
 * Returned tensors are the live ones (writing into them changes the model).
 */
public final class MpisStateDict {
    private MpisStateDict() {}

    public static LinkedHashMap<String, Tensor> of(Module root) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        walk(root, "", out);
        return out;
    }

    private static void walk(Module m, String prefix, Map<String, Tensor> out) {
        put(m.named_parameters(false), prefix, out);
        put(m.named_buffers(false), prefix, out);
        StringSharedModuleDict ch = m.named_children();
        for (long i = 0; i < ch.size(); i++) walk(ch.get(i).value(), prefix + ch.get(i).key().getString() + ".", out);
    }

    private static void put(StringTensorDict d, String prefix, Map<String, Tensor> out) {
        for (long i = 0; i < d.size(); i++) out.put(prefix + d.get(i).key().getString(), d.get(i).value());
    }

    /** Unique parameters in Python's {@code model.parameters()} order (frozen ones included). */
    public static List<Tensor> uniqueParameters(Module root) {
        List<Tensor> out = new ArrayList<>();
        collect(root, new HashSet<>(), new HashSet<>(), out);
        return out;
    }

    /** Names of {@link #uniqueParameters} (the first path of each). */
    public static List<String> uniqueParameterNames(Module root) {
        List<String> names = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (Map.Entry<String, Tensor> e : of(root).entrySet()) {
            Tensor t = e.getValue();
            if (!isParameter(root, e.getKey())) continue;
            if (seen.add(t.unsafeGetTensorImpl().address())) names.add(e.getKey());
        }
        return names;
    }

    private static boolean isParameter(Module root, String key) {
        return !(key.endsWith("running_mean") || key.endsWith("running_var") || key.endsWith("num_batches_tracked"));
    }

    private static void collect(Module m, Set<Long> mods, Set<Long> tensors, List<Tensor> out) {
        if (!mods.add(m.address())) return;
        StringTensorDict ps = m.named_parameters(false);
        for (long i = 0; i < ps.size(); i++) {
            Tensor t = ps.get(i).value();
            if (tensors.add(t.unsafeGetTensorImpl().address())) out.add(t);
        }
        StringSharedModuleDict ch = m.named_children();
        for (long i = 0; i < ch.size(); i++) collect(ch.get(i).value(), mods, tensors, out);
    }

    /**
     * Copies {@code sd} into the model ({@code load_state_dict(strict=True)}): the key sets must be equal and every
     * shape must match; values are converted to the model's dtype. Aliased keys are all written (same values).
     */
    public static void load(Module root, Map<String, Tensor> sd) {
        LinkedHashMap<String, Tensor> own = of(root);
        Set<String> missing = new TreeSet<>(own.keySet());
        missing.removeAll(sd.keySet());
        Set<String> unexpected = new TreeSet<>(sd.keySet());
        unexpected.removeAll(own.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty())
            throw new IllegalArgumentException("mpis state_dict: strict load failed: missing " + head(missing) + ", unexpected "
                    + head(unexpected) + ". Hint: build the model with the checkpoint's constructor (widths, kind) and strip a "
                    + "'module.' prefix from training checkpoints");
        try (NoGradGuard ng = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : own.entrySet()) {
                Tensor src = sd.get(e.getKey()), dst = e.getValue();
                if (!Arrays.equals(src.sizes().vec().get(), dst.sizes().vec().get()))
                    throw new IllegalArgumentException("mpis state_dict: '" + e.getKey() + "' has shape "
                            + Arrays.toString(src.sizes().vec().get()) + ", the model expects " + Arrays.toString(dst.sizes().vec().get()));
                dst.copy_(src.to(dst.scalar_type()));
            }
        }
    }

    private static String head(Set<String> s) {
        if (s.isEmpty()) return "none";
        List<String> l = new ArrayList<>(s);
        return l.size() <= 5 ? l.toString() : l.subList(0, 5) + " (+" + (l.size() - 5) + " more)";
    }
}
