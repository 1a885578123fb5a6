package dev.spikerev.train;

import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One optimizer parameter group: its parameters plus Python-named options ({@code lr}, {@code weight_decay},
 * {@code betas}, ...). Option values use the Python types of {@code optimizer.state_dict()}: {@link Double},
 * {@link Long}, {@link Boolean}, {@code null} (None), {@link List} (a Python tuple such as {@code betas}; see
 * {@link Optimizer#TUPLE_KEYS}) and {@link Tensor} (timm Lamb's per-group {@code step}).
 *
 * <p>Key order follows Python: options given for the group first, then the optimizer defaults it lacks, then keys
 * added later (e.g. {@code step}, {@code initial_lr}).
 */
public final class ParamGroup {
    private final List<Tensor> params;
    final LinkedHashMap<String, Object> options;

    private ParamGroup(List<Tensor> params, Map<String, ?> options) {
        this.params = Collections.unmodifiableList(new ArrayList<>(params));
        this.options = new LinkedHashMap<>(options);
    }

    /** A group with the given parameters and no per-group options (all come from the optimizer defaults). */
    public static ParamGroup of(List<Tensor> params) {
        return new ParamGroup(params, Map.of());
    }

    /** A group with per-group options (Python names, e.g. {@code Map.of("weight_decay", 0.0)}). Iteration order kept. */
    public static ParamGroup of(List<Tensor> params, Map<String, ?> options) {
        if (options.containsKey("params")) throw new IllegalArgumentException("'params' is not an option; pass the tensors as the first argument");
        return new ParamGroup(params, options);
    }

    public List<Tensor> params() {
        return params;
    }

    /** Live view of the options (Python names). */
    public Map<String, Object> options() {
        return options;
    }

    public boolean has(String key) {
        return options.containsKey(key);
    }

    public Object get(String key) {
        if (!options.containsKey(key)) throw new IllegalArgumentException("param group has no option '" + key + "' (has " + options.keySet() + ")");
        return options.get(key);
    }

    public double getDouble(String key) {
        Object v = get(key);
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof Tensor t) return t.item_double();
        throw new IllegalArgumentException("option '" + key + "' is not a number: " + v);
    }

    /** Like {@link #getDouble} but {@code null} (Python None) gives {@code null}. */
    public Double getNullableDouble(String key) {
        Object v = get(key);
        return v == null ? null : getDouble(key);
    }

    public boolean getBool(String key) {
        Object v = get(key);
        if (v instanceof Boolean b) return b;
        if (v instanceof Number n) return n.doubleValue() != 0; // Python truthiness of 0/1
        throw new IllegalArgumentException("option '" + key + "' is not a boolean: " + v);
    }

    /** A two-element tuple option such as {@code betas}. */
    public double[] getPair(String key) {
        Object v = get(key);
        if (v instanceof List<?> l && l.size() == 2 && l.get(0) instanceof Number a && l.get(1) instanceof Number b)
            return new double[] {a.doubleValue(), b.doubleValue()};
        throw new IllegalArgumentException("option '" + key + "' is not a pair of numbers: " + v);
    }

    public double lr() {
        return getDouble("lr");
    }

    public void setLr(double lr) {
        options.put("lr", lr);
    }

    /** Sets any option (Python name and type). */
    public void set(String key, Object value) {
        if ("params".equals(key)) throw new IllegalArgumentException("'params' cannot be set");
        options.put(key, value);
    }
}
