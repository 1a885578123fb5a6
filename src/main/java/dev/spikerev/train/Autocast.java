package dev.spikerev.train;

import dev.spikerev.tensor.Devices;
import dev.spikerev.tensor.Natives;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

import static org.bytedeco.pytorch.global.torch.clear_cache;
import static org.bytedeco.pytorch.global.torch.decrement_nesting;
import static org.bytedeco.pytorch.global.torch.get_autocast_dtype;
import static org.bytedeco.pytorch.global.torch.increment_nesting;
import static org.bytedeco.pytorch.global.torch.is_autocast_cache_enabled;
import static org.bytedeco.pytorch.global.torch.is_autocast_enabled;
import static org.bytedeco.pytorch.global.torch.set_autocast_cache_enabled;
import static org.bytedeco.pytorch.global.torch.set_autocast_dtype;
import static org.bytedeco.pytorch.global.torch.set_autocast_enabled;

/**
 * Mixed precision ({@code train.amp}): a scoped {@code torch.autocast(device_type, dtype)} over libtorch's
 * {@code at::autocast} API, entered and left exactly as Python's {@code torch.autocast.__enter__/__exit__} do
 * (enable + dtype for the device type, nesting count, weight-cast cache cleared when the outermost scope closes, the
 * previous state restored). Autocast state is thread-local: enter it on the thread that runs forward and backward.
 *
 * <p>The trainer keeps the whole step (forward, loss <em>and</em> the model's backward) inside the scope, because the
 * reversible and implicit backward paths recompute forward pieces during backward; Python's checkpointing re-enters
 * the forward's autocast state for such recomputes, and running them under the same scope is the equivalent here.
 * Parameters, gradients and optimizer state stay float32.
 */
public final class Autocast implements AutoCloseable {

    /** {@code train.amp}: {@code none} (float32), {@code bf16} (CPU and CUDA) or {@code fp16} (CUDA only, with a {@link GradScaler}). */
    public enum Mode {
        NONE("none"), BF16("bf16"), FP16("fp16");

        public final String key;

        Mode(String key) { this.key = key; }

        /** The allowed config values, in order. */
        public static String[] keys() { return new String[]{NONE.key, BF16.key, FP16.key}; }

        /** Parses a config value; {@code what} names the key in the one-line error. */
        public static Mode of(String s, String what) {
            for (Mode m : values()) if (m.key.equals(s)) return m;
            throw new ConfigException("config: key '" + what + "' must be one of none, bf16, fp16, found '" + s + "'");
        }
    }

    private static final Autocast OFF = new Autocast(null, false, null, false);

    private final DeviceType type;
    private final boolean prevEnabled;
    private final ScalarType prevDtype;
    private final boolean prevCache;
    private boolean closed;

    private Autocast(DeviceType type, boolean prevEnabled, ScalarType prevDtype, boolean prevCache) {
        this.type = type;
        this.prevEnabled = prevEnabled;
        this.prevDtype = prevDtype;
        this.prevCache = prevCache;
    }

    /**
     * Checks that {@code mode} can run on {@code device}: fp16 autocast needs CUDA (libtorch's CPU autocast lists are
     * written for bfloat16, and fp16 needs loss scaling on a device with fast fp16). Throws a one-line error.
     */
    public static void check(Mode mode, Devices.Spec device) {
        if (mode == Mode.FP16 && !device.isCuda())
            throw new ConfigException("train.amp fp16: fp16 autocast needs CUDA (--device cuda:N); on " + device
                    + " use train.amp bf16 or none");
    }

    /** Enters autocast for {@code device} in {@code mode}; {@link Mode#NONE} gives a scope that does nothing. */
    public static Autocast enter(Mode mode, Devices.Spec device) {
        if (mode == null || mode == Mode.NONE) return OFF;
        check(mode, device);
        Natives.init();
        DeviceType t = device.isCuda() ? DeviceType.CUDA : DeviceType.CPU;
        Autocast a = new Autocast(t, is_autocast_enabled(t), get_autocast_dtype(t), is_autocast_cache_enabled());
        set_autocast_enabled(t, true);
        set_autocast_dtype(t, mode == Mode.BF16 ? ScalarType.BFloat16 : ScalarType.Half);
        increment_nesting();
        set_autocast_cache_enabled(true);
        return a;
    }

    /** Whether this scope changed anything (false for {@link Mode#NONE}). */
    public boolean active() { return type != null; }

    @Override
    public void close() {
        if (type == null || closed) return;
        closed = true;
        if (decrement_nesting() == 0) clear_cache(); // cached low-precision weight copies are stale after the step
        set_autocast_enabled(type, prevEnabled);
        set_autocast_dtype(type, prevDtype);
        set_autocast_cache_enabled(prevCache);
    }
}
