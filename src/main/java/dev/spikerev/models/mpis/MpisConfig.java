package dev.spikerev.models.mpis;

import java.util.List;
import java.util.Map;

/**
 * Constructor arguments of the reference {@code MPIS_static} / {@code MPIS_neuro} (kiritozc/MPIS-SNNs, names as in
 * its {@code cfg['MODEL']} and in fixtures' meta.json {@code constructor}) plus the port's switches.
 *
 * <p>Reference arguments: {@code c_in, c_hidden, c_s1, c_s2, c_s3} (static only), {@code num_classes},
 * {@code kernel_size_x, stride_x} (only used for dropout-mask shapes, as upstream), {@code padding_x, pooling_x,
 * kernel_size_s, h_hidden, w_hidden} (classifier input {@code C·h·w}), {@code dropout}, {@code threshold} (Broyden
 * iteration limit of the implicit backward), {@code time_step} (T), {@code vth}, {@code leaky} (λ), {@code solver}
 * ('broy'). {@code fusion_channels} is the fixtures' name for the width of the fusion conv, which upstream hard-codes
 * as 256 (static) / 32 (neuro); {@code input_size} is optional and only validated.
 *
 * @param options port switches (see {@link Options}); {@link Options#reference()} reproduces the reference.
 */
public record MpisConfig(Kind kind, int cIn, int cHidden, int cS1, int cS2, int cS3, int numClasses,
                         int kernelSizeX, int strideX, int paddingX, boolean poolingX, int kernelSizeS,
                         int hHidden, int wHidden, double dropout, int threshold, int timeStep, double vth,
                         double leaky, String solver, int fusionChannels, int[] inputSize, Options options) {

    /** Which reference model: {@code MPIS_static} (CIFAR, stem + direct coding) or {@code MPIS_neuro} (events). */
    public enum Kind { STATIC, NEURO }

    /** Backward of the equilibrium part. */
    public enum Gradient {
        /** What the reference code computes: autograd through the single differentiable step {@code f(a*)}. */
        ONE_STEP,
        /** What the paper describes: the gradient at {@code f}'s output is replaced by {@code u}, {@code u(I−J)=g}. */
        IMPLICIT
    }

    /** Equilibrium read-out {@code a*} of the simulation. */
    public enum Readout {
        /** Reference (quirk 1): step-0 spikes of the last layer divided by {@code w(T)}; steps ≥ 1 are unread. */
        FIRST_STEP,
        /** Intended (IDE-FSNN): {@code Σ_t λ^{T−1−t} s_t / w(T)}, the λ-weighted firing rate. Not in the fixtures. */
        WEIGHTED_RATE
    }

    /** What {@code λ = 1} (pure IF) means; the reference divides 0 by 0 in {@code w(T) = (1 − λ^T)/(1 − λ)}. */
    public enum UnitLeak {
        /** Refuse to build (the reference would produce NaN logits). */
        REJECT,
        /** Define {@code w(T) = T}, the limit of {@code (1 − λ^T)/(1 − λ)} for λ → 1. */
        COUNT
    }

    /**
     * Port switches. Defaults ({@link #reference()}) keep parity with the reference.
     *
     * @param gradient         {@code gradient: one-step | implicit}
     * @param readout          {@code readout: first-step | weighted-rate}
     * @param unitLeak         {@code unit_leak: reject | count}
     * @param simulateAllSteps run steps 1..T−1 of the simulation although the first-step read-out never reads them
     *                         (the reference's cost); false (default) skips them: identical logits, gradients and BN
     *                         statistics (tested), T-fold less simulation. Always run with the weighted-rate read-out
     *                         and while an energy meter counts operations ({@code OpCounter})
     * @param strictReference  reject configurations the reference itself cannot build (fusion width ≠ the
     *                         hard-coded 256 / 32)
     * @param broydenEps       absolute residual tolerance of the adjoint solve; NaN = the reference's
     *                         {@code 2e-10·sqrt(B·N)}
     * @param broydenRtol      relative residual tolerance ({@code |G(u)| ≤ rtol·|g|} also counts as converged;
     *                         0 = only the absolute one, as upstream)
     */
    public record Options(Gradient gradient, Readout readout, UnitLeak unitLeak, boolean simulateAllSteps,
                          boolean strictReference, double broydenEps, double broydenRtol) {
        public static Options reference() {
            return new Options(Gradient.ONE_STEP, Readout.FIRST_STEP, UnitLeak.REJECT, false, false, Double.NaN, 1e-6);
        }

        public Options withGradient(Gradient g) {
            return new Options(g, readout, unitLeak, simulateAllSteps, strictReference, broydenEps, broydenRtol);
        }

        public Options withReadout(Readout r) {
            return new Options(gradient, r, unitLeak, simulateAllSteps, strictReference, broydenEps, broydenRtol);
        }

        public Options withUnitLeak(UnitLeak u) {
            return new Options(gradient, readout, u, simulateAllSteps, strictReference, broydenEps, broydenRtol);
        }

        public Options withSimulateAllSteps(boolean b) {
            return new Options(gradient, readout, unitLeak, b, strictReference, broydenEps, broydenRtol);
        }

        public Options withBroyden(double eps, double rtol) {
            return new Options(gradient, readout, unitLeak, simulateAllSteps, strictReference, eps, rtol);
        }

        /** From snake_case keys ({@code gradient: implicit}, {@code readout}, {@code unit_leak}, ...); absent = default. */
        public static Options fromMap(Map<String, Object> m) {
            Options d = reference();
            if (m == null) return d;
            return new Options(
                    enumOf(Gradient.class, m.get("gradient"), d.gradient, "gradient", "one-step, implicit"),
                    enumOf(Readout.class, m.get("readout"), d.readout, "readout", "first-step, weighted-rate"),
                    enumOf(UnitLeak.class, m.get("unit_leak"), d.unitLeak, "unit_leak", "reject, count"),
                    bool(m, "simulate_all_steps", d.simulateAllSteps),
                    bool(m, "strict_reference", d.strictReference),
                    num(m, "broyden_eps", d.broydenEps).doubleValue(),
                    num(m, "broyden_rtol", d.broydenRtol).doubleValue());
        }
    }

    public MpisConfig {
        if (kind == null) throw new IllegalArgumentException("mpis: kind must be static or neuro");
        if (options == null) options = Options.reference();
        String p = "mpis " + kind.name().toLowerCase() + ": ";
        positive(p, "c_in", cIn);
        positive(p, "c_hidden", cHidden);
        positive(p, "c_s1", cS1);
        positive(p, "c_s2", cS2);
        if (kind == Kind.STATIC) positive(p, "c_s3", cS3);
        positive(p, "num_classes", numClasses);
        positive(p, "h_hidden", hHidden);
        positive(p, "w_hidden", wHidden);
        positive(p, "kernel_size_x", kernelSizeX);
        positive(p, "kernel_size_s", kernelSizeS);
        positive(p, "stride_x", strideX);
        if (timeStep < 1) throw new IllegalArgumentException(p + "time_step (T) must be >= 1, found " + timeStep);
        if (threshold < 0) throw new IllegalArgumentException(p + "threshold (Broyden iterations) must be >= 0, found " + threshold);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException(p + "dropout must be in [0, 1), found " + dropout);
        if (!(vth > 0)) throw new IllegalArgumentException(p + "vth must be > 0, found " + vth);
        if (!(leaky > 0 && leaky <= 1))
            throw new IllegalArgumentException(p + "leaky (λ) must be in (0, 1], found " + leaky);
        if ((float) leaky == 1.0f && options.unitLeak() == UnitLeak.REJECT)
            throw new IllegalArgumentException(p + "leaky = 1 (pure IF) makes the reference's read-out weight "
                    + "(1 − λ^T)/(1 − λ) = 0/0 = NaN. Fix: use λ < 1, or set unit_leak: count to define w(T) = T");
        if (solver != null && !solver.equals("broy"))
            throw new IllegalArgumentException(p + "solver must be 'broy' (the reference's only working solver), found '" + solver + "'");
        if (poolingX)
            throw new IllegalArgumentException(p + "pooling_x = true is not supported: the reference's dropout masks and "
                    + "classifier width assume un-pooled maps (it only runs with dropout 0 and a hand-fixed h_hidden)");
        if (kernelSizeS % 2 == 0)
            throw new IllegalArgumentException(p + "kernel_size_s must be odd (padding (k−1)/2 keeps the map size), found " + kernelSizeS);
        int layerWidth = kind == Kind.STATIC ? cS1 : cHidden;
        if (fusionChannels <= 0) fusionChannels = layerWidth;
        if (fusionChannels != layerWidth)
            throw new IllegalArgumentException(p + "fusion_channels must equal the fused layer width ("
                    + (kind == Kind.STATIC ? "c_s1" : "c_hidden") + " = " + layerWidth + "), found " + fusionChannels);
        int hard = kind == Kind.STATIC ? 256 : 32;
        if (options.strictReference() && layerWidth != hard)
            throw new IllegalArgumentException(p + "strict_reference: the reference hard-codes its fusion conv as Conv2d("
                    + hard + ", " + hard + "), so " + (kind == Kind.STATIC ? "c_s1" : "c_hidden") + " must be " + hard
                    + ", found " + layerWidth + ". Fix: use that width or set strict_reference: false");
        if (inputSize != null) {
            int side = inputSize.length >= 3 ? inputSize[1] : -1;
            int div = kind == Kind.STATIC ? 8 : 4;
            if (side > 0 && (side % div != 0 || side / div != hHidden || inputSize[2] / div != wHidden))
                throw new IllegalArgumentException(p + "input_size " + java.util.Arrays.toString(inputSize) + " needs h_hidden = H/" + div
                        + " and w_hidden = W/" + div + " (H, W multiples of " + div + "), found h_hidden " + hHidden + ", w_hidden " + wHidden);
            if (inputSize[0] != cIn)
                throw new IllegalArgumentException(p + "input_size channels " + inputSize[0] + " != c_in " + cIn);
        }
    }

    /** Channels of the last SNN layer (the head's width): c_s3 (static) / c_s2 (neuro). */
    public int cOut() { return kind == Kind.STATIC ? cS3 : cS2; }

    /** Copy with other switches. */
    public MpisConfig withOptions(Options o) {
        return new MpisConfig(kind, cIn, cHidden, cS1, cS2, cS3, numClasses, kernelSizeX, strideX, paddingX, poolingX,
                kernelSizeS, hHidden, wHidden, dropout, threshold, timeStep, vth, leaky, solver, fusionChannels, inputSize, o);
    }

    /** Copy with another T. */
    public MpisConfig withTimeStep(int t) {
        return new MpisConfig(kind, cIn, cHidden, cS1, cS2, cS3, numClasses, kernelSizeX, strideX, paddingX, poolingX,
                kernelSizeS, hHidden, wHidden, dropout, threshold, t, vth, leaky, solver, fusionChannels, inputSize, options);
    }

    /** Repo default CIFAR-10/100 model ({@code static_data.py}): 128/256/512/1024, h=w=4, T 1, λ 0.999, dropout 0.2. */
    public static MpisConfig cifar(int numClasses) {
        return new MpisConfig(Kind.STATIC, 3, 128, 256, 512, 1024, numClasses, 3, 2, 1, false, 3, 4, 4, 0.2, 30, 1,
                2.0, 0.999, "broy", 256, new int[]{3, 32, 32}, Options.reference());
    }

    /** Repo default N-MNIST model ({@code neuro_data.py}): 32/32/64, h=w=8, T 30, λ 0.95, dropout 0.2. */
    public static MpisConfig nmnist() {
        return new MpisConfig(Kind.NEURO, 2, 32, 32, 64, 0, 10, 3, 2, 1, false, 3, 8, 8, 0.2, 30, 30, 2.0, 0.95,
                "broy", 32, new int[]{2, 32, 32, 30}, Options.reference());
    }

    /** From a fixture's meta.json {@code constructor} (reference names) and optional port switches (snake_case). */
    public static MpisConfig fromConstructor(Map<String, Object> c, Map<String, Object> switches) {
        Object k = c.get("kind");
        Kind kind;
        if ("static".equals(k) || "MPIS_static".equals(c.get("model"))) kind = Kind.STATIC;
        else if ("neuro".equals(k) || "MPIS_neuro".equals(c.get("model"))) kind = Kind.NEURO;
        else throw new IllegalArgumentException("mpis: constructor.kind must be 'static' or 'neuro', found " + k);
        int[] inputSize = null;
        if (c.get("input_size") instanceof List<?> l) inputSize = l.stream().mapToInt(v -> ((Number) v).intValue()).toArray();
        return new MpisConfig(kind, num(c, "c_in", kind == Kind.STATIC ? 3 : 2).intValue(),
                req(c, "c_hidden"), req(c, "c_s1"), req(c, "c_s2"), kind == Kind.STATIC ? req(c, "c_s3") : 0,
                num(c, "num_classes", 10).intValue(), num(c, "kernel_size_x", 3).intValue(),
                num(c, "stride_x", 2).intValue(), num(c, "padding_x", 1).intValue(), bool(c, "pooling_x", false),
                num(c, "kernel_size_s", 3).intValue(), req(c, "h_hidden"), req(c, "w_hidden"),
                num(c, "dropout", 0.0).doubleValue(), num(c, "threshold", 30).intValue(),
                num(c, "time_step", kind == Kind.STATIC ? 1 : 30).intValue(), num(c, "vth", 2.0).doubleValue(),
                num(c, "leaky", kind == Kind.STATIC ? 0.999 : 0.95).doubleValue(),
                c.get("solver") == null ? "broy" : c.get("solver").toString(),
                num(c, "fusion_channels", 0).intValue(), inputSize, Options.fromMap(switches));
    }

    private static void positive(String p, String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(p + name + " must be >= 1, found " + v);
    }

    private static int req(Map<String, Object> c, String k) {
        Object v = c.get(k);
        if (!(v instanceof Number n)) throw new IllegalArgumentException("mpis: constructor." + k + " is required (a number), found " + v);
        return n.intValue();
    }

    static Number num(Map<String, Object> c, String k, Number dflt) {
        Object v = c.get(k);
        if (v == null) return dflt;
        if (!(v instanceof Number n)) throw new IllegalArgumentException("mpis: '" + k + "' must be a number, found " + v);
        return n;
    }

    static boolean bool(Map<String, Object> c, String k, boolean dflt) {
        Object v = c.get(k);
        if (v == null) return dflt;
        if (!(v instanceof Boolean b)) throw new IllegalArgumentException("mpis: '" + k + "' must be true/false, found " + v);
        return b;
    }

    static <E extends Enum<E>> E enumOf(Class<E> cls, Object v, E dflt, String key, String allowed) {
        if (v == null) return dflt;
        String s = v.toString().trim().toUpperCase().replace('-', '_');
        try {
            return Enum.valueOf(cls, s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("mpis: " + key + " must be one of " + allowed + ", found '" + v + "'");
        }
    }
}
