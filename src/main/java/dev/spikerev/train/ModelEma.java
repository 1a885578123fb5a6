package dev.spikerev.train;

import dev.spikerev.tensor.Natives;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Exponential moving average of a model's state (parameters and buffers), after timm {@code ModelEma}
 * (and {@code ModelEmaV2}, numerically identical): after every optimizer step, for each key of the EMA state,
 * {@code ema.copy_(ema * decay + (1 - decay) * model)} in place.
 *
 * <p>The EMA copy is a clone of the model state taken at construction; keys that alias one tensor in the model
 * (shared weights, e.g. T-RevSNN's {@code *_reuse} convs listed under every column) alias one tensor in the copy too,
 * as Python's {@code deepcopy} does.
 *
 * <p>{@link Mode#FAITHFUL} reproduces timm exactly, including two quirks (T-RevSNN spec Q7): an aliased tensor is
 * updated once per key, so its effective decay is {@code decay^aliases}; and integer buffers
 * ({@code num_batches_tracked}) get the float result truncated on write. {@link Mode#CORRECTED} updates every
 * distinct tensor once and copies integer buffers from the model.
 */
public final class ModelEma implements AutoCloseable {

    public enum Mode { FAITHFUL, CORRECTED }

    private final double decay;
    private final Mode mode;
    private final LinkedHashMap<String, Tensor> ema = new LinkedHashMap<>();
    /** for each EMA key, the first key with the same tensor (itself if none). */
    private final Map<String, String> canonical = new HashMap<>();
    private final List<Tensor> owned;
    private boolean closed;

    /**
     * @param modelState the model's {@code state_dict()} view (name → live tensor), iteration order = state_dict order
     */
    public ModelEma(Map<String, Tensor> modelState, double decay, Mode mode) {
        Natives.init();
        this.decay = decay;
        this.mode = mode;
        Map<List<Object>, String> firstKeyByTensor = new HashMap<>();
        java.util.ArrayList<Tensor> own = new java.util.ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            NoGradGuard ng = new NoGradGuard();
            try {
                for (Map.Entry<String, Tensor> e : modelState.entrySet()) {
                    List<Object> id = aliasId(e.getValue());
                    String first = firstKeyByTensor.putIfAbsent(id, e.getKey());
                    if (first != null) {
                        ema.put(e.getKey(), ema.get(first));
                        canonical.put(e.getKey(), first);
                    } else {
                        Tensor c = e.getValue().detach().clone();
                        c.retainReference();
                        own.add(c);
                        ema.put(e.getKey(), c);
                        canonical.put(e.getKey(), e.getKey());
                    }
                }
            } finally {
                ng.close();
            }
        }
        this.owned = own;
    }

    public ModelEma(Supplier<Map<String, Tensor>> modelState, double decay, Mode mode) {
        this(modelState.get(), decay, mode);
    }

    public double decay() {
        return decay;
    }

    public Mode mode() {
        return mode;
    }

    /** The EMA state (timm {@code ema.state_dict()}), alias keys sharing one tensor. Live tensors. */
    public Map<String, Tensor> state() {
        return Collections.unmodifiableMap(ema);
    }

    /** timm {@code ModelEma.update(model)}. Keys are looked up by name; a missing model key is an error. */
    public void update(Map<String, Tensor> modelState) {
        if (closed) throw new IllegalStateException("ModelEma is closed");
        try (PointerScope scope = new PointerScope()) {
            NoGradGuard ng = new NoGradGuard();
            try {
                for (Map.Entry<String, Tensor> e : ema.entrySet()) {
                    String k = e.getKey();
                    if (mode == Mode.CORRECTED && !canonical.get(k).equals(k)) continue;
                    Tensor modelV = modelState.get(k);
                    if (modelV == null) throw new IllegalArgumentException("model state has no key '" + k + "' (EMA keys come from the model state at construction)");
                    modelV = modelV.detach();
                    Tensor emaV = e.getValue();
                    if (mode == Mode.CORRECTED && !emaV.is_floating_point()) {
                        emaV.copy_(modelV);
                        continue;
                    }
                    emaV.copy_(emaV.mul(new Scalar(decay)).add(modelV.mul(new Scalar(1. - decay))));
                }
            } finally {
                ng.close();
            }
        }
    }

    public void update(Supplier<Map<String, Tensor>> modelState) {
        update(modelState.get());
    }

    /** Copies the model state into the EMA (ModelEmaV2 {@code set}). */
    public void set(Map<String, Tensor> modelState) {
        try (PointerScope scope = new PointerScope()) {
            NoGradGuard ng = new NoGradGuard();
            try {
                for (Map.Entry<String, Tensor> e : ema.entrySet()) {
                    if (!canonical.get(e.getKey()).equals(e.getKey())) continue;
                    Tensor m = modelState.get(e.getKey());
                    if (m == null) throw new IllegalArgumentException("model state has no key '" + e.getKey() + "'");
                    e.getValue().copy_(m.detach());
                }
            } finally {
                ng.close();
            }
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Tensor t : owned) t.releaseReference();
        owned.clear();
    }

    /** Identity of the memory a tensor views: same data pointer, shape, strides and dtype means an alias. */
    private static List<Object> aliasId(Tensor t) {
        if (!t.has_storage() || t.numel() == 0) return List.of("impl", Optimizer.implAddress(t));
        return List.of(t.data_ptr().address(), dims(t.sizes()), dims(t.strides()), t.scalar_type().value);
    }

    private static List<Long> dims(org.bytedeco.pytorch.LongArrayRef r) {
        java.util.ArrayList<Long> l = new java.util.ArrayList<>();
        for (long i = 0; i < r.size(); i++) l.add(r.get(i));
        return l;
    }
}
