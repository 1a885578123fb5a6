package dev.spikerev.models.mpis;

import dev.spikerev.checkpoint.CheckpointFormatException;
import dev.spikerev.checkpoint.PyOrderedDict;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.train.SGD;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringSharedModuleDict;
import org.bytedeco.pytorch.Tensor;

/**
 * The checkpoint layout of the MPIS training scripts ({@code static_data.py} / {@code neuro_data.py}, spec 9.3):
 * <pre>
 * torch.save({'epoch': int (epochs done), 'state_dict': model.state_dict()   # DataParallel: every key 'module.'-prefixed
 *             'acc': float (test top-1 %), 'best_acc': float, 'optimizer': optim.SGD(...).state_dict()},
 *            'checkpoint/checkpoint.pth.tar')
 * </pre>
 * and the scripts' resume: {@code best_acc = ck['best_acc']; start_epoch = ck['epoch'];
 * model.load_state_dict(ck['state_dict']); optimizer.load_state_dict(ck['optimizer'])} (strict). The optimizer is
 * {@code SGD(model.parameters(), lr, momentum, weight_decay)} over the 73 (static) / 65 (neuro) unique parameters, the
 * frozen copy included ({@link MpisModel#sgd}); momentum buffers exist only for the parameters that got a gradient.
 *
 * <p>Writing: the state_dict is an {@code OrderedDict} (all 287 / 273 keys, aliases sharing storage, so each tensor is
 * stored once) with DataParallel's {@code module.} prefix and a {@code _metadata} table (per-module versions, as
 * {@code state_dict()} attaches; BatchNorm version 2); {@code epoch} is an int, {@code acc}/{@code best_acc} floats.
 * Reading accepts the prefix or not (a bare {@code model.state_dict()} from a non-DataParallel run) and an
 * {@code acc} stored as a 0-d tensor.
 */
public final class MpisCheckpoint {
    /** DataParallel's key prefix. */
    public static final String PREFIX = "module.";

    private MpisCheckpoint() {}

    /**
     * A loaded checkpoint.
     *
     * @param stateDict    model weights, prefix removed
     * @param dataParallel whether the keys carried {@code module.}
     * @param optimizer    the SGD state_dict in Python layout ({@code state}, {@code param_groups})
     */
    public record Contents(long epoch, LinkedHashMap<String, Tensor> stateDict, boolean dataParallel, double acc,
                           double bestAcc, Map<?, ?> optimizer) {}

    /** Reads and validates the layout; fails with a {@link CheckpointFormatException} naming the file and the problem. */
    public static Contents read(Path file) {
        Object o = TorchFile.load(file);
        String p = file + ": ";
        if (!(o instanceof Map<?, ?> m))
            throw new CheckpointFormatException(p + "not an MPIS training checkpoint (a dict with epoch, state_dict, acc, best_acc, optimizer)");
        for (String k : List.of("epoch", "state_dict", "acc", "best_acc", "optimizer"))
            if (!m.containsKey(k))
                throw new CheckpointFormatException(p + "no '" + k + "' (keys: " + m.keySet() + "); the MPIS scripts save "
                        + "{epoch, state_dict, acc, best_acc, optimizer}. A bare state_dict: load it with StateDictIO instead");
        if (!(m.get("epoch") instanceof Number epoch)) throw new CheckpointFormatException(p + "'epoch' is not an int: " + m.get("epoch"));
        LinkedHashMap<String, Tensor> raw = StateDicts.tensors(m.get("state_dict"), p + "'state_dict'");
        boolean dp = !raw.isEmpty() && raw.keySet().stream().allMatch(k -> k.startsWith(PREFIX));
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : raw.entrySet()) sd.put(dp ? e.getKey().substring(PREFIX.length()) : e.getKey(), e.getValue());
        if (!(m.get("optimizer") instanceof Map<?, ?> opt) || !(opt.get("state") instanceof Map<?, ?>) || !(opt.get("param_groups") instanceof List<?>))
            throw new CheckpointFormatException(p + "'optimizer' is not an optimizer state_dict (state, param_groups)");
        return new Contents(epoch.longValue(), sd, dp, number(m.get("acc"), p + "acc"), number(m.get("best_acc"), p + "best_acc"), opt);
    }

    private static double number(Object v, String what) {
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof Tensor t && t.numel() == 1) return t.item_double();
        throw new CheckpointFormatException(what + " is not a number: " + v);
    }

    /**
     * The scripts' resume: loads the weights strictly into {@code net} and the optimizer state into {@code sgd} (built
     * over {@code net} with {@link MpisModel#sgd}); returns the contents ({@code epoch} = the next epoch to run,
     * {@code bestAcc}).
     */
    public static Contents restore(Path file, MPISNet net, SGD sgd) {
        Contents c = read(file);
        StateDictIO.loadStateDict(net, c.stateDict(), true);
        if (sgd != null) sgd.loadStateDict(c.optimizer());
        return c;
    }

    /** Writes the scripts' layout with DataParallel's {@code module.} prefix (what the scripts always produce). */
    public static void write(Path file, MPISNet net, SGD sgd, long epoch, double acc, double bestAcc) {
        write(file, net, sgd, epoch, acc, bestAcc, true);
    }

    /** As {@link #write(Path, MPISNet, SGD, long, double, double)}; {@code dataParallel = false} writes bare keys. */
    public static void write(Path file, MPISNet net, SGD sgd, long epoch, double acc, double bestAcc, boolean dataParallel) {
        if (sgd == null) throw new IllegalArgumentException("mpis checkpoint: the scripts always store the optimizer; pass the SGD");
        if (sgd.params().size() != net.uniqueParameters().size())
            throw new IllegalArgumentException("mpis checkpoint: the optimizer holds " + sgd.params().size() + " parameters, the model has "
                    + net.uniqueParameters().size() + " (build it with MpisModel.sgd(net, ...))");
        String pre = dataParallel ? PREFIX : "";
        PyOrderedDict sd = new PyOrderedDict();
        for (Map.Entry<String, Tensor> e : StateDictIO.stateDict(net).entrySet()) sd.put(pre + e.getKey(), e.getValue());
        PyOrderedDict meta = new PyOrderedDict();
        if (dataParallel) meta.put("", version(1));
        metadata(net, dataParallel ? "module" : "", meta);
        sd.attributes().put("_metadata", meta);
        LinkedHashMap<Object, Object> ck = new LinkedHashMap<>();
        ck.put("epoch", epoch);
        ck.put("state_dict", sd);
        ck.put("acc", acc);
        ck.put("best_acc", bestAcc);
        ck.put("optimizer", sgd.stateDict());
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        TorchFile.save(file, ck);
    }

    /** {@code state_dict()._metadata}: one entry per module path (aliases included), {@code {'version': v}}. */
    private static void metadata(Module m, String path, PyOrderedDict out) {
        boolean bn = false;                              // BatchNorm (its own num_batches_tracked buffer): version 2
        org.bytedeco.pytorch.StringTensorDict bufs = m.named_buffers(false);
        for (long i = 0; i < bufs.size(); i++) bn |= bufs.get(i).key().getString().equals("num_batches_tracked");
        out.put(path, version(bn ? 2 : 1));
        StringSharedModuleDict ch = m.named_children();
        for (long i = 0; i < ch.size(); i++) {
            String name = ch.get(i).key().getString();
            metadata(ch.get(i).value(), path.isEmpty() ? name : path + "." + name, out);
        }
    }

    private static Map<Object, Object> version(long v) {
        LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
        m.put("version", v);
        return m;
    }
}
