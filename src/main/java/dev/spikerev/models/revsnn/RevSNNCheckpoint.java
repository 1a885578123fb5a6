package dev.spikerev.models.revsnn;

import dev.spikerev.checkpoint.CheckpointFormatException;
import dev.spikerev.checkpoint.PyObject;
import dev.spikerev.checkpoint.PyTuple;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.train.LrSchedule;
import dev.spikerev.train.Optimizer;
import dev.spikerev.train.Optimizers;
import dev.spikerev.train.TrainConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * The checkpoint layouts of the RevSNN training scripts (spec section 6), written by {@code spikerev train} for the
 * {@code revsnn} family and read by {@code --resume} / {@code spikerev eval}:
 * <pre>
 * SCRIPT  (cifar10|cifar100/train_resnet_origin.py; cifar10-dvs|dvs128-gesture/train.py and train_resnet.py):
 *   {'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'lr_scheduler': lr_scheduler.state_dict(),
 *    'epoch': int (the epoch just finished, 0-based), 'args': argparse.Namespace,
 *    'max_test_acc1': float, 'test_acc5_at_max_test_acc1': float}
 *   resume: model.load_state_dict(ck['model']); optimizer.load_state_dict(ck['optimizer']);
 *           lr_scheduler.load_state_dict(ck['lr_scheduler']); start_epoch = ck['epoch'] + 1;
 *           max_test_acc1 = ck['max_test_acc1']; test_acc5_at_max_test_acc1 = ck['test_acc5_at_max_test_acc1']
 * TIMM    (cifar10|cifar100/train.py, timm CheckpointSaver):
 *   {'epoch': int, 'arch': args.model, 'state_dict': ..., 'optimizer': ..., 'version': 2, 'args': Namespace,
 *    ['state_dict_ema': ...], 'metric': float (this epoch's eval top-1)}
 *   resume (timm resume_checkpoint): state_dict ('module.' stripped), optimizer; start_epoch = epoch + 1 (version >= 2)
 * </pre>
 * Which script a model belongs to: CIFAR RevSResNet {@link Layout#RESNET_ORIGIN} (torch SGD/Adam over
 * {@code model.parameters()}, one group; torch {@code MultiStepLR}), CIFAR RevSFormer {@link Layout#TIMM}, DVS models
 * {@link Layout#DVS} (timm {@code create_optimizer}: 2 weight-decay groups when wd &gt; 0; timm
 * {@code CosineLRScheduler}). RESNET_ORIGIN and DVS share the SCRIPT layout.
 *
 * <p>Writing: {@code args} is left out (an {@code argparse.Namespace} makes {@code torch.load(weights_only=True)} fail,
 * and no resume code reads it); everything else is the scripts' keys and Python types (the state_dict an
 * {@code OrderedDict}, {@code betas} tuples, MultiStepLR {@code milestones} a {@code collections.Counter}, param groups
 * with {@code initial_lr} as a scheduler leaves them). Two optional extra keys: {@code state_dict_ema} (EMA weights,
 * timm's name) and {@code spikerev} (what spikerev needs to resume exactly mid-epoch: position, metrics history,
 * config). Files are written atomically ({@link TorchFile#save}). Reading accepts the reference's own files
 * ({@code args} Namespace included) and strips DataParallel's {@code module.} prefix as timm's resume does.
 */
public final class RevSNNCheckpoint {
    private RevSNNCheckpoint() {}

    /** DataParallel / DDP key prefix (timm's resume strips it). */
    public static final String PREFIX = "module.";

    /** Which reference training script a model's recipe is (decides optimizer grouping, scheduler and file layout). */
    public enum Layout {
        /** {@code cifar10|cifar100/train_resnet_origin.py}: CIFAR RevSResNet; SCRIPT layout. */
        RESNET_ORIGIN,
        /** {@code cifar10|cifar100/train.py}: CIFAR RevSFormer, timm CheckpointSaver layout. */
        TIMM,
        /** {@code cifar10-dvs|dvs128-gesture/train.py, train_resnet.py}: DVS models; SCRIPT layout. */
        DVS;

        public static Layout of(RevSNNConfig c) {
            if (c.dvs()) return DVS;
            return c.model() == RevSNNConfig.Model.REVSRESNET ? RESNET_ORIGIN : TIMM;
        }

        /** From a config's {@code model} section (the reference constructor arguments). */
        public static Layout of(Map<String, Object> constructor) {
            return of(RevSNNConfig.fromMeta(Map.of("constructor", constructor)));
        }

        /** The SCRIPT layout (model / lr_scheduler / max_test_acc1 keys) rather than timm's saver. */
        public boolean script() { return this != TIMM; }
    }

    /**
     * One checkpoint's contents.
     *
     * @param layout       which script's layout ({@link Layout#RESNET_ORIGIN} and {@link Layout#DVS} read the same)
     * @param epoch        {@code 'epoch'} as saved: the last finished epoch, 0-based (-1: none yet)
     * @param version      timm's {@code version} (TIMM; 0 for SCRIPT files)
     * @param stateDict    model weights ({@code module.} stripped)
     * @param optimizer    the optimizer state_dict in Python layout
     * @param lrScheduler  {@code lr_scheduler} (SCRIPT; null for TIMM)
     * @param maxTestAcc1  SCRIPT {@code max_test_acc1}; TIMM: spikerev's best accuracy when recorded, else {@code metric}
     * @param testAcc5AtMax SCRIPT {@code test_acc5_at_max_test_acc1} (NaN for TIMM)
     * @param arch         TIMM {@code arch} (the script's {@code args.model}); null for SCRIPT
     * @param metric       TIMM {@code metric} (null if absent / SCRIPT)
     * @param ema          {@code state_dict_ema} or null
     * @param spikerev     spikerev's resume record or null (files written by the reference)
     */
    public record Contents(Layout layout, long epoch, long version, LinkedHashMap<String, Tensor> stateDict,
                           Map<?, ?> optimizer, Map<?, ?> lrScheduler, double maxTestAcc1, double testAcc5AtMax,
                           String arch, Double metric, LinkedHashMap<String, Tensor> ema, Map<?, ?> spikerev) {
        /** The epoch the reference's resume starts with ({@code epoch + 1}; timm version &lt; 2: {@code epoch}). */
        public long nextEpoch() { return layout.script() || version >= 2 ? epoch + 1 : epoch; }
    }

    // ------------------------------------------------------------------ writing

    /** Writes {@code c} in its layout, atomically (temp file + rename). */
    public static void write(Path file, Contents c) {
        if (c.optimizer() == null) throw new IllegalArgumentException("revsnn checkpoint: the scripts always store the optimizer");
        LinkedHashMap<Object, Object> ck = new LinkedHashMap<>();
        if (c.layout().script()) {
            if (c.lrScheduler() == null) throw new IllegalArgumentException("revsnn checkpoint: the " + c.layout() + " layout stores lr_scheduler");
            ck.put("model", StateDicts.ordered(c.stateDict()));
            ck.put("optimizer", pythonTypes(c.optimizer()));
            ck.put("lr_scheduler", c.lrScheduler());
            ck.put("epoch", c.epoch());
            ck.put("max_test_acc1", c.maxTestAcc1());
            ck.put("test_acc5_at_max_test_acc1", c.testAcc5AtMax());
            if (c.ema() != null) ck.put("state_dict_ema", StateDicts.ordered(c.ema()));
        } else {
            ck.put("epoch", c.epoch());
            ck.put("arch", c.arch() == null ? "RevSpikingformer" : c.arch());
            ck.put("state_dict", StateDicts.ordered(c.stateDict()));
            ck.put("optimizer", pythonTypes(c.optimizer()));
            ck.put("version", 2L);
            if (c.ema() != null) ck.put("state_dict_ema", StateDicts.ordered(c.ema()));
            if (c.metric() != null) ck.put("metric", c.metric());
        }
        if (c.spikerev() != null) ck.put("spikerev", c.spikerev());
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        TorchFile.save(file, ck);
    }

    /** A copy of an optimizer state_dict with Python's tuple types ({@link Optimizer#TUPLE_KEYS}) restored. */
    static Map<Object, Object> pythonTypes(Map<?, ?> opt) {
        LinkedHashMap<Object, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : opt.entrySet()) {
            if ("param_groups".equals(e.getKey()) && e.getValue() instanceof List<?> groups) {
                List<Object> gs = new ArrayList<>();
                for (Object g : groups) {
                    LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
                    for (Map.Entry<?, ?> o : ((Map<?, ?>) g).entrySet())
                        m.put(o.getKey(), Optimizer.TUPLE_KEYS.contains(String.valueOf(o.getKey())) && o.getValue() instanceof List<?> l
                                ? new PyTuple(l) : o.getValue());
                    gs.add(m);
                }
                out.put(e.getKey(), gs);
            } else {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /**
     * {@code lr_scheduler.state_dict()} of the scheduler the run's schedule corresponds to, after {@code lastEpoch}
     * scheduler steps (= finished epochs): {@code multistep} / {@code constant} as torch {@code MultiStepLR} (milestones
     * a {@code Counter}; constant has none), {@code timm-cosine} / {@code cosine} as timm {@code CosineLRScheduler}
     * ({@code t_initial = epochs - cooldown}, warmup rounded up to whole epochs).
     */
    public static LinkedHashMap<Object, Object> lrSchedulerState(TrainConfig cfg, int lastEpoch, int numGroups) {
        TrainConfig.Schedule s = cfg.schedule;
        if (s.name.equals("multistep") || s.name.equals("constant")) {
            List<Integer> ms = s.name.equals("multistep") ? s.milestones : List.of();
            LinkedHashMap<Object, Object> d = LrSchedule.multiStep(cfg.optimizer.lr, ms, s.gamma).stateDict(lastEpoch, numGroups);
            PyObject counter = PyObject.instance("collections", "Counter", PyTuple.of());
            counter.items().putAll((Map<?, ?>) d.get("milestones"));
            d.put("milestones", counter);
            return d;
        }
        return Optimizers.timmCosine(cfg, numGroups).stateDict();
    }

    // ------------------------------------------------------------------ reading

    /** Whether a loaded checkpoint dict is in one of the RevSNN scripts' layouts. */
    public static boolean isLayout(Map<?, ?> m) {
        return (m.containsKey("model") && (m.containsKey("lr_scheduler") || m.containsKey("max_test_acc1")))
                || (m.containsKey("state_dict") && m.containsKey("version") && m.containsKey("optimizer"));
    }

    /** Reads and validates the layout; fails with a {@link CheckpointFormatException} naming the file and the problem. */
    public static Contents read(Path file) {
        return parse(TorchFile.load(file), file.toString());
    }

    /** As {@link #read}, on an already loaded value ({@code where} names it in messages). */
    public static Contents parse(Object loaded, String where) {
        String p = where + ": ";
        if (!(loaded instanceof Map<?, ?> m) || !isLayout(m))
            throw new CheckpointFormatException(p + "not a RevSNN training checkpoint (keys: "
                    + (loaded instanceof Map<?, ?> mm ? mm.keySet() : "none") + "); the scripts save {model, optimizer, lr_scheduler, "
                    + "epoch, args, max_test_acc1, test_acc5_at_max_test_acc1} or timm's {epoch, arch, state_dict, optimizer, version, args, metric}");
        boolean script = m.containsKey("model");
        List<String> required = script ? List.of("model", "optimizer", "epoch") : List.of("state_dict", "optimizer", "epoch");
        for (String k : required)
            if (!m.containsKey(k)) throw new CheckpointFormatException(p + "no '" + k + "' (keys: " + m.keySet() + ")");
        if (!(m.get("epoch") instanceof Number epoch)) throw new CheckpointFormatException(p + "'epoch' is not an int: " + m.get("epoch"));
        LinkedHashMap<String, Tensor> sd = unprefixed(StateDicts.tensors(m.get(script ? "model" : "state_dict"), p + "'" + (script ? "model" : "state_dict") + "'"));
        if (!(m.get("optimizer") instanceof Map<?, ?> opt) || !(opt.get("state") instanceof Map<?, ?>) || !(opt.get("param_groups") instanceof List<?>))
            throw new CheckpointFormatException(p + "'optimizer' is not an optimizer state_dict (state, param_groups)");
        LinkedHashMap<String, Tensor> ema = m.get("state_dict_ema") == null ? null : unprefixed(StateDicts.tensors(m.get("state_dict_ema"), p + "'state_dict_ema'"));
        Map<?, ?> spikerev = m.get("spikerev") instanceof Map<?, ?> r ? r : null;
        if (script) {
            Map<?, ?> sched = m.get("lr_scheduler") instanceof Map<?, ?> s ? s : null;
            if (m.containsKey("lr_scheduler") && sched == null)
                throw new CheckpointFormatException(p + "'lr_scheduler' is not a scheduler state_dict: " + m.get("lr_scheduler"));
            Layout layout = sched != null && sched.containsKey("t_initial") ? Layout.DVS : Layout.RESNET_ORIGIN; // timm scheduler: the DVS scripts
            return new Contents(layout, epoch.longValue(), 0, sd, opt, sched, number(m.get("max_test_acc1"), 0, p + "max_test_acc1"),
                    number(m.get("test_acc5_at_max_test_acc1"), 0, p + "test_acc5_at_max_test_acc1"), null, null, ema, spikerev);
        }
        long version = m.get("version") instanceof Number v ? v.longValue() : 1;
        Double metric = m.get("metric") == null ? null : number(m.get("metric"), 0, p + "metric");
        double best = spikerev != null && spikerev.get("max_accuracy") instanceof Number b ? b.doubleValue() : metric == null ? 0 : metric;
        return new Contents(Layout.TIMM, epoch.longValue(), version, sd, opt, null, best, Double.NaN,
                m.get("arch") == null ? null : String.valueOf(m.get("arch")), metric, ema, spikerev);
    }

    private static LinkedHashMap<String, Tensor> unprefixed(LinkedHashMap<String, Tensor> raw) {
        if (raw.isEmpty() || !raw.keySet().stream().allMatch(k -> k.startsWith(PREFIX))) return raw;
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : raw.entrySet()) sd.put(e.getKey().substring(PREFIX.length()), e.getValue());
        return sd;
    }

    private static double number(Object v, double dflt, String what) {
        if (v == null) return dflt;
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof Tensor t && t.numel() == 1) return t.item_double();
        throw new CheckpointFormatException(what + " is not a number: " + v);
    }

    /**
     * The scripts' resume: loads the weights strictly into {@code net} and the optimizer state into {@code opt} (built
     * as the script builds it, e.g. by {@code Optimizers.build}); returns the contents ({@link Contents#nextEpoch()},
     * {@link Contents#maxTestAcc1()}).
     */
    public static Contents restore(Path file, Module net, Optimizer opt) {
        Contents c = read(file);
        StateDictIO.loadStateDict(net, c.stateDict(), true);
        if (opt != null) opt.loadStateDict(c.optimizer());
        return c;
    }
}
