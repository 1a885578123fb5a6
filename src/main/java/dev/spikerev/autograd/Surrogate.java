package dev.spikerev.autograd;

import static org.bytedeco.pytorch.global.torch.hardtanh;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * A surrogate gradient for the Heaviside spike: an immutable value holding its shape parameter.
 *
 * <p>Each surrogate is a pair of functions of the (threshold-shifted) membrane potential {@code x}:
 * {@link #primitive(Tensor)} is a smooth step {@code g(x)} and {@link #grad(Tensor)} is its analytic derivative
 * {@code g'(x)}, used as the backward of the spike (see {@link SurrogateSpike}). Both are differentiable libtorch
 * expressions of the same dtype as {@code x}; autograd of {@code primitive} equals {@code grad} (checked by the tests).
 *
 * <table>
 * <caption>Surrogates (SpikingJelly names in brackets)</caption>
 * <tr><th>name</th><th>g'(x)</th><th>g(x)</th><th>default</th></tr>
 * <tr><td>{@code sigmoid} [Sigmoid]</td><td>alpha·s·(1−s), s = σ(alpha·x)</td><td>σ(alpha·x)</td><td>alpha = 4</td></tr>
 * <tr><td>{@code atan} [ATan]</td><td>(alpha/2) / (1 + (π/2·alpha·x)²)</td><td>atan(π/2·alpha·x)/π + 1/2</td>
 *     <td>alpha = 2</td></tr>
 * <tr><td>{@code rectangular} [Rect, alpha = 1/width]</td><td>(1/width)·[|x| &lt; width/2] (open interval)</td>
 *     <td>hardtanh(x/width, −1/2, 1/2) + 1/2</td><td>width = 1</td></tr>
 * <tr><td>{@code triangle} [PiecewiseQuadratic, alpha = 1/gamma]</td><td>(1/gamma)²·max(0, gamma − |x|)</td>
 *     <td>0 below −gamma, 1 above gamma, else 1/2 + u/gamma − u·|u|/(2·gamma²)</td><td>gamma = 1</td></tr>
 * </table>
 *
 * <p>The rectangle uses SpikingJelly's {@code rect_backward}: {@code alpha * (|x| < 0.5/alpha)}, i.e. the boundary
 * {@code |x| = width/2} gets gradient 0. Both {@code grad} and {@code primitive} evaluate the indicator on
 * {@code u = x/width} ({@code |u| < 1/2}) so that they agree bit for bit, including at the boundary.
 *
 * <p>Select by name with {@link #parse(String)} ({@code "atan"}, {@code "sigmoid:alpha=4"},
 * {@code "rectangular:width=0.5"}) or {@link #of(String, Map)}.
 */
public sealed interface Surrogate permits Surrogate.Sigmoid, Surrogate.ATan, Surrogate.Rectangular, Surrogate.Triangle {

    /** Canonical names accepted by {@link #parse(String)} and {@link #of(String, Map)}. */
    List<String> NAMES = List.of("sigmoid", "atan", "rectangular", "triangle");

    /** The analytic surrogate derivative g'(x), elementwise, same dtype and shape as {@code x}. */
    Tensor grad(Tensor x);

    /**
     * {@link #grad} computed in {@code x}'s own memory where the surrogate can (same ops in the same order, so the
     * same bits), returning {@code x} or a new tensor; {@code x} must be a temporary the caller does not read again.
     */
    default Tensor gradInPlace(Tensor x) {
        Tensor r = grad(x);
        x.close();
        return r;
    }

    /** The smooth step g(x) whose derivative is {@link #grad(Tensor)}; differentiable by autograd. */
    Tensor primitive(Tensor x);

    /** Canonical lower-case name ({@code sigmoid}, {@code atan}, {@code rectangular}, {@code triangle}). */
    String name();

    /** Shape parameters by name, e.g. {@code {alpha=4.0}}. */
    Map<String, Double> params();

    /** A spec string that {@link #parse(String)} maps back to an equal surrogate, e.g. {@code sigmoid:alpha=4.0}. */
    default String spec() {
        StringBuilder sb = new StringBuilder(name());
        String sep = ":";
        for (Map.Entry<String, Double> e : params().entrySet()) {
            sb.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = ",";
        }
        return sb.toString();
    }

    static Surrogate sigmoid() { return new Sigmoid(4.0); }
    static Surrogate sigmoid(double alpha) { return new Sigmoid(alpha); }
    static Surrogate atan() { return new ATan(2.0); }
    static Surrogate atan(double alpha) { return new ATan(alpha); }
    static Surrogate rectangular() { return new Rectangular(1.0); }
    static Surrogate rectangular(double width) { return new Rectangular(width); }
    static Surrogate triangle() { return new Triangle(1.0); }
    static Surrogate triangle(double gamma) { return new Triangle(gamma); }

    /**
     * Parses {@code name[:key=value[,key=value]]}, e.g. {@code "atan"}, {@code "sigmoid:alpha=4"}.
     * Missing parameters take the defaults. Throws {@link IllegalArgumentException} naming the allowed values.
     */
    static Surrogate parse(String spec) {
        if (spec == null || spec.isBlank())
            throw new IllegalArgumentException("surrogate spec is empty; expected one of " + NAMES
                    + ", optionally with parameters, e.g. 'sigmoid:alpha=4'");
        String s = spec.trim();
        int colon = s.indexOf(':');
        String name = colon < 0 ? s : s.substring(0, colon);
        Map<String, Double> params = new LinkedHashMap<>();
        if (colon >= 0) {
            for (String kv : s.substring(colon + 1).split(",")) {
                if (kv.isBlank()) continue;
                int eq = kv.indexOf('=');
                if (eq < 0)
                    throw new IllegalArgumentException("surrogate '" + spec + "': parameter '" + kv.trim()
                            + "' is not key=value; e.g. 'sigmoid:alpha=4'");
                String key = kv.substring(0, eq).trim();
                String val = kv.substring(eq + 1).trim();
                try {
                    params.put(key, Double.parseDouble(val));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("surrogate '" + spec + "': parameter " + key
                            + " must be a number, found '" + val + "'");
                }
            }
        }
        return of(name, params);
    }

    /**
     * Builds a surrogate by name (case-insensitive; aliases {@code rect} and {@code piecewise_quadratic}) with the given
     * parameters; absent parameters take the defaults. Unknown names or parameter keys and non-positive values throw
     * {@link IllegalArgumentException} that lists the allowed values.
     */
    static Surrogate of(String name, Map<String, Double> params) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        Map<String, Double> p = params == null ? Map.of() : params;
        switch (n) {
            case "sigmoid": return new Sigmoid(param(n, p, "alpha", 4.0));
            case "atan": return new ATan(param(n, p, "alpha", 2.0));
            case "rectangular": case "rect": return new Rectangular(param("rectangular", p, "width", 1.0));
            case "triangle": case "piecewise_quadratic": return new Triangle(param("triangle", p, "gamma", 1.0));
            default:
                throw new IllegalArgumentException("unknown surrogate '" + name + "'; allowed: " + NAMES
                        + " (e.g. 'sigmoid:alpha=4', 'atan:alpha=2', 'rectangular:width=1', 'triangle:gamma=1')");
        }
    }

    private static double param(String surrogate, Map<String, Double> p, String key, double dflt) {
        for (String k : p.keySet())
            if (!k.equals(key))
                throw new IllegalArgumentException("surrogate " + surrogate + ": unknown parameter '" + k
                        + "'; allowed: [" + key + "]");
        Double v = p.get(key);
        return v == null ? dflt : v;
    }

    private static void requirePositive(String surrogate, String key, double v) {
        if (!(v > 0) || Double.isInfinite(v))
            throw new IllegalArgumentException("surrogate " + surrogate + ": " + key
                    + " must be a positive finite number, found " + v);
    }

    /** SpikingJelly {@code Sigmoid}: g'(x) = alpha·s·(1−s), s = σ(alpha·x). */
    record Sigmoid(double alpha) implements Surrogate {
        public Sigmoid { requirePositive("sigmoid", "alpha", alpha); }
        @Override public Tensor grad(Tensor x) {
            Tensor ax = x.mul(new Scalar(alpha));
            Tensor s = ax.sigmoid();
            ax.close();
            Tensor oneMinus = s.neg();
            oneMinus.add_(new Scalar(1.0));
            Tensor r = s.mul(oneMinus);
            s.close(); oneMinus.close();
            r.mul_(new Scalar(alpha));
            return r;
        }
        @Override public Tensor gradInPlace(Tensor x) {
            x.mul_(new Scalar(alpha));
            x.sigmoid_();
            Tensor oneMinus = x.neg();
            oneMinus.add_(new Scalar(1.0));
            x.mul_(oneMinus);
            oneMinus.close();
            x.mul_(new Scalar(alpha));
            return x; // the owning handle (an in-place op's return value is a non-owning view of it)
        }
        @Override public Tensor primitive(Tensor x) {
            Tensor ax = x.mul(new Scalar(alpha));
            Tensor p = ax.sigmoid();
            ax.close();
            return p;
        }
        @Override public String name() { return "sigmoid"; }
        @Override public Map<String, Double> params() { return Map.of("alpha", alpha); }
        @Override public String toString() { return spec(); }
    }

    /** SpikingJelly {@code ATan}: g'(x) = (alpha/2) / (1 + (π/2·alpha·x)²). */
    record ATan(double alpha) implements Surrogate {
        public ATan { requirePositive("atan", "alpha", alpha); }
        @Override public Tensor grad(Tensor x) {
            Tensor u = x.mul(new Scalar(Math.PI / 2 * alpha));
            Tensor den = u.mul(u);
            u.close();
            den.add_(new Scalar(1.0));
            Tensor r = den.reciprocal();
            den.close();
            r.mul_(new Scalar(alpha / 2));
            return r;
        }
        @Override public Tensor gradInPlace(Tensor x) {
            x.mul_(new Scalar(Math.PI / 2 * alpha));
            x.mul_(x);
            x.add_(new Scalar(1.0));
            x.reciprocal_();
            x.mul_(new Scalar(alpha / 2));
            return x;
        }
        @Override public Tensor primitive(Tensor x) {
            Tensor u = x.mul(new Scalar(Math.PI / 2 * alpha));
            Tensor a = u.atan();
            u.close();
            Tensor r = a.div(new Scalar(Math.PI));
            a.close();
            r.add_(new Scalar(0.5)); // DivBackward by a scalar saves nothing: in place is safe
            return r;
        }
        @Override public String name() { return "atan"; }
        @Override public Map<String, Double> params() { return Map.of("alpha", alpha); }
        @Override public String toString() { return spec(); }
    }

    /** SpikingJelly {@code Rect} with alpha = 1/width: g'(x) = (1/width)·[|x| &lt; width/2]. */
    record Rectangular(double width) implements Surrogate {
        public Rectangular { requirePositive("rectangular", "width", width); }
        @Override public Tensor grad(Tensor x) {
            Tensor u = x.div(new Scalar(width));
            Tensor au = u.abs();
            u.close();
            Tensor inside = au.lt(new Scalar(0.5));
            au.close();
            Tensor r = inside.to(x.scalar_type());
            inside.close();
            r.div_(new Scalar(width));
            return r;
        }
        @Override public Tensor primitive(Tensor x) {
            // hardtanh's derivative is 1 on the open interval (−1/2, 1/2): the boundary matches grad()
            Tensor u = x.div(new Scalar(width));
            Tensor h = hardtanh(u, new Scalar(-0.5), new Scalar(0.5));
            u.close();
            Tensor r = h.add(new Scalar(0.5));
            h.close();
            return r;
        }
        @Override public String name() { return "rectangular"; }
        @Override public Map<String, Double> params() { return Map.of("width", width); }
        @Override public String toString() { return spec(); }
    }

    /** SpikingJelly {@code PiecewiseQuadratic} with alpha = 1/gamma: g'(x) = (1/gamma)²·max(0, gamma − |x|). */
    record Triangle(double gamma) implements Surrogate {
        public Triangle { requirePositive("triangle", "gamma", gamma); }
        @Override public Tensor grad(Tensor x) {
            Tensor a = x.abs();
            Tensor r = a.neg();
            a.close();
            r.add_(new Scalar(gamma));
            r.relu_();
            r.div_(new Scalar(gamma * gamma));
            return r;
        }
        @Override public Tensor primitive(Tensor x) {
            // u = clamp(x, −γ, γ); g = 1/2 + u/γ − u|u|/(2γ²); g' = (γ − |u|)/γ² inside, 0 outside (and 0 at ±γ)
            Tensor u = hardtanh(x, new Scalar(-gamma), new Scalar(gamma));
            Tensor lin = u.div(new Scalar(gamma));
            Tensor au = u.abs();
            Tensor uq = u.mul(au);
            u.close(); au.close();
            Tensor quad = uq.div(new Scalar(2 * gamma * gamma));
            uq.close();
            Tensor r = lin.sub(quad);
            lin.close(); quad.close();
            r.add_(new Scalar(0.5)); // SubBackward saves nothing: in place is safe
            return r;
        }
        @Override public String name() { return "triangle"; }
        @Override public Map<String, Double> params() { return Map.of("gamma", gamma); }
        @Override public String toString() { return spec(); }
    }
}
