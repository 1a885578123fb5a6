package dev.spikerev.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The references' own config files, accepted as they are: the RevSNN and MPIS-SNNs scripts' arguments as YAML
 * ({@link ReferenceScriptArgs}, e.g. RevSNN's {@code configs/revsformer_2_384.yml}) and T-RevSNN's yacs files. T-RevSNN's yacs files ({@code configs/small.yaml}: upper-case
 * sections DATA / MODEL / REVCOL / TRAIN / AUG / TEST and top-level keys) are merged over the reference's
 * {@code config.py} defaults, checked key by key against that schema, and mapped to spikerev's keys:
 * <pre>
 * MODEL.TYPE tiny|small|tiny_dvs  -&gt; model (the factory's channels/num_subnet), family t-revsnn
 * MODEL.NUM_CLASSES, REVCOL.KERNEL_SIZE, REVCOL.SAVEMM, REVCOL.INTER_SUPV, REVCOL.DROP_PATH, DATA.IMG_SIZE -&gt; model.*
 * TRAIN.BASE_LR / WARMUP_LR / MIN_LR (x batch/1024, the reference's linear scaling) -&gt; optimizer.lr, schedule.*
 * TRAIN.OPTIMIZER.NAME/EPS/BETAS/MOMENTUM -&gt; optimizer.*; 'lamb' keeps timm's weight_decay 0.01 (spec Q6)
 * TRAIN.EPOCHS, WARMUP_EPOCHS, CLIP_GRAD (AGC), LR_SCHEDULER.* ; MODEL.LABEL_SMOOTHING ; MODEL_EMA(_DECAY) ; SEED
 * DATA.BATCH_SIZE, DATA_PATH, EVAL_DATA_PATH, NUM_WORKERS ; AUG.AUTO_AUGMENT, COLOR_JITTER, REPROB, MIXUP, CUTMIX
 * </pre>
 * Keys with no effect upstream either (REVCOL.FCOE/CCOE/HEAD_INIT_SCALE/LEVEL_KIND, TRAIN.USE_CHECKPOINT, AMP on CPU,
 * PIN_MEMORY, PRINT_FREQ, ...) are accepted and ignored.
 */
public final class ReferenceConfigs {
    private ReferenceConfigs() {}

    /** The reference's config.py defaults (section.key -&gt; value), i.e. the schema of accepted keys. */
    private static final Map<String, Object> TREVSNN_DEFAULTS = new LinkedHashMap<>();

    static {
        Object[] d = {
            "BASE", java.util.List.of(""),
            "DATA.BATCH_SIZE", 128, "DATA.DATA_PATH", "", "DATA.DATASET", "imagenet", "DATA.IMG_SIZE", 224,
            "DATA.INTERPOLATION", "bilinear", "DATA.PIN_MEMORY", true, "DATA.NUM_WORKERS", 16, "DATA.EVAL_DATA_PATH", null,
            "MODEL.TYPE", "", "MODEL.NAME", "", "MODEL.RESUME", "", "MODEL.FINETUNE", "", "MODEL.NUM_CLASSES", 1000,
            "MODEL.LABEL_SMOOTHING", 0.1,
            "REVCOL.INTER_SUPV", true, "REVCOL.SAVEMM", true, "REVCOL.FCOE", 0.0, "REVCOL.CCOE", 1.0,
            "REVCOL.KERNEL_SIZE", 3, "REVCOL.DROP_PATH", 0.0, "REVCOL.HEAD_INIT_SCALE", null,
            "REVCOL.LEVEL_KIND", "conv-conv", "REVCOL.NUM_SUBNET", 4,
            "TRAIN.START_EPOCH", 0, "TRAIN.EPOCHS", 300, "TRAIN.WARMUP_EPOCHS", 5, "TRAIN.WEIGHT_DECAY", 0.05,
            "TRAIN.BASE_LR", 6e-4, "TRAIN.WARMUP_LR", 0.0, "TRAIN.MIN_LR", 1e-5, "TRAIN.CLIP_GRAD", 0.0,
            "TRAIN.AUTO_RESUME", true, "TRAIN.USE_CHECKPOINT", false, "TRAIN.AMP", true,
            "TRAIN.LR_SCHEDULER.NAME", "cosine", "TRAIN.LR_SCHEDULER.DECAY_EPOCHS", 30, "TRAIN.LR_SCHEDULER.DECAY_RATE", 0.1,
            "TRAIN.OPTIMIZER.NAME", "adamw", "TRAIN.OPTIMIZER.EPS", 1e-8, "TRAIN.OPTIMIZER.BETAS", java.util.List.of(0.9, 0.999),
            "TRAIN.OPTIMIZER.MOMENTUM", 0.9, "TRAIN.OPTIMIZER.LAYER_DECAY", 1.0,
            "AUG.COLOR_JITTER", 0.0, "AUG.AUTO_AUGMENT", "rand-m9-mstd0.5-inc1", "AUG.REPROB", 0.25, "AUG.REMODE", "pixel",
            "AUG.RECOUNT", 1, "AUG.MIXUP", 0.0, "AUG.CUTMIX", 0.0, "AUG.CUTMIX_MINMAX", null, "AUG.MIXUP_PROB", 0.0,
            "AUG.MIXUP_SWITCH_PROB", 0.0, "AUG.MIXUP_MODE", "batch",
            "TEST.CROP", true,
            "OUTPUT", "outputs/", "TAG", "default", "SAVE_FREQ", 1, "PRINT_FREQ", 100, "SEED", 118, "EVAL_MODE", false,
            "THROUGHPUT_MODE", false, "LOCAL_RANK", 0, "MODEL_EMA", false, "MODEL_EMA_DECAY", 0.9992,
            "MACHINE.MACHINE_WORLD_SIZE", null, "MACHINE.MACHINE_RANK", null, "dist_url", "",
        };
        for (int i = 0; i < d.length; i += 2) TREVSNN_DEFAULTS.put((String) d[i], d[i + 1]);
    }

    /**
     * A reference config: T-RevSNN yacs (upper-case top-level sections) or a RevSNN / MPIS-SNNs script's arguments
     * ({@link ReferenceScriptArgs}: a flat mapping of argparse dests).
     */
    static boolean isReference(ObjectNode n) {
        return isYacs(n) || ReferenceScriptArgs.isScriptArgs(n);
    }

    private static boolean isYacs(ObjectNode n) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (Set.of("DATA", "MODEL", "TRAIN", "AUG", "REVCOL").contains(k)) return true;
        }
        return false;
    }

    /** Maps a reference config to spikerev's tree; unknown keys fail naming the key and the allowed ones. */
    static ObjectNode map(ObjectNode ref, Path file) {
        return isYacs(ref) ? mapYacs(ref, file) : ReferenceScriptArgs.map(ref, file);
    }

    /** Maps a T-RevSNN yacs config to spikerev's tree; unknown keys fail naming the key and the allowed ones. */
    static ObjectNode mapYacs(ObjectNode ref, Path file) {
        Map<String, JsonNode> v = new LinkedHashMap<>();
        TREVSNN_DEFAULTS.forEach((k, val) -> v.put(k, ConfigLoader.YAML.valueToTree(val)));
        flatten("", ref, v, file);
        ObjectNode out = ConfigLoader.YAML.createObjectNode();
        out.put("family", "t-revsnn");
        ObjectNode model = out.putObject("model");
        String type = text(v, "MODEL.TYPE");
        switch (type) {
            case "tiny": model.set("channels", ints(64, 128, 256, 384)); model.put("num_subnet", 4); model.put("in_chans", 3); break;
            case "small": model.set("channels", ints(96, 192, 384, 512)); model.put("num_subnet", 4); model.put("in_chans", 3); break;
            case "tiny_dvs": model.set("channels", ints(32, 64, 128, 256)); model.put("num_subnet", 8); model.put("dvs", true);
                model.put("in_chans", 2); model.put("inter_supv", false); break;
            default: throw new ConfigException("config " + file + ": key 'MODEL.TYPE' must be one of tiny, small, tiny_dvs, found '" + type + "'");
        }
        model.put("num_classes", v.get("MODEL.NUM_CLASSES").asInt());
        model.put("kernel_size", v.get("REVCOL.KERNEL_SIZE").asInt());
        model.put("save_memory", v.get("REVCOL.SAVEMM").asBoolean());
        if (!type.equals("tiny_dvs")) model.put("inter_supv", v.get("REVCOL.INTER_SUPV").asBoolean());
        model.put("drop_path", v.get("REVCOL.DROP_PATH").asDouble());
        model.put("img_size", v.get("DATA.IMG_SIZE").asInt());

        int batch = v.get("DATA.BATCH_SIZE").asInt();
        double scale = batch / 1024.0;  // the reference's linear lr scaling (world size 1)
        ObjectNode data = out.putObject("data");
        String ds = text(v, "DATA.DATASET");
        if (!ds.equals("imagenet"))
            throw new ConfigException("config " + file + ": key 'DATA.DATASET' = '" + ds + "' is not trainable upstream (spec Q2); allowed: imagenet");
        data.put("dataset", "imagefolder");
        data.put("root", text(v, "DATA.DATA_PATH"));
        data.put("eval_root", text(v, "DATA.EVAL_DATA_PATH"));
        data.put("batch_size", batch);
        data.put("workers", v.get("DATA.NUM_WORKERS").asInt());
        data.put("hflip", true);
        data.set("mean", nums(0.485, 0.456, 0.406));
        data.set("std", nums(0.229, 0.224, 0.225));
        data.put("auto_augment", text(v, "AUG.AUTO_AUGMENT"));
        data.put("color_jitter", v.get("AUG.COLOR_JITTER").asDouble());
        data.put("reprob", v.get("AUG.REPROB").asDouble());
        data.put("mixup", v.get("AUG.MIXUP").asDouble());
        data.put("cutmix", v.get("AUG.CUTMIX").asDouble());
        data.put("download", false);

        ObjectNode opt = out.putObject("optimizer");
        String on = text(v, "TRAIN.OPTIMIZER.NAME").toLowerCase();
        if (on.equals("fused_lamb")) on = "lamb";
        if (!Set.of("lamb", "adamw", "sgd").contains(on))
            throw new ConfigException("config " + file + ": key 'TRAIN.OPTIMIZER.NAME' must be one of lamb, fused_lamb, adamw, sgd, found '" + on + "'");
        opt.put("name", on);
        opt.put("lr", v.get("TRAIN.BASE_LR").asDouble() * scale);
        opt.put("weight_decay", on.equals("lamb") ? 0.01 : v.get("TRAIN.WEIGHT_DECAY").asDouble());
        opt.put("eps", v.get("TRAIN.OPTIMIZER.EPS").asDouble());
        opt.set("betas", v.get("TRAIN.OPTIMIZER.BETAS"));
        opt.put("momentum", v.get("TRAIN.OPTIMIZER.MOMENTUM").asDouble());

        ObjectNode sch = out.putObject("schedule");
        String sn = text(v, "TRAIN.LR_SCHEDULER.NAME");
        if (!Set.of("cosine", "multistep").contains(sn))
            throw new ConfigException("config " + file + ": key 'TRAIN.LR_SCHEDULER.NAME' must be one of cosine, multistep, found '" + sn + "'");
        sch.put("name", sn);
        sch.put("warmup_epochs", v.get("TRAIN.WARMUP_EPOCHS").asDouble());
        sch.put("warmup_lr", v.get("TRAIN.WARMUP_LR").asDouble() * scale);
        sch.put("min_lr", v.get("TRAIN.MIN_LR").asDouble() * scale);
        if (sn.equals("multistep")) {
            ArrayNode ms = sch.putArray("milestones");
            int step = v.get("TRAIN.LR_SCHEDULER.DECAY_EPOCHS").asInt();
            for (int e = step; e < v.get("TRAIN.EPOCHS").asInt(); e += step) ms.add(e);
            sch.put("gamma", v.get("TRAIN.LR_SCHEDULER.DECAY_RATE").asDouble());
        }

        ObjectNode tr = out.putObject("train");
        tr.put("epochs", v.get("TRAIN.EPOCHS").asInt());
        tr.put("label_smoothing", v.get("MODEL.LABEL_SMOOTHING").asDouble());
        tr.put("clip_grad", v.get("TRAIN.CLIP_GRAD").asDouble());
        tr.put("ema", v.get("MODEL_EMA").asBoolean());
        tr.put("ema_decay", v.get("MODEL_EMA_DECAY").asDouble());
        tr.put("seed", v.get("SEED").asLong());
        String name = text(v, "MODEL.NAME");
        tr.put("out", text(v, "OUTPUT").replaceAll("/+$", "") + "/" + (name.isEmpty() ? type : name) + "/" + text(v, "TAG"));
        String resume = text(v, "MODEL.RESUME");
        tr.put("resume", !resume.isEmpty() ? resume : v.get("TRAIN.AUTO_RESUME").asBoolean() ? "auto" : "");
        return out;
    }

    private static void flatten(String prefix, JsonNode n, Map<String, JsonNode> v, Path file) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            boolean section = TREVSNN_DEFAULTS.keySet().stream().anyMatch(k -> k.startsWith(key + "."));
            if (section && e.getValue().isObject()) {
                flatten(key, e.getValue(), v, file);
            } else if (TREVSNN_DEFAULTS.containsKey(key)) {
                JsonNode val = e.getValue();
                if (val.isTextual() && val.asText().equals("None")) val = ConfigLoader.YAML.getNodeFactory().nullNode();
                v.put(key, val);
            } else {
                Set<String> allowed = new TreeSet<>();
                for (String k : TREVSNN_DEFAULTS.keySet()) {
                    if (prefix.isEmpty() || k.startsWith(prefix + ".")) {
                        String rest = prefix.isEmpty() ? k : k.substring(prefix.length() + 1);
                        int dot = rest.indexOf('.');
                        allowed.add(dot < 0 ? rest : rest.substring(0, dot));
                    }
                }
                throw new ConfigException("config " + file + " (T-RevSNN reference format): unknown key '" + key
                        + "' (allowed here: " + String.join(", ", allowed) + ")");
            }
        }
    }

    private static String text(Map<String, JsonNode> v, String k) {
        JsonNode n = v.get(k);
        return n == null || n.isNull() ? "" : n.asText();
    }

    private static ArrayNode ints(int... xs) {
        ArrayNode a = ConfigLoader.YAML.createArrayNode();
        for (int x : xs) a.add(x);
        return a;
    }

    private static ArrayNode nums(double... xs) {
        ArrayNode a = ConfigLoader.YAML.createArrayNode();
        for (double x : xs) a.add(x);
        return a;
    }
}
