package dev.spikerev.models.mpis;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.autograd.SurrogateSpike;
import dev.spikerev.tensor.Ops;
import dev.spikerev.tensor.Scopes;
import java.util.function.IntFunction;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * The graph-free LIF simulation of an {@link MPISNet} (see its class comment for the dynamics): input currents, the
 * two fused streams over T steps, the read-out {@code a*}; plus the neuromorphic model's frame averages. Reads the
 * network's layers and constants; holds no state between calls except the step count of the last run.
 */
final class MpisSimulation {
    private final MPISNet net;
    private int lastSteps;

    MpisSimulation(MPISNet net) { this.net = net; }

    /** Time steps the last {@link #run} simulated (T, or 1 when the unread steps were skipped). */
    int lastSteps() { return lastSteps; }

    /** {@code a*} per stream ({@code [B, C, H, W]}, spike counts / w(T)) for the prepared input, without autograd. */
    Tensor[] run(MPISNet.Prepared p) {
        return Scopes.keep(() -> p.neuro() ? simulateNeuro(p) : simulateStatic(p));
    }

    private Tensor[] simulateStatic(MPISNet.Prepared p) {
        Tensor zerosN = zeros(new long[]{p.b(), p.feat().size(1), p.h() / 2, p.w() / 2}, p.feat().options());
        Tensor x0 = net.networkX.forward(p.feat(), BnMode.MODULE);          // training: 1st of 2 BN updates per step
        Tensor x1 = net.networkXN.forward(zerosN, BnMode.MODULE);
        Tensor[] cur = {x0, x1};
        return lif(t -> cur);
    }

    /** Neuro: per-frame currents; in training the input-conv BNs use the λ-weighted-average statistics (spec 5.5). */
    private Tensor[] simulateNeuro(MPISNet.Prepared p) {
        int tt = net.config.timeStep();
        Tensor u = p.input().permute(4, 0, 1, 2, 3);                     // [T, B, C, H, W] view
        Tensor zerosN = zeros(new long[]{p.b(), p.input().size(1), p.h() / 2, p.w() / 2}, p.input().options());
        if (!net.networkX.is_training()) {
            return lif(t -> new Tensor[]{net.networkX.forward(u.select(0, t), BnMode.MODULE), net.networkXN.forward(zerosN, BnMode.MODULE)});
        }
        Tensor m = weightedFrameAverage(u);
        Tensor[] st = bnStats(net.networkX.forwardLinear(m));
        Tensor[] stN = bnStats(net.networkXN.forwardLinear(zerosN));     // zeros: mean = conv bias, std = 1e-4
        return lif(t -> new Tensor[]{
                net.networkX.forwardManual(t == tt - 1 ? m : u.select(0, t), st[0], st[1]),
                t == 0 ? net.networkXN.forwardManual(zerosN, stN[0], stN[1])
                        : net.networkXN.forwardManual(zerosN, st[0], st[1])});   // upstream: stream 0's stats for t >= 1
    }

    /** {@code (x[T−1] + λ x[T−2] + … + λ^{T−1} x[0]) / ((1−λ^T)/(1−λ))} in float32 with the tensor λ (in-place upstream). */
    private Tensor weightedFrameAverage(Tensor u) {
        int tt = net.config.timeStep();
        Tensor acc = u.select(0, tt - 1).clone();
        Tensor lk = null;
        for (int t = 0; t < tt - 1; t++) {
            lk = lk == null ? net.lamT.mul(Ops.s(1.0)) : lk.mul(net.lamT);
            acc.add_(u.select(0, tt - 2 - t).mul(lk));
        }
        Tensor num = lk == null ? rsub(net.lamT.mul(Ops.s(1.0)), Ops.s(1.0)) : rsub(lk.mul(net.lamT), Ops.s(1.0));
        Tensor den = rsub(net.lamT, Ops.s(1.0));
        if ((float) net.config.leaky() == 1.0f) return acc.div_(Ops.s(tt));          // unit_leak: count
        return acc.div_(num.div(den));
    }

    /** Batch statistics over (B, H, W): {@code mean}, {@code sqrt(unbiased var + 1e-8)}. */
    private static Tensor[] bnStats(Tensor c) {
        long[] dims = {0, 2, 3};
        Tensor mean = c.mean(dims, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor var = c.var(dims, true, true);
        return new Tensor[]{mean, var.add(Ops.s(1e-8)).sqrt()};
    }

    /**
     * f's stream-0 input for the neuro model (spec 5.5, upstream's in-place accumulation that runs one index too
     * far): {@code x_f = (1 + λ^T)(x'[T−1] + Σ_{i=0}^{T−2} λ^{i+1} x[T−2−i]) / ((1 − λ^{T+1})/(1 − λ))} with the
     * double-precision config λ; {@code x'[T−1]} = the weighted average in training, the raw last frame in eval.
     */
    Tensor neuroFInput(MPISNet.Prepared p) {
        int tt = net.config.timeStep();
        double lam = net.config.leaky();
        Tensor u = p.input().permute(4, 0, 1, 2, 3);
        Tensor acc = p.train() && net.networkX.is_training() ? weightedFrameAverage(u) : u.select(0, tt - 1).clone();
        double lk = 1.0;
        for (int i = 0; i < tt; i++) {
            lk *= lam;
            Tensor src = tt - 2 - i >= 0 ? u.select(0, tt - 2 - i) : acc;   // i = T−1: u[−1] is the accumulator itself
            acc.add_(src.mul(Ops.s(lk)));
        }
        double div = (float) lam == 1.0f ? tt + 1 : (1 - lk * lam) / (1 - lam);
        return acc.div_(Ops.s(div));
    }

    /**
     * The two-stream LIF simulation; {@code currents.apply(t)} = {X0(t), X1(t)}. Each step runs in its own pointer
     * scope and only the state (membranes, last-layer spikes, read-out) survives it.
     */
    private Tensor[] lif(IntFunction<Tensor[]> currents) {
        SNNFunc.Stream[] s = net.snnFunc.streams;
        int tt = net.config.timeStep();
        boolean rate = net.config.options().readout() == MpisConfig.Readout.WEIGHTED_RATE;
        // the first-step read-out reads nothing of steps 1..T-1 (and they change no state): run them only when asked,
        // for the weighted-rate read-out, or for an energy meter, which must see every step the model would run
        boolean all = rate || net.config.options().simulateAllSteps() || dev.spikerev.nn.OpCounter.active();
        lastSteps = all ? tt : 1;
        // state: v[k*3 + l] (k stream, l layer) at 0..5, last-layer spikes at 6..7, rate accumulators at 8..9
        Tensor[] state = Scopes.keep(() -> {
            Tensor[] x = currents.apply(0);
            Tensor[] pk = {x[0].add(up(x[1])), net.snnFunc.downsample0_1.forward(x[0]).add(x[1])};
            Tensor[] out = new Tensor[10];
            for (int k = 0; k < 2; k++) {
                Tensor[] f0 = fire(pk[k]);
                Tensor[] f1 = fire(s[k].l1().forward(f0[0], BnMode.EVAL));
                Tensor[] f2 = fire(s[k].l2().forward(f1[0], BnMode.EVAL));
                out[k * 3] = f0[1];
                out[k * 3 + 1] = f1[1];
                out[k * 3 + 2] = f2[1];
                out[6 + k] = f2[0];
                out[8 + k] = new Tensor(f2[0]);
            }
            return out;
        });
        Tensor[] first = {new Tensor(state[6]), new Tensor(state[7])};
        for (int t = 1; t < tt && all; t++) {
            final Tensor[] prev = state;
            final int step = t;
            state = Scopes.keep(() -> {
                Tensor[] x = currents.apply(step);
                Tensor[] v = new Tensor[2];
                for (int k = 0; k < 2; k++) v[k] = prev[k * 3].add(s[k].trans().forward(prev[6 + k])).add(x[k]);
                Tensor[] pk = {v[0].add(up(v[1])), net.snnFunc.downsample0_1.forward(v[0]).add(v[1])};
                Tensor[] out = new Tensor[10];
                for (int k = 0; k < 2; k++) {
                    Tensor[] f0 = fire(pk[k]);
                    Tensor[] f1 = fire(prev[k * 3 + 1].add(s[k].l1().forward(f0[0], BnMode.EVAL)));
                    Tensor[] f2 = fire(prev[k * 3 + 2].add(s[k].l2().forward(f1[0], BnMode.EVAL)));
                    out[k * 3] = f0[1];
                    out[k * 3 + 1] = f1[1];
                    out[k * 3 + 2] = f2[1];
                    out[6 + k] = f2[0];
                    out[8 + k] = rate ? prev[8 + k].mul(net.lamT).add(f2[0]) : new Tensor(prev[8 + k]);
                }
                return out;
            });
            for (Tensor old : prev) old.close();
        }
        Tensor w = readoutWeight();
        Tensor[] src = rate ? new Tensor[]{state[8], state[9]} : first;
        return new Tensor[]{src[0].div(w), src[1].div(w)};
    }

    /** {@code w(T) = (1 − λ^T)/(1 − λ)} in float32 (the reference's tensor arithmetic); {@code T} for λ = 1 (count). */
    Tensor readoutWeight() {
        int tt = net.config.timeStep();
        if ((float) net.config.leaky() == 1.0f) return scalar_tensor(new Scalar((float) tt));
        return rsub(net.lamT.pow(new Scalar((long) tt)), Ops.s(1.0)).div(rsub(net.lamT, Ops.s(1.0)));
    }

    /** LIF spike/reset/leak of a membrane that already holds its input: {@code {s, (v − vth·s)·λ}}. */
    private Tensor[] fire(Tensor v) {
        Tensor sp = v.ge(net.vthT).to(v.scalar_type());
        return new Tensor[]{sp, v.sub(net.vthT.mul(sp)).mul(net.lamT)};
    }

    /** {@code nn.Upsample(scale_factor=2, mode='nearest')}. */
    static Tensor up(Tensor x) {
        return upsample_nearest2d(x, new long[]{x.size(2) * 2, x.size(3) * 2});
    }

    /**
     * The BPTT comparison's read-out ({@link MPISNet#forwardBptt}): the same currents, fusion and LIF dynamics as
     * {@link #run}, with autograd through every step, spikes through {@code sg} and every BN in its module's mode;
     * returns the λ-weighted firing rate {@code a_k = Σ_t λ^{T−1−t} s_k,L2(t) / w(T)} per stream.
     */
    Tensor[] bpttReadout(MPISNet.Prepared p, Surrogate sg) {
        SNNFunc.Stream[] s = net.snnFunc.streams;
        int tt = net.config.timeStep();
        IntFunction<Tensor[]> currents;
        if (!p.neuro()) {
            Tensor x0 = net.networkX.forward(p.feat(), BnMode.MODULE);
            Tensor x1 = net.networkXN.forward(zeros(new long[]{p.b(), p.feat().size(1), p.h() / 2, p.w() / 2}, p.feat().options()), BnMode.MODULE);
            currents = t -> new Tensor[]{x0, x1};
        } else {
            Tensor u = p.input().permute(4, 0, 1, 2, 3);
            Tensor x1 = net.networkXN.forward(zeros(new long[]{p.b(), p.input().size(1), p.h() / 2, p.w() / 2}, p.input().options()), BnMode.MODULE);
            currents = t -> new Tensor[]{net.networkX.forward(u.select(0, t), BnMode.MODULE), x1};
        }
        Tensor[][] v = new Tensor[2][3], sp = new Tensor[2][3];
        Tensor[] rate = new Tensor[2];
        for (int t = 0; t < tt; t++) {
            Tensor[] x = currents.apply(t);
            Tensor[] c = new Tensor[2];
            for (int k = 0; k < 2; k++) c[k] = t == 0 ? x[k] : v[k][0].add(s[k].trans().forward(sp[k][2])).add(x[k]);
            Tensor[] fused = {c[0].add(up(c[1])), net.snnFunc.downsample0_1.forward(c[0]).add(c[1])};
            for (int k = 0; k < 2; k++) {
                for (int l = 0; l < 3; l++) {
                    Tensor vin = l == 0 ? fused[k] : (l == 1 ? s[k].l1() : s[k].l2()).forward(sp[k][l - 1], BnMode.MODULE);
                    if (l > 0 && t > 0) vin = vin.add(v[k][l]);
                    Tensor spike = SurrogateSpike.apply(vin.sub(net.vthT), sg);
                    v[k][l] = vin.sub(spike.mul(net.vthT)).mul(net.lamT);
                    sp[k][l] = spike;
                }
                rate[k] = t == 0 ? sp[k][2] : rate[k].mul(net.lamT).add(sp[k][2]);
            }
        }
        Tensor w = readoutWeight();
        return new Tensor[]{rate[0].div(w), rate[1].div(w)};
    }
}
