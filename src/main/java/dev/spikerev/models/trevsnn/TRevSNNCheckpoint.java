package dev.spikerev.models.trevsnn;

import dev.spikerev.checkpoint.CheckpointFormatException;
import dev.spikerev.checkpoint.PyObject;
import dev.spikerev.checkpoint.PyOrderedDict;
import dev.spikerev.checkpoint.PyTuple;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.train.ModelEma;
import dev.spikerev.train.Optimizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * The T-RevSNN training checkpoint ({@code utils.save_checkpoint} of the reference, spec section 9): a dict with
 * {@code model} (state_dict, every alias key), {@code optimizer} (timm Lamb {@code state_dict()}), {@code max_accuracy},
 * {@code epoch}, {@code state_dict_ema} (EMA state_dict or None), {@code input} (the builtin function, an upstream
 * bug) and {@code config} (a pickled yacs CfgNode).
 *
 * <h2>Reading</h2>
 * {@link #read} accepts the reference's files as they are ({@code input} and the CfgNode are read as inert
 * {@link PyObject}s; {@code config} is turned into nested plain maps), a {@code module.} prefix from DDP is stripped,
 * and files written by {@link #write}. {@link #resume} then restores model weights (the {@code model} entry, or
 * with {@link WeightSource#EMA_IF_PRESENT} the EMA weights, which is what the reference's {@code load_checkpoint}
 * does), the optimizer state (the reference does NOT restore it: its {@code optimizer.load_state_dict} call is
 * commented out; we do), the EMA, and returns {@code start_epoch = epoch + 1} and {@code max_accuracy}.
 *
 * <h2>Writing (layout decision)</h2>
 * {@link #write} produces the same top-level keys in the same order, except {@code input}, and with {@code config}
 * as a plain dict:
 * <ul>
 *   <li>The reference resumes with {@code torch.load(path, map_location="cpu")}, i.e. with torch's default
 *   {@code weights_only=True} since torch 2.6. That unpickler refuses both {@code __builtin__.input} and
 *   {@code yacs.config.CfgNode}, so the reference cannot even resume its own checkpoints on torch 2.13; a file
 *   holding either would be unusable there too. {@code input} carries no information and is omitted; {@code config}
 *   is written as nested plain dicts (tuples stay tuples), which every allow-listed reader accepts. The reference's
 *   {@code load_checkpoint} never reads {@code config} from the file.</li>
 *   <li>Without an EMA the reference writes {@code state_dict_ema: None}, and its own {@code load_checkpoint} then
 *   calls {@code load_state_dict(None)} and fails. We omit the key instead, so the reference falls back to
 *   {@code model}; {@link #read} treats a missing key and None alike.</li>
 *   <li>{@code betas} in the optimizer groups are written as tuples, {@code step} as a 0-dim float32 tensor and
 *   state keys as ints, exactly as timm's {@code Lamb.state_dict()}; {@code epoch} is an int, {@code max_accuracy}
 *   a float.</li>
 * </ul>
 * The result loads with {@code torch.load(weights_only=True)} and with the reference's own {@code load_checkpoint}
 * (checked by {@code tools/ref_resume.py}).
 */
public final class TRevSNNCheckpoint {
    private TRevSNNCheckpoint() {}

    /** Which weights {@link #resume} puts into the model. */
    public enum WeightSource {
        /** the {@code model} entry */
        MODEL,
        /** {@code state_dict_ema} when the file has one (not None), else {@code model}: the reference's resume */
        EMA_IF_PRESENT
    }

    /** The decoded content of a checkpoint file. {@code ema}, {@code config} and {@code optimizer} may be null. */
    public record Contents(PyOrderedDict model, Map<?, ?> optimizer, double maxAccuracy, long epoch, PyOrderedDict ema,
                           Map<String, Object> config, boolean hasInput, List<String> keys) {}

    /** Where a resume starts. */
    public record Resumed(long startEpoch, double maxAccuracy, boolean weightsFromEma, boolean optimizerRestored,
                          boolean emaRestored) {}

    /** Reads a reference (or {@link #write}-written) training checkpoint. */
    public static Contents read(Path file) {
        Object loaded = TorchFile.load(file);
        if (!(loaded instanceof Map<?, ?> top))
            throw new CheckpointFormatException(file + ": not a T-RevSNN training checkpoint (a dict with 'model', 'optimizer', ...)");
        if (!top.containsKey("model"))
            throw new CheckpointFormatException(file + ": no 'model' entry; top-level keys are " + top.keySet());
        PyOrderedDict model = stripModule(top.get("model"), "'model'");
        PyOrderedDict ema = top.get("state_dict_ema") == null ? null : stripModule(top.get("state_dict_ema"), "'state_dict_ema'");
        Map<?, ?> opt = top.get("optimizer") instanceof Map<?, ?> m ? m : null;
        double maxAcc = top.get("max_accuracy") instanceof Number n ? n.doubleValue() : 0.0;
        long epoch = top.get("epoch") instanceof Number n ? n.longValue() : -1;
        Map<String, Object> config = top.get("config") == null ? null : plainConfig(top.get("config"));
        List<String> keys = new ArrayList<>();
        for (Object k : top.keySet()) keys.add(String.valueOf(k));
        return new Contents(model, opt, maxAcc, epoch, ema, config, top.containsKey("input"), keys);
    }

    /**
     * Restores a training state from {@code file}: weights into {@code net} (strict: every key, every alias), the
     * optimizer state into {@code optimizer} (if not null and the file has one; groups and parameter indices must
     * match, see {@link TRevSNNFamily#lambOptimizer}), the EMA weights into {@code ema} (if not null; the model weights
     * when the file has no EMA, as the reference does).
     */
    public static Resumed resume(Path file, TRevSNN net, Optimizer optimizer, ModelEma ema, WeightSource source) {
        Contents c = read(file);
        boolean fromEma = source == WeightSource.EMA_IF_PRESENT && c.ema() != null;
        StateDictIO.loadStateDict(net, StateDicts.tensors(fromEma ? c.ema() : c.model(), fromEma ? "'state_dict_ema'" : "'model'"), true);
        boolean optDone = false;
        if (optimizer != null && c.optimizer() != null) {
            optimizer.loadStateDict(c.optimizer());
            optDone = true;
        }
        boolean emaDone = false;
        if (ema != null) {
            ema.set(StateDicts.tensors(c.ema() != null ? c.ema() : c.model()));
            emaDone = c.ema() != null;
        }
        return new Resumed(c.epoch() + 1, c.maxAccuracy(), fromEma, optDone, emaDone);
    }

    /**
     * Writes the reference layout (see the class comment for the two deliberate differences): {@code model},
     * {@code optimizer}, {@code max_accuracy}, {@code epoch}, {@code state_dict_ema} (omitted when {@code ema} is
     * null), {@code config} (omitted when null; nested maps/lists/tuples/scalars/strings only).
     */
    public static void write(Path file, TRevSNN net, Optimizer optimizer, ModelEma ema, long epoch, double maxAccuracy,
                             Map<String, Object> config) {
        LinkedHashMap<String, Object> top = new LinkedHashMap<>();
        top.put("model", StateDicts.ordered(StateDictIO.stateDict(net)));
        top.put("optimizer", optimizer == null ? null : pythonOptimizerState(optimizer));
        top.put("max_accuracy", maxAccuracy);
        top.put("epoch", epoch);
        if (ema != null) top.put("state_dict_ema", StateDicts.ordered(ema.state()));
        if (config != null) top.put("config", config);
        TorchFile.save(file, top);
    }

    /** {@link Optimizer#stateDict()} with the tuple-valued options ({@code betas}) as Python tuples. */
    public static LinkedHashMap<Object, Object> pythonOptimizerState(Optimizer optimizer) {
        LinkedHashMap<Object, Object> sd = optimizer.stateDict();
        List<Object> groups = new ArrayList<>();
        for (Object g : (List<?>) sd.get("param_groups")) {
            LinkedHashMap<Object, Object> m = new LinkedHashMap<>((Map<?, ?>) g);
            for (String k : Optimizer.TUPLE_KEYS)
                if (m.get(k) instanceof List<?> l) m.put(k, new PyTuple(l));
            groups.add(m);
        }
        sd.put("param_groups", groups);
        return sd;
    }

    /**
     * A config value as nested plain maps: a yacs CfgNode (read as {@link PyObject}) becomes a map of its items,
     * recursively; lists, tuples and scalars are kept; a plain dict is copied. Anything else is refused.
     */
    public static Map<String, Object> plainConfig(Object cfg) {
        Object v = plain(cfg, "config");
        if (!(v instanceof Map<?, ?>)) throw new CheckpointFormatException("'config' is not a dict or CfgNode: " + cfg);
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) v;
        return m;
    }

    private static Object plain(Object v, String where) {
        if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) return v;
        Map<?, ?> items = null;
        if (v instanceof PyObject o && !o.isReference() && o.name().equals("CfgNode")) items = o.items();
        else if (v instanceof Map<?, ?> m) items = m;
        if (items != null) {
            LinkedHashMap<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : items.entrySet()) out.put(String.valueOf(e.getKey()), plain(e.getValue(), where + "." + e.getKey()));
            return out;
        }
        if (v instanceof PyTuple t) {
            List<Object> l = new ArrayList<>();
            for (Object x : t.items()) l.add(plain(x, where));
            return new PyTuple(l);
        }
        if (v instanceof List<?> list) {
            List<Object> l = new ArrayList<>();
            for (Object x : list) l.add(plain(x, where));
            return l;
        }
        if (v instanceof java.util.Set<?> s) {
            List<Object> l = new ArrayList<>();
            for (Object x : s) l.add(plain(x, where));
            return l;
        }
        throw new CheckpointFormatException(where + " holds " + v.getClass().getSimpleName() + " (" + v + "), not a plain config value");
    }

    private static PyOrderedDict stripModule(Object sd, String what) {
        Map<String, Tensor> t = StateDicts.tensors(sd, what);
        boolean ddp = !t.isEmpty() && t.keySet().stream().allMatch(k -> k.startsWith("module."));
        PyOrderedDict out = new PyOrderedDict();
        for (Map.Entry<String, Tensor> e : t.entrySet()) out.put(ddp ? e.getKey().substring(7) : e.getKey(), e.getValue());
        return out;
    }
}
