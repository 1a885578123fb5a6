package dev.spikerev.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The RevSNN and MPIS-SNNs training scripts' command-line arguments, written as YAML with the scripts' argparse
 * {@code dest} names as keys (e.g. {@code T: 4}, {@code batch_size: 32}, {@code lr: 0.1}, {@code model: revs_resnet21}),
 * mapped to spikerev's config. The RevSNN CIFAR transformer recipe files ({@code configs/revsformer_2_384.yml}, which
 * {@code train.py -c} loads into argparse's defaults) are in this format already and load as they are.
 *
 * <p><b>Detection</b>: a top level of plain values (no mapping sections, no {@code family} key) is a script's argument
 * file. <b>Which script</b>: the optional key {@code script} (the one key that is not an argparse dest) names it; without
 * it, {@code model} decides (revs_resnet21/37/109: {@code train_resnet_origin.py}; revs_resnet24: the DVS
 * {@code train_resnet.py}; RevSpikingformer: the CIFAR timm {@code train.py} when {@code dataset} is
 * {@code torch/cifar10|100} or absent with {@code dim} given, else the DVS {@code train.py}), and files without
 * {@code model} are MPIS ({@code dataset: cifar10|cifar100} static_data.py, {@code nmnist} neuro_data.py). The folder
 * (cifar10 / cifar100, cifar10-dvs / dvs128-gesture) follows {@code dataset} ({@code data_path} naming cifar100 for
 * train_resnet_origin.py, which has no dataset argument).
 *
 * <p><b>Every argument</b> of the script is accepted: absent ones take the script's default; each is either mapped
 * (model constructor, data, optimizer, schedule, train keys, with the recipe's hard-coded parts such as the CIFAR
 * normalisation, the milestones of train_resnet_origin.py or the seeds), or has no effect on the result in spikerev
 * (logging, AMP/cudnn/distributed switches, arguments the models ignore, e.g. {@code drop_path}, spec Q7), or has no
 * spikerev equivalent and is accepted only at its default (e.g. {@code lr_noise}, {@code jsd}); anything else, and any
 * unknown key, is a one-line {@link ConfigException} naming the key and the allowed keys / values.
 * Output folders are named as the scripts name them (timm's without its timestamp).
 */
final class ReferenceScriptArgs {
    private ReferenceScriptArgs() {}

    /** The reference training scripts whose arguments are understood. */
    enum Script {
        RESNET_ORIGIN_C10("RevSNN cifar10/train_resnet_origin.py", "cifar10/train_resnet_origin.py"),
        RESNET_ORIGIN_C100("RevSNN cifar100/train_resnet_origin.py", "cifar100/train_resnet_origin.py"),
        TIMM_C10("RevSNN cifar10/train.py", "cifar10/train.py"),
        TIMM_C100("RevSNN cifar100/train.py", "cifar100/train.py"),
        DVS_C10("RevSNN cifar10-dvs/train.py", "cifar10-dvs/train.py"),
        DVS_C10_RESNET("RevSNN cifar10-dvs/train_resnet.py", "cifar10-dvs/train_resnet.py"),
        DVS_GESTURE("RevSNN dvs128-gesture/train.py", "dvs128-gesture/train.py"),
        DVS_GESTURE_RESNET("RevSNN dvs128-gesture/train_resnet.py", "dvs128-gesture/train_resnet.py"),
        MPIS_STATIC("MPIS-SNNs static_data.py", "static_data.py"),
        MPIS_NEURO("MPIS-SNNs neuro_data.py", "neuro_data.py");

        final String title, key;

        Script(String title, String key) {
            this.title = title;
            this.key = key;
        }

        boolean origin() { return this == RESNET_ORIGIN_C10 || this == RESNET_ORIGIN_C100; }

        boolean timm() { return this == TIMM_C10 || this == TIMM_C100; }

        boolean dvs() { return this == DVS_C10 || this == DVS_C10_RESNET || this == DVS_GESTURE || this == DVS_GESTURE_RESNET; }

        boolean gesture() { return this == DVS_GESTURE || this == DVS_GESTURE_RESNET; }

        boolean mpis() { return this == MPIS_STATIC || this == MPIS_NEURO; }
    }

    /** What becomes of an argument. */
    private enum Kind {
        /** mapped to spikerev keys */
        MAP,
        /** no effect on the trained weights in spikerev (logging, devices, AMP, distributed, unused by the models) */
        IGNORE,
        /** no spikerev equivalent: accepted only at the script's default */
        DEFAULT_ONLY
    }

    private record Arg(Object dflt, Kind kind) {}

    /** The spikerev-only key naming the script. */
    static final String SCRIPT_KEY = "script";

    // ------------------------------------------------------------------ schemas (argparse dest -> default, kind)

    /**
     * The scripts' argparse defaults, except the dataset folders: upstream's defaults are its authors' absolute paths,
     * so an absent {@code data_path} / {@code data_dir} means {@code data/<dataset>} under the working directory.
     */
    private static Map<String, Arg> schema(Script s) {
        LinkedHashMap<String, Arg> m = new LinkedHashMap<>();
        Kind M = Kind.MAP, I = Kind.IGNORE, D = Kind.DEFAULT_ONLY;
        if (s.origin()) {
            add(m, "data_path", s == Script.RESNET_ORIGIN_C10 ? "data/cifar10"
                    : "data/cifar100", M, "model", "ms_resnet10", M, "device", "cuda", I,
                    "batch_size", 32, M, "epochs", 200, M, "workers", 8, M, "lr", 0.1, M, "momentum", 0.9, M, "weight_decay", 0.0001, M,
                    "print_freq", 100, I, "output_dir", "./output/logs", M, "resume", "", M, "start_epoch", 0, D, "cache_dataset", false, I,
                    "sync_bn", false, I, "test_only", false, D, "amp", false, I, "world_size", 1, I, "dist_url", "env://", I,
                    "tb", false, I, "T", 4, M, "adam", false, M, "cos_lr_T", 320, I, "zero_init_residual", false, M);
        } else if (s.dvs()) {
            boolean g = s.gesture(), c10res = s == Script.DVS_C10_RESNET; // dvs128-gesture/train_resnet.py keeps train.py's defaults
            add(m, "model", c10res ? "ms_resnet20" : "Spikingformer", M, "dataset", g ? "DVS128Gesture" : "cifar10dvs", M,
                    "num_classes", g ? 11 : 10, M, "data_path", g ? "data/dvs128-gesture"
                            : "data/cifar10-dvs", M, "device", "cuda", I, "batch_size", 16, M,
                    "workers", g ? 4 : 8, M, "print_freq", 256, I, "output_dir", "./logs", M, "resume", "", M, "sync_bn", false, I,
                    "test_only", false, D, "amp", c10res, I, "world_size", 1, I, "dist_url", "env://", I, "tb", true, I, "T", 16, M,
                    "opt", "adamw", M, "opt_eps", 1e-8, M, "opt_betas", null, M, "weight_decay", 0.06, M, "momentum", 0.9, M,
                    "connect_f", "ADD", M, "T_train", null, D, "sched", "cosine", M, "lr", 0.001, M, "lr_noise", null, D,
                    "lr_noise_pct", 0.67, I, "lr_noise_std", 1.0, I, "lr_cycle_mul", 1.0, D, "lr_cycle_limit", 1, D,
                    "warmup_lr", 1e-5, M, "min_lr", 1e-5, M, "epochs", g ? 192 : 96, M, "epoch_repeats", 0.0, D, "start_epoch", 0, D,
                    "decay_epochs", 20.0, I, "warmup_epochs", 10, M, "cooldown_epochs", 10, M, "patience_epochs", 10, I,
                    "decay_rate", 0.1, M, "smoothing", 0.1, M, "mixup", 0.5, M, "cutmix", 0.0, M, "cutmix_minmax", null, D,
                    "mixup_prob", 0.5, I, "mixup_switch_prob", 0.5, I, "mixup_mode", "batch", I, "mixup_off_epoch", 0, I);
        } else if (s.timm()) {
            boolean c100 = s == Script.TIMM_C100;
            add(m, "config", c100 ? "cifar100.yml" : "cifar10.yml", I, "model", "Spikingformer", M, "time_step", 4, M, "layer", 4, I,
                    "num_classes", null, M, "img_size", null, M, "input_size", null, D, "dim", null, M, "num_heads", null, M,
                    "depths", null, M, "patch_size", null, I, "mlp_ratio", null, M,
                    "data_dir", c100 ? "data/cifar100" : "data/cifar10", M,
                    "dataset", c100 ? "torch/cifar100_tmp" : "torch/cifar10", M, "train_split", "train", I, "val_split", "validation", I,
                    "pretrained", false, D, "initial_checkpoint", "", D, "resume", "", M, "no_resume_opt", false, D, "gp", null, I,
                    "crop_pct", null, M, "mean", null, M, "std", null, M, "interpolation", "", I, "batch_size", 32, M,
                    "val_batch_size", 16, M, "opt", "sgd", M, "opt_eps", null, M, "opt_betas", null, M, "momentum", 0.9, M,
                    "weight_decay", 0.0001, M, "clip_grad", null, M, "clip_mode", "norm", M, "sched", "step", M, "lr", 0.01, M,
                    "lr_noise", null, D, "lr_noise_pct", 0.67, I, "lr_noise_std", 1.0, I, "lr_cycle_mul", 1.0, D, "lr_cycle_limit", 1, D,
                    "warmup_lr", 0.0001, M, "min_lr", 1e-5, M, "epochs", 200, M, "epoch_repeats", 0.0, D, "start_epoch", null, D,
                    "decay_epochs", 30, I, "warmup_epochs", 3, M, "cooldown_epochs", 10, M, "patience_epochs", 10, I, "decay_rate", 0.1, M,
                    "no_aug", false, D, "scale", List.of(0.08, 1.0), M, "ratio", List.of(0.75, 4.0 / 3.0), M, "hflip", 0.5, M,
                    "vflip", 0.0, D, "color_jitter", 0.4, M, "aa", null, M, "aug_splits", 0, D, "jsd", false, D, "reprob", 0.0, M,
                    "remode", "const", I, "recount", 1, I, "resplit", false, D, "mixup", 0.0, M, "cutmix", 0.0, M,
                    "cutmix_minmax", null, D, "mixup_prob", 1.0, I, "mixup_switch_prob", 0.5, I, "mixup_mode", "batch", I,
                    "mixup_off_epoch", 0, I, "smoothing", 0.1, M, "train_interpolation", "random", I, "drop", 0.0, I,
                    "drop_connect", null, I, "drop_path", null, I, "drop_block", null, I, "bn_tf", false, D, "bn_momentum", null, D,
                    "bn_eps", null, D, "sync_bn", false, I, "dist_bn", "", I, "split_bn", false, D, "model_ema", false, M,
                    "model_ema_force_cpu", false, I, "model_ema_decay", 0.9998, M, "seed", 42, M, "log_interval", c100 ? 300 : 1000, I,
                    "recovery_interval", 0, I, "checkpoint_hist", 10, I, "workers", 4, M, "save_images", false, I, "amp", false, I,
                    "apex_amp", false, I, "native_amp", false, I, "channels_last", false, I, "pin_mem", false, I,
                    "no_prefetcher", false, I, "output", "", M, "experiment", "", M, "eval_metric", "top1", D, "tta", 0, D,
                    "local_rank", 0, I, "use_multi_epochs_loader", false, I, "torchscript", false, D, "log_wandb", false, I);
        } else {
            boolean neuro = s == Script.MPIS_NEURO;
            add(m, "dataset", "cifar10", M, "path", neuro ? "D:\\datasets\\2312_3000_stable" : "D:/datasets/", M, "workers", 4, M,
                    "time_step", neuro ? 30 : 1, M, "vth", 2.0, M, "leaky", neuro ? 0.95 : 0.999, M, "epochs", 500, M, "start_epoch", 0, D,
                    "train_batch", 128, M, "test_batch", 128, M, "lr", neuro ? 0.1 : 0.01, M, "warmup", 500, M, "drop", 0.2, M,
                    "schedule", neuro ? List.of(15, 50, 100, 150, 200) : List.of(15, 40, 80, 100, 150, 200), M, "gamma", 0.1, M,
                    "momentum", 0.9, M, "weight_decay", 5e-4, M, "optimizer", "SGD", M, "checkpoint", "checkpoint", M, "resume", "", M,
                    "manualSeed", neuro ? 3407 : null, M, "evaluate", false, D, "gpu_id", "0", I);
        }
        return m;
    }

    private static void add(Map<String, Arg> m, Object... triples) {
        for (int i = 0; i < triples.length; i += 3) m.put((String) triples[i], new Arg(triples[i + 1], (Kind) triples[i + 2]));
    }

    // ------------------------------------------------------------------ detection

    /** A flat mapping of plain values without {@code family}: a script's argument file. */
    static boolean isScriptArgs(ObjectNode n) {
        if (n.isEmpty() || n.has("family")) return false;
        for (Iterator<JsonNode> it = n.elements(); it.hasNext(); ) if (it.next().isObject()) return false;
        return true;
    }

    static Script script(ObjectNode n, Path file) {
        String where = "config " + file + " (reference script arguments)";
        if (n.has(SCRIPT_KEY)) {
            String k = n.get(SCRIPT_KEY).asText();
            for (Script s : Script.values()) if (s.key.equals(k) || s.key.equals(k.replaceFirst("^(RevSNN|MPIS-SNNs)/", ""))) return s;
            List<String> keys = new ArrayList<>();
            for (Script s : Script.values()) keys.add(s.key);
            throw new ConfigException(where + ": key 'script' must be one of " + String.join(", ", keys) + ", found '" + k + "'");
        }
        if (!n.has("model")) {
            String ds = n.has("dataset") ? n.get("dataset").asText() : "cifar10";
            switch (ds.toLowerCase(Locale.ROOT).replace("-", "")) {
                case "cifar10": case "cifar100": return Script.MPIS_STATIC;
                case "nmnist": return Script.MPIS_NEURO;
                default: throw new ConfigException(where + ": key 'dataset' must be one of cifar10, cifar100 (MPIS-SNNs static_data.py), "
                        + "nmnist (neuro_data.py), found '" + ds + "'");
            }
        }
        String model = n.get("model").asText();
        String ds = n.has("dataset") ? n.get("dataset").asText() : null;
        switch (model) {
            case "revs_resnet21": case "revs_resnet37": case "revs_resnet109": {
                String path = n.has("data_path") ? n.get("data_path").asText() : "";
                return path.toLowerCase(Locale.ROOT).contains("cifar100") ? Script.RESNET_ORIGIN_C100 : Script.RESNET_ORIGIN_C10;
            }
            case "revs_resnet24":
                return ds != null && dvsGesture(ds, where) ? Script.DVS_GESTURE_RESNET : Script.DVS_C10_RESNET;
            case "RevSpikingformer":
                if (ds != null && ds.startsWith("torch/")) return ds.startsWith("torch/cifar100") ? Script.TIMM_C100 : Script.TIMM_C10;
                if (ds != null) return dvsGesture(ds, where) ? Script.DVS_GESTURE : Script.DVS_C10;
                return n.has("dim") || n.has("data_dir") ? Script.TIMM_C10 : Script.DVS_C10;
            default:
                throw new ConfigException(where + ": key 'model' must be one of revs_resnet21, revs_resnet37, revs_resnet109 "
                        + "(train_resnet_origin.py), revs_resnet24 (DVS train_resnet.py), RevSpikingformer (train.py), found '" + model
                        + "' (the scripts' non-reversible baselines are not part of spikerev)");
        }
    }

    static boolean dvsGesture(String ds, String where) {
        if (ds.equals("DVS128Gesture")) return true;
        if (ds.equals("cifar10dvs")) return false;
        throw new ConfigException(where + ": key 'dataset' must be one of torch/cifar10, torch/cifar100 (CIFAR train.py), "
                + "cifar10dvs, DVS128Gesture (DVS scripts), found '" + ds + "'");
    }

    // ------------------------------------------------------------------ mapping

    /** Maps a script's argument file to spikerev's tree; one-line {@link ConfigException} for unknown / unsupported keys. */
    static ObjectNode map(ObjectNode ref, Path file) {
        Script s = script(ref, file);
        String where = "config " + file + " (" + s.title + " arguments)";
        Map<String, Arg> schema = schema(s);
        Map<String, JsonNode> v = new LinkedHashMap<>();
        schema.forEach((k, a) -> v.put(k, ConfigLoader.YAML.valueToTree(a.dflt())));
        for (Iterator<Map.Entry<String, JsonNode>> it = ref.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals(SCRIPT_KEY)) continue;
            Arg a = schema.get(e.getKey());
            if (a == null)
                throw new ConfigException(where + ": unknown key '" + e.getKey() + "' (allowed: " + String.join(", ", schema.keySet())
                        + ", and 'script')");
            JsonNode val = e.getValue().isTextual() && e.getValue().asText().equals("None") ? ConfigLoader.YAML.getNodeFactory().nullNode() : e.getValue();
            if (a.kind() == Kind.DEFAULT_ONLY && !same(val, a.dflt()))
                throw new ConfigException(where + ": key '" + e.getKey() + "' = " + val + " has no spikerev equivalent (only the script's default "
                        + (a.dflt() == null ? "None" : a.dflt()) + " is accepted)" + hint(e.getKey()));
            v.put(e.getKey(), val);
        }
        Args a = new Args(v, where);
        ObjectNode out = ConfigLoader.YAML.createObjectNode();
        if (s.mpis()) MpisScriptArgs.mpis(s, a, out);
        else RevSNNScriptArgs.revsnn(s, a, out);
        return out;
    }

    private static String hint(String key) {
        return switch (key) {
            case "test_only", "evaluate" -> "; evaluate with: spikerev eval --checkpoint FILE";
            case "start_epoch" -> "; resume from a checkpoint with 'resume' instead";
            default -> "";
        };
    }

    private static boolean same(JsonNode val, Object dflt) {
        if (dflt == null) return val.isNull();
        if (dflt instanceof Number n) return val.isNumber() && val.asDouble() == n.doubleValue() || val.isTextual() && parses(val.asText(), n.doubleValue());
        return Objects.equals(ConfigLoader.YAML.valueToTree(dflt), val);
    }

    private static boolean parses(String s, double d) {
        try {
            return Double.parseDouble(s) == d;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Typed access to the merged values with one-line errors naming the key. */
    record Args(Map<String, JsonNode> v, String where) {
        boolean isNull(String k) { return v.get(k) == null || v.get(k).isNull(); }

        String str(String k) { return isNull(k) ? "" : v.get(k).asText(); }

        double num(String k) {
            JsonNode n = v.get(k);
            if (n != null && n.isNumber()) return n.asDouble();
            if (n != null && n.isTextual()) {
                try {
                    return Double.parseDouble(n.asText());
                } catch (NumberFormatException ignored) {
                    // reported below
                }
            }
            throw new ConfigException(where + ": key '" + k + "' must be a number, found " + n);
        }

        int integer(String k) {
            double d = num(k);
            if (d != Math.rint(d)) throw new ConfigException(where + ": key '" + k + "' must be an integer, found " + v.get(k));
            return (int) d;
        }

        boolean bool(String k) {
            JsonNode n = v.get(k);
            if (n != null && n.isBoolean()) return n.asBoolean();
            throw new ConfigException(where + ": key '" + k + "' must be true or false, found " + n);
        }

        List<Double> nums(String k) {
            JsonNode n = v.get(k);
            if (n == null || !n.isArray()) throw new ConfigException(where + ": key '" + k + "' must be a list of numbers, found " + n);
            List<Double> out = new ArrayList<>();
            for (JsonNode x : n) {
                if (!x.isNumber()) throw new ConfigException(where + ": key '" + k + "' must be a list of numbers, found " + n);
                out.add(x.asDouble());
            }
            return out;
        }

        ConfigException bad(String k, String allowed) {
            return new ConfigException(where + ": key '" + k + "' must be " + allowed + ", found " + v.get(k));
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Python's {@code str(float)}: shortest repr, scientific below 1e-4 or from 1e16 ({@code 0.0001}, {@code 5e-05}, {@code 0.1}). */
    static String py(double x) {
        if (x == 0) return "0.0";
        BigDecimal d = new BigDecimal(Double.toString(Math.abs(x))).stripTrailingZeros();
        int exp = d.precision() - d.scale() - 1;
        String sign = x < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String p = d.toPlainString();
            return sign + (p.contains(".") ? p : p + ".0");
        }
        String digits = d.unscaledValue().toString();
        String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mant + "e" + (exp < 0 ? "-" : "+") + String.format(Locale.ROOT, "%02d", Math.abs(exp));
    }

    static ArrayNode ints(int... xs) {
        ArrayNode a = ConfigLoader.YAML.createArrayNode();
        for (int x : xs) a.add(x);
        return a;
    }

    static ArrayNode nums(double... xs) {
        ArrayNode a = ConfigLoader.YAML.createArrayNode();
        for (double x : xs) a.add(x);
        return a;
    }

    static ArrayNode listOf(List<Double> xs) {
        return nums(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }
}
