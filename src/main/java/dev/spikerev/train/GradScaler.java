package dev.spikerev.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.isfinite;

/**
 * Dynamic loss scaling for fp16 training, as {@code torch.amp.GradScaler} (defaults: init scale 2^16, growth 2 after
 * 2000 consecutive good steps, backoff 0.5). Per iteration:
 * <pre>
 *   model.backward(scaler.scale(loss));
 *   scaler.unscale(params);         // grads /= scale (float32 1/scale); notes whether any grad had an inf/NaN
 *   clip(params);                   // clipping sees the true gradients
 *   scaler.step(optimizer);         // skipped when an inf/NaN was found
 *   scaler.update();                // inf/NaN: scale *= backoff, tracker = 0; else after `interval` good steps scale *= growth
 * </pre>
 * The scale is kept as a host double (powers of two, exact); the inf/NaN check reads one flag per step (a device sync,
 * which the trainer's loss read-back costs anyway). With data-parallel, unscale after the gradient all-reduce: every
 * rank then sees the same gradients and takes the same skip decision.
 */
public final class GradScaler {
    public static final double INIT_SCALE = 65536.0;
    public static final double GROWTH_FACTOR = 2.0;
    public static final double BACKOFF_FACTOR = 0.5;
    public static final int GROWTH_INTERVAL = 2000;

    private final double growthFactor;
    private final double backoffFactor;
    private final int growthInterval;
    private double scale;
    private int growthTracker;
    /** This iteration: null before {@link #unscale}, then whether an inf/NaN gradient was found. */
    private Boolean foundInf;
    private long skipped;

    /** torch's defaults. */
    public GradScaler() {
        this(INIT_SCALE, GROWTH_FACTOR, BACKOFF_FACTOR, GROWTH_INTERVAL);
    }

    public GradScaler(double initScale, double growthFactor, double backoffFactor, int growthInterval) {
        if (!(initScale > 0) || !Double.isFinite(initScale)) throw new IllegalArgumentException("GradScaler: init scale must be > 0, found " + initScale);
        if (!(growthFactor > 1)) throw new IllegalArgumentException("GradScaler: growth factor must be > 1, found " + growthFactor);
        if (!(backoffFactor > 0 && backoffFactor < 1)) throw new IllegalArgumentException("GradScaler: backoff factor must be in (0, 1), found " + backoffFactor);
        if (growthInterval < 1) throw new IllegalArgumentException("GradScaler: growth interval must be >= 1, found " + growthInterval);
        this.scale = initScale;
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = growthInterval;
    }

    /** The current loss scale. */
    public double scale() { return scale; }

    /** Consecutive good steps since the last growth or backoff. */
    public int growthTracker() { return growthTracker; }

    /** Optimizer steps skipped so far (inf/NaN gradients). */
    public long skippedSteps() { return skipped; }

    /** {@code loss * scale} (backpropagate this instead of the loss). */
    public Tensor scale(Tensor loss) {
        return loss.mul(new Scalar(scale));
    }

    /**
     * Divides every defined gradient by the scale in place (multiplies by float32 {@code 1/scale}, as torch) and
     * records whether any of them held an inf or NaN before unscaling. Once per iteration; returns that flag.
     */
    public boolean unscale(List<Tensor> params) {
        if (foundInf != null) throw new IllegalStateException("GradScaler.unscale called twice since the last update()");
        double inv = (float) (1.0 / scale);
        boolean bad = false;
        try (PointerScope s = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor any = null;
            for (Tensor p : params) {
                Tensor g = p.grad();
                if (!g.defined()) continue;
                Tensor nonFinite = isfinite(g).all().logical_not();
                any = any == null ? nonFinite : any.logical_or(nonFinite);
                g.mul_(new Scalar(inv));
            }
            if (any != null) bad = any.item_bool();
        }
        foundInf = bad;
        return bad;
    }

    /**
     * {@code optimizer.step()} unless this iteration's gradients had an inf/NaN (unscales first if {@link #unscale}
     * was not called). Returns whether the step ran.
     */
    public boolean step(Optimizer opt) {
        if (foundInf == null) unscale(opt.params());
        if (foundInf) {
            skipped++;
            return false;
        }
        opt.step();
        return true;
    }

    /** torch's {@code _amp_update_scale_}: back off after an inf/NaN, grow after {@code growthInterval} good steps. */
    public void update() {
        if (foundInf == null) throw new IllegalStateException("GradScaler.update called before unscale/step in this iteration");
        if (foundInf) {
            scale *= backoffFactor;
            growthTracker = 0;
        } else if (growthTracker + 1 == growthInterval) {
            double grown = scale * growthFactor;
            if (Double.isFinite(grown) && grown <= Float.MAX_VALUE) scale = grown; // torch keeps the scale in float32
            growthTracker = 0;
        } else {
            growthTracker++;
        }
        foundInf = null;
    }

    /** Python {@code GradScaler.state_dict()}: {@code scale, growth_factor, backoff_factor, growth_interval, _growth_tracker}. */
    public Map<String, Object> stateDict() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scale", scale);
        m.put("growth_factor", growthFactor);
        m.put("backoff_factor", backoffFactor);
        m.put("growth_interval", (long) growthInterval);
        m.put("_growth_tracker", (long) growthTracker);
        return m;
    }

    /** Restores {@code scale} and {@code _growth_tracker} from {@link #stateDict()} (factors stay as constructed). */
    public void loadStateDict(Map<?, ?> sd) {
        if (!(sd.get("scale") instanceof Number s) || !(s.doubleValue() > 0))
            throw new IllegalArgumentException("GradScaler state: 'scale' must be a positive number, found " + sd.get("scale"));
        scale = s.doubleValue();
        growthTracker = sd.get("_growth_tracker") instanceof Number n ? n.intValue() : 0;
        foundInf = null;
    }
}
