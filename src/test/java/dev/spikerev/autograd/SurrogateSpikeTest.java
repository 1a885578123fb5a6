package dev.spikerev.autograd;

import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.tensor.Natives;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SurrogateSpikeTest {

    static final List<Surrogate> ALL = List.of(Surrogate.sigmoid(), Surrogate.sigmoid(2.5), Surrogate.atan(),
            Surrogate.atan(3.0), Surrogate.rectangular(), Surrogate.rectangular(0.5), Surrogate.triangle(),
            Surrogate.triangle(0.25));

    @BeforeAll
    static void init() {
        Natives.setThreads(1);
    }

    /** Random points plus the special ones: 0 exactly, ±width/2, ±gamma, tiny values. */
    static Tensor inputs(Surrogate sg, ScalarType dtype) {
        manual_seed(7);
        Tensor r = randn(4000).mul(new Scalar(1.5));
        double[] special = {0.0, -0.0, 1e-8, -1e-8, 0.5, -0.5, 0.25, -0.25, 0.125, -0.125, 1.0, -1.0, 2.0, -2.0};
        Tensor s = AbstractTensor.create(special);
        Tensor x = cat(new TensorVector(r.to(ScalarType.Double), s)).to(dtype);
        return x;
    }

    static double maxAbs(Tensor a, Tensor b) {
        return a.to(ScalarType.Double).sub(b.to(ScalarType.Double)).abs().max().item_double();
    }

    /** The in-place derivative (what the multi-step neurons use) has exactly grad()'s bits, for every surrogate. */
    @Test
    void gradInPlaceEqualsGradBitForBit() {
        for (ScalarType dt : new ScalarType[] {ScalarType.Float, ScalarType.Double}) {
            for (Surrogate sg : ALL) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor x = inputs(sg, dt);
                    Tensor expect = sg.grad(x);
                    Tensor got = sg.gradInPlace(x.clone());
                    assertTrue(got.equal(expect), sg + " " + dt + ": gradInPlace differs from grad by " + maxAbs(got, expect));
                    assertTrue(x.equal(inputs(sg, dt)), sg + ": the argument of grad() is left unchanged");
                }
            }
        }
    }

    @Test
    void forwardIsExactHeavisideAndBackwardIsAnalytic() {
        for (ScalarType dt : new ScalarType[] {ScalarType.Float, ScalarType.Double}) {
            for (Surrogate sg : ALL) {
                for (SurrogateSpike.Mode mode : SurrogateSpike.Mode.values()) {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor x = inputs(sg, dt).requires_grad_(true);
                        Tensor s = SurrogateSpike.apply(x, sg, mode);
                        assertEquals(x.scalar_type().value, s.scalar_type().value, "dtype " + sg + " " + mode);
                        Tensor h = x.detach().ge(new Scalar(0.0)).to(dt);
                        assertTrue(s.detach().equal(h), "forward is not Heaviside for " + sg + " " + mode);
                        manual_seed(3);
                        Tensor gout = randn(x.numel()).to(dt);
                        s.backward(gout, new org.bytedeco.pytorch.BoolOptional(), false,
                                new org.bytedeco.pytorch.TensorArrayRefOptional());
                        Tensor expect;
                        try (NoGradGuard ng = new NoGradGuard()) { expect = gout.mul(sg.grad(x.detach())); }
                        double d = maxAbs(x.grad(), expect);
                        double tol = mode == SurrogateSpike.Mode.PRIMITIVE ? (dt == ScalarType.Float ? 2e-6 : 1e-14) : 0.0;
                        System.out.printf("spike %-22s %-10s %-6s max|dx - g*sg'(x)| = %.3g%n", sg, mode,
                                dt == ScalarType.Float ? "f32" : "f64", d);
                        assertTrue(d <= tol, sg + " " + mode + ": grad diff " + d + " > " + tol);
                    }
                }
            }
        }
        assertEquals(0, SurrogateSpike.pendingHooks(), "every HOOK hook fired");
    }

    @Test
    void primitiveAutogradEqualsAnalyticGrad() {
        for (ScalarType dt : new ScalarType[] {ScalarType.Float, ScalarType.Double}) {
            for (Surrogate sg : ALL) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor x = inputs(sg, dt).requires_grad_(true);
                    sg.primitive(x).sum().backward();
                    double d = maxAbs(x.grad(), sg.grad(x.detach()));
                    double tol = dt == ScalarType.Float ? 2e-6 : 1e-14;
                    System.out.printf("primitive %-22s %s max|d/dx g - g'| = %.3g%n", sg, dt == ScalarType.Float ? "f32" : "f64", d);
                    assertTrue(d <= tol, sg + ": autograd of primitive differs from grad by " + d);
                    // the primitive is a step: 0 far left, 1 far right, 1/2 at 0
                    Tensor p = sg.primitive(AbstractTensor.create(new double[] {-1e6, 0, 1e6}));
                    assertEquals(0.0, p.get(0).item_double(), 1e-6);
                    assertEquals(0.5, p.get(1).item_double(), 1e-12);
                    assertEquals(1.0, p.get(2).item_double(), 1e-6);
                }
            }
        }
    }

    @Test
    void analyticValuesAtSpecialPoints() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = AbstractTensor.create(new double[] {0.0, 0.5, -0.5, 0.49, 1.0, -1.0});
            assertArray(new double[] {1, 4 * sig(2) * (1 - sig(2)), 4 * sig(-2) * (1 - sig(-2)), 4 * sig(1.96) * (1 - sig(1.96)),
                    4 * sig(4) * (1 - sig(4)), 4 * sig(-4) * (1 - sig(-4))}, Surrogate.sigmoid().grad(x));
            assertArray(new double[] {1, 1 / (1 + Math.pow(Math.PI / 2, 2)), 1 / (1 + Math.pow(Math.PI / 2, 2)),
                    1 / (1 + Math.pow(Math.PI * 0.49, 2)), 1 / (1 + Math.PI * Math.PI), 1 / (1 + Math.PI * Math.PI)},
                    Surrogate.atan().grad(x));
            // width 1: open interval (−0.5, 0.5)
            assertArray(new double[] {1, 0, 0, 1, 0, 0}, Surrogate.rectangular().grad(x));
            assertArray(new double[] {1, 1, 1, 1, 0, 0}, Surrogate.rectangular(2.0).grad(x).mul(new Scalar(2.0)));
            assertArray(new double[] {1, 0.5, 0.5, 0.51, 0, 0}, Surrogate.triangle().grad(x));
            assertArray(new double[] {2, 0, 0, 0.04, 0, 0}, Surrogate.triangle(0.5).grad(x));
        }
    }

    static double sig(double v) { return 1 / (1 + Math.exp(-v)); }

    static void assertArray(double[] expect, Tensor t) {
        assertEquals(expect.length, t.numel());
        for (int i = 0; i < expect.length; i++)
            assertEquals(expect[i], t.get(i).item_double(), 1e-12, "element " + i);
    }

    @Test
    void parseAndOf() {
        assertEquals(Surrogate.sigmoid(4.0), Surrogate.parse("sigmoid"));
        assertEquals(Surrogate.sigmoid(4.0), Surrogate.parse("sigmoid:alpha=4"));
        assertEquals(Surrogate.atan(2.0), Surrogate.parse(" ATan "));
        assertEquals(Surrogate.atan(3.0), Surrogate.parse("atan:alpha=3"));
        assertEquals(Surrogate.rectangular(0.5), Surrogate.parse("rectangular:width=0.5"));
        assertEquals(Surrogate.rectangular(1.0), Surrogate.parse("rect"));
        assertEquals(Surrogate.triangle(0.5), Surrogate.parse("triangle:gamma=0.5"));
        assertEquals(Surrogate.triangle(2.0), Surrogate.of("piecewise_quadratic", Map.of("gamma", 2.0)));
        for (Surrogate s : ALL) assertEquals(s, Surrogate.parse(s.spec()), "round trip " + s.spec());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Surrogate.parse("erf"));
        assertTrue(e.getMessage().contains("[sigmoid, atan, rectangular, triangle]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Surrogate.parse("sigmoid:beta=1"));
        assertTrue(e.getMessage().contains("allowed: [alpha]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Surrogate.parse("atan:alpha=x"));
        assertTrue(e.getMessage().contains("must be a number"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Surrogate.parse("triangle:gamma=0"));
        assertTrue(e.getMessage().contains("positive"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Surrogate.parse(""));
        assertThrows(IllegalArgumentException.class, () -> Surrogate.parse("sigmoid:alpha"));
    }

    @Test
    void noGraphWithoutGrad() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = randn(10);
            Tensor s = SurrogateSpike.apply(x, Surrogate.atan());
            assertFalse(s.requires_grad());
            Tensor xr = randn(10).requires_grad_(true);
            try (NoGradGuard ng = new NoGradGuard()) {
                assertFalse(SurrogateSpike.apply(xr, Surrogate.atan(), SurrogateSpike.Mode.HOOK).requires_grad());
            }
            assertEquals(0, SurrogateSpike.pendingHooks());
        }
    }

    @Test
    void quantizerForwardAndGate() {
        try (PointerScope scope = new PointerScope()) {
            double[] v = {-1.0, -1e-7, 0.0, 0.25, 0.4999999, 0.5, 0.5000001, 0.75, 1.0, 1.0000001, 2.0};
            double[] fwd = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
            double[] gate = {0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0};
            for (ScalarType dt : new ScalarType[] {ScalarType.Float, ScalarType.Double}) {
                Tensor x = AbstractTensor.create(v).to(dt).requires_grad_(true);
                Tensor s = StraightThrough.quantize(x);
                assertEquals(dt.value, s.scalar_type().value);
                Tensor gout = AbstractTensor.create(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}).to(dt);
                s.backward(gout, new org.bytedeco.pytorch.BoolOptional(), false,
                        new org.bytedeco.pytorch.TensorArrayRefOptional());
                for (int i = 0; i < v.length; i++) {
                    // 0.4999999 and 0.5000001 are not representable exactly in f32 but stay on their side of 0.5
                    assertEquals(fwd[i], s.get(i).item_double(), 0.0, "forward at " + v[i]);
                    assertEquals(gate[i] * (i + 1), x.grad().get(i).item_double(), 0.0, "grad at " + v[i]);
                }
                // eval: round half to even -> 0.5 gives 0
                Tensor e = StraightThrough.quantizeEval(x.detach());
                assertEquals(0.0, e.get(5).item_double());
                assertEquals(1.0, e.get(6).item_double());
                assertFalse(e.requires_grad());
            }
            // generic gate with a custom forward value
            Tensor x = AbstractTensor.create(new double[] {-1, 0, 1, 2, 3}).requires_grad_(true);
            Tensor out = StraightThrough.rectGated(x, 0.0, 2.0, x.detach().mul(new Scalar(10.0)));
            assertArray(new double[] {-10, 0, 10, 20, 30}, out.detach());
            out.sum().backward();
            assertArray(new double[] {0, 1, 1, 1, 0}, x.grad());
        }
    }
}
