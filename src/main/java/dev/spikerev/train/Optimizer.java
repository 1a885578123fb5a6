package dev.spikerev.train;

import dev.spikerev.tensor.Natives;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorImpl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.bytedeco.pytorch.global.torch.ScalarType;
import static org.bytedeco.pytorch.global.torch.scalar_tensor;

/**
 * Base of the hand-written optimizers: parameter groups, per-parameter state, {@link #step()} (inside its own
 * {@code PointerScope} and a {@code NoGradGuard}), {@link #zeroGrad()}, and Python-compatible
 * {@link #stateDict()} / {@link #loadStateDict(Map)}.
 *
 * <p>Parameter index {@code i} (the {@code state} key and the entries of {@code param_groups[*].params}) counts the
 * parameters in group-concatenation order, as torch does. Persistent tensors (state, timm's group {@code step}) are
 * {@code retainReference()}d so they outlive any caller scope; {@link #close()} releases them. The parameter tensors
 * themselves belong to the caller and must outlive the optimizer.
 */
public abstract class Optimizer implements AutoCloseable {
    /** Option keys whose Python value is a tuple (kept as a {@link List} here; a pickle writer must emit a tuple). */
    public static final Set<String> TUPLE_KEYS = Set.of("betas");

    private final LinkedHashMap<String, Object> defaults;
    private final List<ParamGroup> groups;
    private final int[] offsets;
    private final List<Tensor> flat;
    /** state per flat index, in the order first created (Python's dict insertion order). */
    private final LinkedHashMap<Integer, LinkedHashMap<String, Object>> state = new LinkedHashMap<>();
    private boolean closed;

    /**
     * @param groups    parameter groups; their options are completed (in place) with the defaults they lack
     * @param defaults  this optimizer's defaults in Python's key order
     * @param overrides constructor arguments (Python names) replacing defaults; unknown names are rejected
     */
    protected Optimizer(List<ParamGroup> groups, LinkedHashMap<String, Object> defaults, Map<String, ?> overrides) {
        Natives.init();
        this.defaults = new LinkedHashMap<>(defaults);
        for (Map.Entry<String, ?> e : overrides.entrySet()) {
            if (!defaults.containsKey(e.getKey()))
                throw new IllegalArgumentException(getClass().getSimpleName() + " has no option '" + e.getKey()
                        + "'; expected one of " + defaults.keySet());
            this.defaults.put(e.getKey(), normalize(e.getValue()));
        }
        if (groups.isEmpty()) throw new IllegalArgumentException("optimizer got an empty parameter list");
        this.groups = List.copyOf(groups);
        this.offsets = new int[groups.size()];
        List<Tensor> all = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (int gi = 0; gi < groups.size(); gi++) {
            ParamGroup g = groups.get(gi);
            LinkedHashMap<String, Object> merged = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : g.options.entrySet()) {
                if (!defaults.containsKey(e.getKey()) && !"lr_scale".equals(e.getKey()) && !"initial_lr".equals(e.getKey()))
                    throw new IllegalArgumentException("param group " + gi + ": unknown option '" + e.getKey()
                            + "'; expected one of " + defaults.keySet());
                merged.put(e.getKey(), normalize(e.getValue()));
            }
            for (Map.Entry<String, Object> e : this.defaults.entrySet()) merged.putIfAbsent(e.getKey(), copyValue(e.getValue()));
            g.options.clear();
            g.options.putAll(merged);
            offsets[gi] = all.size();
            for (Tensor p : g.params()) {
                if (!seen.add(implAddress(p)))
                    throw new IllegalArgumentException("some parameters appear in more than one parameter group (group " + gi + ")");
                all.add(p);
            }
        }
        this.flat = Collections.unmodifiableList(all);
        for (ParamGroup g : this.groups) validate(g);
    }

    /** Checks one group's options (called after defaults are merged and after {@link #loadStateDict}). */
    protected void validate(ParamGroup g) {
        if (g.getDouble("lr") < 0) throw new IllegalArgumentException("Invalid learning rate: " + g.get("lr"));
    }

    /** The update itself; runs under no-grad inside a scope that frees every temporary. */
    protected abstract void update();

    /** One optimizer step (Python {@code optimizer.step()}). */
    public final void step() {
        ensureOpen();
        try (PointerScope scope = new PointerScope()) {
            NoGradGuard noGrad = new NoGradGuard();
            try {
                update();
            } finally {
                noGrad.close();
            }
        }
    }

    /** {@code zero_grad(set_to_none=True)}, torch's default: every parameter's {@code .grad} becomes undefined. */
    public void zeroGrad() {
        zeroGrad(true);
    }

    /** {@code zero_grad(set_to_none)}; with {@code false} the grads are detached and zeroed in place. */
    public void zeroGrad(boolean setToNone) {
        ensureOpen();
        try (PointerScope scope = new PointerScope()) {
            for (Tensor p : flat) {
                Tensor g = p.grad();
                if (!g.defined()) continue;
                if (setToNone) {
                    p.mutable_grad().reset();
                } else {
                    g.detach_();
                    g.zero_();
                }
            }
        }
    }

    public List<ParamGroup> paramGroups() {
        return groups;
    }

    /** All parameters in group-concatenation order (the state-dict index order). */
    public List<Tensor> params() {
        return flat;
    }

    /** The optimizer defaults (Python names, Python key order). */
    public Map<String, Object> defaults() {
        return Collections.unmodifiableMap(defaults);
    }

    /** Sets {@code lr} of every group, times the group's {@code lr_scale} when it has one (as the references do). */
    public void setLr(double lr) {
        for (ParamGroup g : groups) g.setLr(g.has("lr_scale") ? lr * g.getDouble("lr_scale") : lr);
    }

    /** Live per-parameter state (empty map if the parameter has none yet). */
    public Map<String, Object> state(int index) {
        Map<String, Object> s = state.get(index);
        return s == null ? Map.of() : Collections.unmodifiableMap(s);
    }

    // ------------------------------------------------------------------ helpers for subclasses

    protected final int groupOffset(int groupIndex) {
        return offsets[groupIndex];
    }

    /** The state map of parameter {@code index}, created empty on first use (Python's {@code self.state[p]}). */
    protected final LinkedHashMap<String, Object> stateOf(int index) {
        return state.computeIfAbsent(index, k -> new LinkedHashMap<>());
    }

    /** Marks a tensor as optimizer-owned: it survives every enclosing {@code PointerScope} until {@link #close()}. */
    protected static Tensor persistent(Tensor t) {
        t.retainReference();
        return t;
    }

    /** A persistent 0-dim float32 CPU tensor (torch keeps {@code step} counters like this). */
    protected static Tensor scalarStep(double value) {
        return persistent(scalar_tensor(new Scalar(value), new org.bytedeco.pytorch.TensorOptions(ScalarType.Float)));
    }

    /** The parameter's gradient as a Java handle, or {@code null} if Python would see {@code p.grad is None}. */
    protected static Tensor gradOrNull(Tensor p) {
        Tensor g = p.grad();
        return g.defined() ? g : null;
    }

    protected final void ensureOpen() {
        if (closed) throw new IllegalStateException(getClass().getSimpleName() + " is closed");
    }

    // ------------------------------------------------------------------ state dict

    /**
     * Python {@code optimizer.state_dict()}: {@code {"state": {Long index: {name: value}}, "param_groups": [{...,
     * "params": [Long...]}]}}. Tensors are the live state tensors (as in Python); tuples are {@link List}s
     * (see {@link #TUPLE_KEYS}).
     */
    public LinkedHashMap<Object, Object> stateDict() {
        ensureOpen();
        LinkedHashMap<Object, Object> st = new LinkedHashMap<>();
        for (Map.Entry<Integer, LinkedHashMap<String, Object>> e : state.entrySet())
            st.put((long) e.getKey(), new LinkedHashMap<Object, Object>(e.getValue()));
        List<Object> pg = new ArrayList<>();
        for (int gi = 0; gi < groups.size(); gi++) {
            LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : groups.get(gi).options.entrySet()) m.put(e.getKey(), copyValue(e.getValue()));
            List<Long> idx = new ArrayList<>();
            for (int j = 0; j < groups.get(gi).params().size(); j++) idx.add((long) (offsets[gi] + j));
            m.put("params", idx);
            pg.add(m);
        }
        LinkedHashMap<Object, Object> out = new LinkedHashMap<>();
        out.put("state", st);
        out.put("param_groups", pg);
        return out;
    }

    /**
     * Python {@code optimizer.load_state_dict(sd)}: same number of groups and group sizes required; each group's options
     * are replaced by the saved ones (then missing defaults are filled in, as the optimizers' {@code __setstate__} does);
     * state tensors are copied, floating-point ones cast to their parameter's dtype and device ({@code step} kept as is).
     * Accepts Long or Integer keys/indices and Double/Float/Long/Integer numbers.
     */
    public void loadStateDict(Map<?, ?> sd) {
        ensureOpen();
        Object pgObj = sd.get("param_groups");
        Object stObj = sd.get("state");
        if (!(pgObj instanceof List<?> saved) || !(stObj instanceof Map<?, ?> savedState))
            throw new IllegalArgumentException("optimizer state dict must have 'state' (a map) and 'param_groups' (a list)");
        if (saved.size() != groups.size())
            throw new IllegalArgumentException("loaded state dict has a different number of parameter groups: expected "
                    + groups.size() + ", found " + saved.size());
        Map<Long, Integer> idMap = new HashMap<>();
        List<LinkedHashMap<String, Object>> newOptions = new ArrayList<>();
        for (int gi = 0; gi < groups.size(); gi++) {
            if (!(saved.get(gi) instanceof Map<?, ?> sg) || !(sg.get("params") instanceof List<?> ids))
                throw new IllegalArgumentException("param_groups[" + gi + "] must be a map with a 'params' list");
            if (ids.size() != groups.get(gi).params().size())
                throw new IllegalArgumentException("loaded state dict contains a parameter group that doesn't match the size of optimizer's group "
                        + gi + ": expected " + groups.get(gi).params().size() + ", found " + ids.size());
            for (int j = 0; j < ids.size(); j++) idMap.put(((Number) ids.get(j)).longValue(), offsets[gi] + j);
            LinkedHashMap<String, Object> opts = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : sg.entrySet()) {
                String k = String.valueOf(e.getKey());
                if (k.equals("params")) continue;
                Object v = e.getValue();
                opts.put(k, v instanceof Tensor t ? persistent(t.clone()) : normalize(v));
            }
            for (Map.Entry<String, Object> e : defaults.entrySet()) opts.putIfAbsent(e.getKey(), copyValue(e.getValue()));
            newOptions.add(opts);
        }
        LinkedHashMap<Integer, LinkedHashMap<String, Object>> newState = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            for (Map.Entry<?, ?> e : savedState.entrySet()) {
                Integer idx = idMap.get(((Number) e.getKey()).longValue());
                if (idx == null) throw new IllegalArgumentException("state entry " + e.getKey() + " names no parameter of any group");
                Tensor p = flat.get(idx);
                LinkedHashMap<String, Object> s = new LinkedHashMap<>();
                for (Map.Entry<?, ?> se : ((Map<?, ?>) e.getValue()).entrySet()) {
                    String k = String.valueOf(se.getKey());
                    Object v = se.getValue();
                    if (v instanceof Tensor t) {
                        Tensor c = k.equals("step") ? t.clone()
                                : p.is_floating_point() ? t.to(p, false, true, new MemoryFormatOptional())
                                : t.clone();
                        s.put(k, persistent(c));
                    } else if (k.equals("step") && v instanceof Number n) {
                        s.put(k, scalarStep(n.doubleValue()));
                    } else {
                        s.put(k, normalize(v));
                    }
                }
                newState.put(idx, s);
            }
        }
        for (int gi = 0; gi < groups.size(); gi++) {
            LinkedHashMap<String, Object> opts = newOptions.get(gi);
            if (opts.get("step") instanceof Number n) opts.put("step", scalarStep(n.doubleValue()));
        }
        releaseAll();
        state.putAll(newState);
        for (int gi = 0; gi < groups.size(); gi++) {
            groups.get(gi).options.clear();
            groups.get(gi).options.putAll(newOptions.get(gi));
            validate(groups.get(gi));
        }
    }

    /** Releases the optimizer's state tensors. Parameters are not touched. */
    @Override
    public void close() {
        if (closed) return;
        releaseAll();
        closed = true;
    }

    private void releaseAll() {
        for (LinkedHashMap<String, Object> s : state.values())
            for (Object v : s.values()) if (v instanceof Tensor t) t.releaseReference();
        state.clear();
        for (ParamGroup g : groups)
            for (Map.Entry<String, Object> e : g.options.entrySet())
                if (e.getValue() instanceof Tensor t) {
                    t.releaseReference();
                    e.setValue(null);
                }
    }

    static long implAddress(Tensor p) {
        TensorImpl impl = p.unsafeGetTensorImpl();
        return impl.address();
    }

    /** Python-typed copy: Integer→Long, Float→Double, lists copied (tuples stay lists). */
    static Object normalize(Object v) {
        if (v instanceof Integer i) return (long) i;
        if (v instanceof Short s) return (long) s;
        if (v instanceof Float f) return (double) f;
        if (v instanceof double[] a) {
            List<Object> l = new ArrayList<>();
            for (double d : a) l.add(d);
            return l;
        }
        if (v instanceof dev.spikerev.checkpoint.PyTuple t) return normalize(t.items()); // e.g. betas read from a torch file
        if (v instanceof List<?> l) {
            List<Object> c = new ArrayList<>();
            for (Object o : l) c.add(normalize(o));
            return Collections.unmodifiableList(c);
        }
        return v;
    }

    private static Object copyValue(Object v) {
        return v instanceof List<?> ? normalize(v) : v;
    }
}
