package dev.spikerev.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * YAML -&gt; {@link TrainConfig}: our own snake_case files ({@code configs/*.yaml}) and the references' config files
 * as they are ({@link ReferenceConfigs}), then {@code --set key=value} overrides, then validation. Every error is a
 * {@link ConfigException} naming the key (and the allowed values where there is a list).
 */
public final class ConfigLoader {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private ConfigLoader() {}

    /** Loads {@code file} (or only the defaults when null) and applies {@code overrides} ("a.b=value"). */
    public static TrainConfig load(Path file, List<String> overrides) {
        ObjectNode tree = YAML.createObjectNode();
        if (file != null) {
            if (!Files.isRegularFile(file)) throw new ConfigException("config file not found: " + file);
            JsonNode read;
            try {
                read = YAML.readTree(file.toFile());
            } catch (IOException e) {
                throw new ConfigException("config " + file + ": not valid YAML: " + firstLine(e.getMessage()));
            }
            if (read == null || read.isMissingNode() || read.isNull()) read = YAML.createObjectNode();
            if (!read.isObject()) throw new ConfigException("config " + file + ": top level must be a mapping of keys");
            tree = ReferenceConfigs.isReference((ObjectNode) read) ? ReferenceConfigs.map((ObjectNode) read, file) : (ObjectNode) read;
        }
        for (String o : overrides == null ? List.<String>of() : overrides) applyOverride(tree, o);
        TrainConfig cfg = bind(tree, file == null ? "defaults" : file.toString());
        validate(cfg);
        return cfg;
    }

    /** {@code key.path=value}: the value is parsed as YAML (numbers, booleans, lists like [1,2]). */
    static void applyOverride(ObjectNode tree, String o) {
        int eq = o.indexOf('=');
        if (eq <= 0) throw new ConfigException("--set expects key=value, found '" + o + "'");
        String[] path = o.substring(0, eq).trim().split("\\.");
        String raw = o.substring(eq + 1);
        JsonNode value;
        try {
            value = raw.isEmpty() ? YAML.getNodeFactory().textNode("") : YAML.readTree(raw);
            if (value == null || value.isMissingNode()) value = YAML.getNodeFactory().textNode(raw);
        } catch (JsonProcessingException e) {
            value = YAML.getNodeFactory().textNode(raw);
        }
        ObjectNode node = tree;
        for (int i = 0; i < path.length - 1; i++) {
            JsonNode child = node.get(path[i]);
            if (child == null || !child.isObject()) {
                if (child != null && !child.isObject())
                    throw new ConfigException("--set " + o + ": '" + String.join(".", List.of(path).subList(0, i + 1)) + "' is not a section");
                child = node.putObject(path[i]);
            }
            node = (ObjectNode) child;
        }
        node.set(path[path.length - 1], value);
    }

    static TrainConfig bind(ObjectNode tree, String source) {
        try {
            return YAML.treeToValue(tree, TrainConfig.class);
        } catch (UnrecognizedPropertyException e) {
            Set<String> allowed = new TreeSet<>();
            if (e.getKnownPropertyIds() != null) e.getKnownPropertyIds().forEach(k -> allowed.add(String.valueOf(k)));
            throw new ConfigException("config " + source + ": unknown key '" + path(e) + "' (allowed here: "
                    + String.join(", ", allowed) + ")");
        } catch (InvalidFormatException e) {
            throw new ConfigException("config " + source + ": key '" + path(e) + "' must be " + typeName(e.getTargetType())
                    + ", found '" + e.getValue() + "'");
        } catch (MismatchedInputException e) {
            throw new ConfigException("config " + source + ": key '" + path(e) + "' must be " + typeName(e.getTargetType())
                    + " (" + firstLine(e.getOriginalMessage()) + ")");
        } catch (JsonProcessingException e) {
            throw new ConfigException("config " + source + ": " + firstLine(e.getOriginalMessage()));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("config " + source + ": " + firstLine(e.getMessage()));
        }
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    private static String typeName(Class<?> t) {
        if (t == null) return "a value of another type";
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) return "an integer";
        if (t == double.class || t == Double.class || t == float.class) return "a number";
        if (t == boolean.class || t == Boolean.class) return "true or false";
        if (t == String.class) return "a string";
        if (List.class.isAssignableFrom(t)) return "a list";
        if (java.util.Map.class.isAssignableFrom(t)) return "a mapping";
        return "a " + t.getSimpleName() + " section";
    }

    static String firstLine(String m) {
        if (m == null) return "";
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static void oneOf(String key, String value, String... allowed) {
        for (String a : allowed) if (a.equals(value)) return;
        throw new ConfigException("config: key '" + key + "' must be one of " + String.join(", ", allowed) + ", found '" + value + "'");
    }

    private static void range(String key, double v, double lo, double hi) {
        if (!(v >= lo && v <= hi))
            throw new ConfigException("config: key '" + key + "' must be in [" + lo + ", " + hi + "], found " + v);
    }

    static void validate(TrainConfig c) {
        oneOf("family", c.family, "t-revsnn", "revsnn", "mpis", "baseline");
        oneOf("data.dataset", c.data.dataset, "mnist", "fashion-mnist", "cifar10", "cifar100", "imagefolder", "nmnist", "cifar10-dvs",
                "dvs128-gesture");
        range("data.batch_size", c.data.batchSize, 1, 1 << 20);
        range("data.eval_batch_size", c.data.evalBatchSize, 1, 1 << 20);
        range("data.workers", c.data.workers, 0, 256);
        range("data.pad", c.data.pad, 0, 1024);
        range("data.random_crop", c.data.randomCrop, 0, 1024);
        if (c.data.mean.size() != c.data.std.size())
            throw new ConfigException("config: keys 'data.mean' and 'data.std' must have the same length, found "
                    + c.data.mean.size() + " and " + c.data.std.size());
        for (double s : c.data.std) if (!(s > 0)) throw new ConfigException("config: key 'data.std' entries must be > 0, found " + s);
        oneOf("optimizer.name", c.optimizer.name, "lamb", "adamw", "sgd", "adam");
        range("optimizer.lr", c.optimizer.lr, 0, 10);
        range("optimizer.weight_decay", c.optimizer.weightDecay, 0, 10);
        if (c.optimizer.betas.size() != 2) throw new ConfigException("config: key 'optimizer.betas' must have 2 entries, found " + c.optimizer.betas);
        for (double b : c.optimizer.betas) range("optimizer.betas", b, 0, 0.999999999);
        range("optimizer.eps", c.optimizer.eps, 0, 1);
        range("optimizer.momentum", c.optimizer.momentum, 0, 1);
        range("optimizer.max_grad_norm", c.optimizer.maxGradNorm, 0, 1e9);
        oneOf("schedule.name", c.schedule.name, "cosine", "timm-cosine", "constant", "multistep");
        range("schedule.warmup_epochs", c.schedule.warmupEpochs, 0, 1e6);
        range("schedule.warmup_iters", c.schedule.warmupIters, 0, 1e12);
        range("schedule.cooldown_epochs", c.schedule.cooldownEpochs, 0, c.train.epochs - 1);
        if (c.schedule.name.equals("timm-cosine") && c.schedule.warmupEpochs != Math.floor(c.schedule.warmupEpochs))
            throw new ConfigException("config: key 'schedule.warmup_epochs' must be a whole number of epochs for timm-cosine, found "
                    + c.schedule.warmupEpochs);
        range("schedule.warmup_lr", c.schedule.warmupLr, 0, 10);
        range("schedule.min_lr", c.schedule.minLr, 0, 10);
        range("train.epochs", c.train.epochs, 1, 1e6);
        range("train.label_smoothing", c.train.labelSmoothing, 0, 0.999);
        range("train.clip_grad", c.train.clipGrad, 0, 1e6);
        range("train.clip_grad_norm", c.train.clipGradNorm, 0, 1e9);
        range("train.ema_decay", c.train.emaDecay, 0, 1);
        range("train.threads", c.train.threads, 0, 1024);
        range("train.max_steps_per_epoch", c.train.maxStepsPerEpoch, 0, 1e12);
        try {
            dev.spikerev.tensor.Devices.parse(c.train.device, "config: key 'train.device'");
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        oneOf("train.amp", c.train.amp, Autocast.Mode.keys());
    }
}
