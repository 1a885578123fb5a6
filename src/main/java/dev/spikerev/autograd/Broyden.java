package dev.spikerev.autograd;

import dev.spikerev.tensor.Ops;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import dev.spikerev.tensor.Scopes;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * Limited-memory Broyden root finder for {@code G(x) = 0}, batched: {@code x} and {@code G(x)} are {@code [B, N]}
 * (one system per sample, solved together). It is the "good Broyden" scheme of DEQ / IDE-FSNN / MPIS-SNNs
 * ({@code modules/broyden.py}), written from its description:
 * <pre>
 * x_0 = x0, Δ_0 = −G(x_0)  (reference first step; {@link Options#referenceFirstStep} = false uses +G(x_0))
 * x_{n+1} = x_n + Δ_n                       (no line search)
 * inverse-Jacobian estimate H_n = −I + Σ_j u_j v_jᵀ  (at most {@code memory} pairs, ring buffer), per sample:
 *   v = H_nᵀ Δx,  u = (Δx − H_n ΔG) / (vᵀ ΔG),  NaN → 0
 * Δ_{n+1} = −H_{n+1} G(x_{n+1})
 * </pre>
 * Stops when the global residual {@code |G(x)|} (Frobenius norm over the whole batch) drops below
 * {@code max(eps, rtol·|G(x_0)|)}, after {@code maxIter} evaluations, on a protective break
 * ({@code |G| > protect·|G(x_0)|}), or when the residual is below {@code 3·eps} and has been flat (max/min &lt; 1.3)
 * over the last 30 iterations. Returns the lowest-residual iterate seen (possibly {@code x0}). {@code G} may use autograd internally
 * (e.g. a vector-Jacobian product); its result is detached. Memory: {@code 2·memory·B·N} plus a few
 * {@code [B, N]} tensors, independent of the number of iterations.
 */
public final class Broyden {
    private Broyden() {}

    /**
     * @param maxIter            iteration limit (the reference's {@code threshold}, 30)
     * @param eps                absolute tolerance on the global residual norm
     * @param rtol               relative tolerance ({@code |G| ≤ rtol·|G(x0)|} also converges; 0 = off)
     * @param memory             stored rank-one pairs (the reference: {@code min(threshold, 27)})
     * @param referenceFirstStep first update {@code −G(x0)} as upstream (sign quirk inherited from DEQ)
     * @param protect            protective-break factor on the initial residual (upstream 1e6)
     */
    public record Options(int maxIter, double eps, double rtol, int memory, boolean referenceFirstStep, double protect) {
        public Options {
            if (maxIter < 0) throw new IllegalArgumentException("broyden: maxIter must be >= 0, found " + maxIter);
            if (!(eps >= 0) || !(rtol >= 0)) throw new IllegalArgumentException("broyden: eps/rtol must be >= 0, found " + eps + "/" + rtol);
            if (memory < 1) throw new IllegalArgumentException("broyden: memory must be >= 1, found " + memory);
        }

        /** The reference's settings for {@code threshold} iterations and an absolute {@code eps}. */
        public static Options reference(int threshold, double eps) {
            return new Options(threshold, eps, 0.0, Math.max(1, Math.min(threshold, 27)), true, 1e6);
        }

        public Options withRtol(double r) { return new Options(maxIter, eps, r, memory, referenceFirstStep, protect); }
    }

    /**
     * Outcome of a solve.
     *
     * @param x               lowest-residual iterate, {@code [B, N]}
     * @param residual        {@code |G(x)|} of that iterate
     * @param initialResidual {@code |G(x0)|}
     * @param iterations      iterations run (evaluations of G minus one)
     * @param lowestStep      iteration that produced {@code x} (0 = the initial guess)
     * @param converged       whether {@code residual} met the tolerance
     * @param protectiveBreak whether the residual blew up past the protective factor
     * @param trace           residual after every iteration (index 0 = initial)
     */
    public record Result(Tensor x, double residual, double initialResidual, int iterations, int lowestStep,
                         boolean converged, boolean protectiveBreak, double[] trace, double tolerance) {
        public double relativeResidual() { return initialResidual == 0 ? residual : residual / initialResidual; }

        @Override public String toString() {
            return String.format("Broyden[%s, residual %.3e (relative %.3e, tol %.3e), %d iterations, lowest at %d%s]",
                    converged ? "converged" : "NOT converged", residual, relativeResidual(), tolerance, iterations,
                    lowestStep, protectiveBreak ? ", protective break" : "");
        }
    }

    /** Solves {@code g(x) = 0} from {@code x0} ({@code [B, N]}); {@code x0} stays owned by the caller. */
    public static Result solve(UnaryOperator<Tensor> g, Tensor x0, Options o) {
        if (x0.dim() != 2) throw new IllegalArgumentException("broyden: x0 must be [B, N], found dim " + x0.dim());
        long b = x0.size(0), n = x0.size(1);
        int mem = o.memory();
        Tensor us = zeros(new long[]{b, n, mem}, x0.options()); // x0's dtype and device
        Tensor vts = zeros(new long[]{b, mem, n}, x0.options());
        Tensor x = x0;
        Tensor gx = eval(g, x0);
        double init = norm(gx);
        double tol = Math.max(o.eps(), o.rtol() * init);
        List<Double> trace = new ArrayList<>();
        trace.add(init);
        double lowest = init, current = init;
        Tensor lowestX = x0;
        int lowestStep = 0, nstep = 0;
        boolean prot = false;
        Tensor update = o.referenceFirstStep() ? gx.neg() : gx.clone();
        while (current >= tol && nstep < o.maxIter()) {
            final Tensor xc = x, gc = gx, upd = update;
            Tensor[] st = Scopes.keep(() -> {
                Tensor xn = xc.add(upd);
                Tensor gn = eval(g, xn);
                return new Tensor[]{xn, gn, gn.sub(gc)};
            });
            if (x != x0) x.close();
            gx.close();
            x = st[0];
            gx = st[1];
            final Tensor dx = update, dg = st[2];
            nstep++;
            current = norm(gx);
            trace.add(current);
            if (current < lowest) {
                lowest = current;
                if (lowestX != x0) lowestX.close();
                lowestX = new Tensor(x);
                lowestStep = nstep;
            }
            if (current < tol) break;
            if (current < 3 * o.eps() && nstep > 30 && flat(trace)) break;
            if (current > init * o.protect() || !Double.isFinite(current)) {
                prot = true;
                break;
            }
            final int k = Math.min(nstep - 1, mem), slot = (nstep - 1) % mem, kNext = Math.min(nstep, mem);
            final Tensor gNow = gx;
            update = Scopes.keepOne(() -> {
                Tensor vT = rmatvec(us, vts, k, dx);
                Tensor denom = vT.mul(dg).sum(new long[]{1}, true, new ScalarTypeOptional());
                Tensor u = dx.sub(matvec(us, vts, k, dg)).div(denom);
                vts.select(1, slot).copy_(zeroNaN(vT));
                us.select(2, slot).copy_(zeroNaN(u));
                return matvec(us, vts, kNext, gNow).neg();
            });
            dx.close();
            dg.close();
        }
        double[] tr = trace.stream().mapToDouble(Double::doubleValue).toArray();
        if (lowestX == x0) lowestX = x0.clone();
        return new Result(lowestX, lowest, init, nstep, lowestStep, lowest < tol, prot, tr, tol);
    }

    private static Tensor zeroNaN(Tensor t) {
        return t.masked_fill(t.isnan(), Ops.s(0.0));
    }

    private static Tensor eval(UnaryOperator<Tensor> g, Tensor x) {
        return g.apply(x).detach();
    }

    /** {@code −x + (x U) Vᵀ} with the first {@code k} pairs (x as a row vector per sample). */
    private static Tensor rmatvec(Tensor us, Tensor vts, int k, Tensor x) {
        if (k == 0) return x.neg();
        Tensor xu = bmm(x.unsqueeze(1), us.narrow(2, 0, k));               // [B, 1, k]
        return x.neg().add(bmm(xu, vts.narrow(1, 0, k)).squeeze(1));
    }

    /** {@code −x + U (Vᵀ x)} with the first {@code k} pairs. */
    private static Tensor matvec(Tensor us, Tensor vts, int k, Tensor x) {
        if (k == 0) return x.neg();
        Tensor vx = bmm(vts.narrow(1, 0, k), x.unsqueeze(2));              // [B, k, 1]
        return x.neg().add(bmm(us.narrow(2, 0, k), vx).squeeze(2));
    }

    private static double norm(Tensor t) {
        try (PointerScope ps = new PointerScope()) {
            return t.norm().item_double();
        }
    }

    private static boolean flat(List<Double> trace) {
        int n = trace.size();
        double mx = 0, mn = Double.MAX_VALUE;
        for (int i = Math.max(0, n - 30); i < n; i++) {
            mx = Math.max(mx, trace.get(i));
            mn = Math.min(mn, trace.get(i));
        }
        return mn > 0 && mx / mn < 1.3;
    }
}
