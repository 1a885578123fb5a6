package dev.spikerev.models.mpis;

import dev.spikerev.autograd.Broyden;
import dev.spikerev.autograd.FixedPointAdjoint;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static dev.spikerev.models.mpis.MpisAssert.*;
import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The implicit gradient against finite differences of the loss through the exact fixed point (float64, tiny
 * fixture model, all BNs in eval: spec 6.3 (c)), the Broyden solver on a linear system with a known solution,
 * and the behaviour when Broyden does not converge.
 */
class MpisImplicitGradientTest {
    @BeforeAll
    static void threads() { Natives.setThreads(2); }

    static final String[] CHECKED = {"network_x.conv.weight", "network_x.bn.bias", "network_s_1.conv.weight",
            "network_s_2.bn.weight", "Trans.convT.weight", "network_s_n_1.conv.weight", "network_s_n_2.conv.bias",
            "Trans_n.convT.weight", "network_x_n.bn.bias", "downsample_init.0.weight", "downsample_init.4.bias",
            "downsamp.0.weight", "classifier.weight"};

    /** Float64 fixture model (static), eval mode, with the given gradient mode. */
    private static MPISNet model64(MpisConfig.Gradient g) {
        MpisConfig.Options o = MpisConfig.Options.reference().withGradient(g).withBroyden(Double.NaN, 1e-11);
        MPISNet net = MpisFixture.load("static_cifar_small").model(o);
        net.to(ScalarType.Double, false);
        net.train(false);
        return net;
    }

    /** Fixed point of a ↦ f(a, x) by plain iteration (f contracts strongly here: ρ(J) ≈ 0.01–0.02). */
    private static Tensor[] fixedPoint(MPISNet net, Tensor x, Tensor[] start) {
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor[] a = start;
            for (int i = 0; i < 40; i++) {
                Tensor[] prev = a;
                a = net.applyEquivalent(x, a);
                if (i == 39) {
                    double d = Math.max(a[0].sub(prev[0]).abs().max().item_double(), a[1].sub(prev[1]).abs().max().item_double());
                    assertTrue(d < 1e-13, "fixed-point iteration did not converge: " + d);
                }
            }
            return a;
        }
    }

    private static double loss(MPISNet net, Tensor x, Tensor y, Tensor[] start) {
        try (PointerScope ps = new PointerScope()) {
            Tensor[] a = fixedPoint(net, x, start);
            try (NoGradGuard ng = new NoGradGuard()) {
                return cross_entropy(net.forwardFromEquilibrium(x, a), y).item_double();
            }
        }
    }

    /** Gradients of the fixed-point loss from the model's backward (implicit or one-step). */
    private static Map<String, Tensor> gradients(MPISNet net, Tensor x, Tensor y, Tensor[] start) {
        Tensor[] a = fixedPoint(net, x, start);
        net.zero_grad(true);
        Tensor loss = cross_entropy(net.forwardFromEquilibrium(x, a), y);
        net.backward(loss);
        Map<String, Tensor> sd = net.namedParameters(), out = new LinkedHashMap<>();
        for (String k : CHECKED) out.put(k, new Tensor(sd.get(k).grad()).clone());
        return out;
    }

    @Test
    void implicitGradientMatchesFiniteDifferencesThroughTheFixedPoint() {
        MpisFixture f = MpisFixture.load("static_cifar_small");
        try (PointerScope ps = new PointerScope()) {
            Tensor x = f.tensor("io/input").to(ScalarType.Double), y = f.tensor("io/target");
            MPISNet imp = model64(MpisConfig.Gradient.IMPLICIT), one = model64(MpisConfig.Gradient.ONE_STEP);
            Tensor[] start;
            try (NoGradGuard ng = new NoGradGuard()) {
                imp.forward(x);
                start = imp.lastEquilibrium();                                  // simulation a* as the starting point
            }
            Map<String, Tensor> gi = gradients(imp, x, y, start), g1 = gradients(one, x, y, start);
            Broyden.Result[] r = imp.lastSolve();
            Map<String, Tensor> params = imp.namedParameters();
            manual_seed(7);
            double eps = 1e-6, worstImplicit = 0, worstOneStepImplicitPart = 0;
            List<String> lines = new ArrayList<>();
            for (String k : CHECKED) {
                Tensor p = params.get(k);
                Tensor d = randn(p.sizes().vec().get(), new GeneratorOptional(), new org.bytedeco.pytorch.TensorOptions(ScalarType.Double));
                double fd;
                try (NoGradGuard ng = new NoGradGuard()) {
                    p.add_(d, new org.bytedeco.pytorch.Scalar(eps));
                    double lp = loss(imp, x, y, start);
                    p.sub_(d, new org.bytedeco.pytorch.Scalar(2 * eps));
                    double lm = loss(imp, x, y, start);
                    p.add_(d, new org.bytedeco.pytorch.Scalar(eps));
                    fd = (lp - lm) / (2 * eps);
                }
                double an = gi.get(k).mul(d).sum().item_double(), os = g1.get(k).mul(d).sum().item_double();
                double errI = Math.abs(an - fd) / Math.max(Math.abs(fd), 1e-12), errO = Math.abs(os - fd) / Math.max(Math.abs(fd), 1e-12);
                worstImplicit = Math.max(worstImplicit, errI);
                if (!k.startsWith("downsamp.") && !k.startsWith("classifier")) worstOneStepImplicitPart = Math.max(worstOneStepImplicitPart, errO);
                lines.add(String.format("%s fd %.6e implicit rel.err %.1e one-step rel.err %.1e", k, fd, errI, errO));
                assertTrue(errI <= 1e-3, k + ": implicit directional derivative " + an + " vs finite differences " + fd + " (rel. error " + errI + ")");
            }
            lines.forEach(l -> report("fd " + l));
            report(String.format("implicit gradient vs central differences (float64, eps %.0e, %d tensors): worst rel. error %.2e; "
                    + "one-step gradient on the implicit part: worst rel. error %.2e; Broyden: %s / %s",
                    eps, CHECKED.length, worstImplicit, worstOneStepImplicitPart, r[0], r[1]));
            assertTrue(worstOneStepImplicitPart > 10 * worstImplicit, "the check must discriminate one-step from implicit gradients");
        }
    }

    @Test
    void adjointSolvesTheLinearSystem() {
        try (PointerScope ps = new PointerScope()) {
            manual_seed(3);
            org.bytedeco.pytorch.TensorOptions dbl = new org.bytedeco.pytorch.TensorOptions(ScalarType.Double);
            long b = 2, n = 60;
            Tensor a = randn(new long[]{b, n, n}, new GeneratorOptional(), dbl).mul(new org.bytedeco.pytorch.Scalar(0.5 / Math.sqrt(n)));
            Tensor g = randn(new long[]{b, n}, new GeneratorOptional(), dbl);
            java.util.function.UnaryOperator<Tensor> vjp = v -> bmm(v.unsqueeze(1), a).squeeze(1);        // v A
            FixedPointAdjoint.Solution s = FixedPointAdjoint.solve(vjp, g, Broyden.Options.reference(60, 1e-12));
            Tensor eye = eye(n, dbl).unsqueeze(0).expand(new long[]{b, n, n});
            // u (I − A) = g  <=>  (I − A)ᵀ uᵀ = gᵀ
            Tensor exact = linalg_solve(eye.sub(a).transpose(1, 2), g.unsqueeze(2)).squeeze(2);
            double err = s.u().sub(exact).norm().item_double() / exact.norm().item_double();
            double res = FixedPointAdjoint.relativeResidual(vjp, s.u(), g);
            report(String.format("Broyden on u(I−A)=g (B=2, N=60, |A|≈0.5): rel. error %.2e, residual %.2e, %s", err, res, s.info()));
            assertTrue(s.info().converged());
            assertTrue(err < 1e-9, "error " + err);
            assertTrue(res < 1e-10, "residual " + res);
        }
    }

    @Test
    void nonConvergenceWarnsAndKeepsGradientsFinite() {
        MpisFixture f = MpisFixture.load("static_cifar_small");
        for (int iters : new int[]{1, 2}) {
            try (PointerScope ps = new PointerScope()) {
                Map<String, Object> c = new LinkedHashMap<>(f.constructor());
                c.put("threshold", iters);
                MpisConfig cfg = MpisConfig.fromConstructor(c, Map.of("gradient", "implicit", "broyden_eps", 0.0, "broyden_rtol", 0.0));
                MPISNet net = new MPISNet(cfg);
                StateDictIO.loadStateDict(net, f.group("model"), true);
                List<String> warnings = new ArrayList<>();
                net.onWarning(warnings::add);
                net.train(true);
                Tensor loss = cross_entropy(net.forward(f.tensor("io/input")), f.tensor("io/target"));
                net.backward(loss);
                assertFalse(warnings.isEmpty(), "expected a non-convergence warning");
                assertTrue(warnings.get(0).contains("did not converge"), warnings.get(0));
                Map<String, Tensor> sd = net.namedParameters();
                int n = 0;
                for (String k : f.group("io/grads").keySet()) {
                    Tensor g = sd.get(k).grad();
                    assertTrue(g.defined(), k);
                    assertTrue(isfinite(g).all().item_bool(), k + " has non-finite gradient entries");
                    n++;
                }
                Broyden.Result r = net.lastSolve()[0];
                assertFalse(r.converged());
                report("threshold " + iters + ": " + warnings.get(0) + " | " + n + " gradients finite");
                if (r.lowestStep() == 0) {   // fell back to the one-step gradient: equals the faithful grads
                    double[] t = f.tol("grads");
                    close("fallback grads == one-step grads", sd.get("network_s_1.conv.weight").grad(),
                            f.tensor("io/grads/network_s_1.conv.weight"), t[0], t[1]);
                }
            }
        }
    }
}
