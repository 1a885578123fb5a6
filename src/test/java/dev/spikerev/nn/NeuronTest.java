package dev.spikerev.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.autograd.SurrogateSpike;
import java.util.function.BiFunction;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.bytedeco.pytorch.global.torch.*;

/** Multi-step IF/LIF neurons: hand-computed sequences (values and gradients) and the stepwise autograd definition. */
class NeuronTest {
    static final double EPS = 1e-6;

    static double sigmoidSg(double u, double alpha) {
        double s = 1.0 / (1.0 + Math.exp(-alpha * u));
        return alpha * s * (1 - s);
    }

    static double atanSg(double u, double alpha) {
        double z = Math.PI / 2 * alpha * u;
        return alpha / 2 / (1 + z * z);
    }

    static Tensor seq(double... xs) { return Tensor.create(xs).to(ScalarType.Float).view(xs.length, 1); }

    static double[] vals(Tensor t) {
        Tensor d = t.detach().to(ScalarType.Double).contiguous().view(-1);
        double[] out = new double[(int) d.numel()];
        for (int i = 0; i < out.length; i++) out[i] = d.get(i).item_double();
        return out;
    }

    /** Runs the neuron on x (requires grad), loss = sum(w_t * S_t); returns {spikes, dL/dx}. */
    static double[][] run(MultiStepNeuron n, double[] x, double[] w) {
        try (PointerScope s = new PointerScope()) {
            Tensor xs = seq(x).requires_grad_(true);
            Tensor sp = n.forward(xs);
            sp.mul(seq(w)).sum().backward();
            return new double[][]{vals(sp), vals(xs.grad())};
        }
    }

    @Test
    void lifHardResetDetachHandComputed() {
        // tau 2, decay_input, v_reset 0, v_th 1, Sigmoid(4); x = 1.5, 1.5, 0.4
        // H0 = .5*1.5 = .75 (S0 0, V0 .75); H1 = .75 + .5*(1.5-.75) = 1.125 (S1 1, V1 0); H2 = .5*.4 = .2 (S2 0)
        LIFNeuron n = new LIFNeuron(2.0, true, 1.0, 0.0, true, Surrogate.sigmoid());
        double[][] r = run(n, new double[]{1.5, 1.5, 0.4}, new double[]{1, 1, 1});
        assertArrayEquals(new double[]{0, 1, 0}, r[0]);
        double gH2 = sigmoidSg(0.2 - 1, 4);
        double gH1 = sigmoidSg(0.125, 4) + gH2 * 0.5 * 0;          // S1 = 1: reset path detached
        double gH0 = sigmoidSg(-0.25, 4) + gH1 * 0.5 * 1;
        assertArrayEquals(new double[]{gH0 * .5, gH1 * .5, gH2 * .5}, r[1], EPS);
    }

    @Test
    void lifSoftResetHandComputed() {
        // soft reset: V1 = 1.125 - 1 = .125; H2 = .125 + .5*(.4 - .125) = .2625; detach_reset: dV/dH = 1
        LIFNeuron n = new LIFNeuron(2.0, true, 1.0, null, true, Surrogate.sigmoid());
        double[][] r = run(n, new double[]{1.5, 1.5, 0.4}, new double[]{1, 1, 1});
        assertArrayEquals(new double[]{0, 1, 0}, r[0]);
        double gH2 = sigmoidSg(0.2625 - 1, 4);
        double gH1 = sigmoidSg(0.125, 4) + gH2 * 0.5;
        double gH0 = sigmoidSg(-0.25, 4) + gH1 * 0.5;
        assertArrayEquals(new double[]{gH0 * .5, gH1 * .5, gH2 * .5}, r[1], EPS);
        // a soft reset keeps the excess: 3 inputs of 1.6 at tau 2 -> H .8, 1.2 (fire, V .2), .9 -> no third spike
        double[][] r2 = run(n, new double[]{1.6, 1.6, 1.6}, new double[]{1, 1, 1});
        assertArrayEquals(new double[]{0, 1, 0}, r2[0]);
    }

    @Test
    void lifHardResetWithoutDetachHandComputed() {
        // detach_reset false: dV/dH = 1 - S + (v_reset - H)·sg
        LIFNeuron n = new LIFNeuron(2.0, true, 1.0, 0.0, false, Surrogate.sigmoid());
        double[][] r = run(n, new double[]{1.5, 1.5, 0.4}, new double[]{1, 2, 3});
        double sg0 = sigmoidSg(-0.25, 4), sg1 = sigmoidSg(0.125, 4), sg2 = sigmoidSg(-0.8, 4);
        double gH2 = 3 * sg2;
        double gH1 = 2 * sg1 + gH2 * 0.5 * (1 - 1 + (0 - 1.125) * sg1);
        double gH0 = 1 * sg0 + gH1 * 0.5 * (1 - 0 + (0 - 0.75) * sg0);
        assertArrayEquals(new double[]{gH0 * .5, gH1 * .5, gH2 * .5}, r[1], EPS);
    }

    @Test
    void lifWithoutDecayInputHandComputed() {
        // decay_input false: H = V - (V - v_reset)/tau + X; dH/dX = 1
        LIFNeuron n = new LIFNeuron(2.0, false, 1.0, 0.0, true, Surrogate.sigmoid());
        double[][] r = run(n, new double[]{0.6, 0.6, 0.3}, new double[]{1, 1, 1});
        // H0 .6 (V .6); H1 .6 - .3 + .6 = .9 (V .9); H2 .9 - .45 + .3 = .75
        assertArrayEquals(new double[]{0, 0, 0}, r[0]);
        double gH2 = sigmoidSg(-0.25, 4);
        double gH1 = sigmoidSg(-0.1, 4) + gH2 * 0.5;
        double gH0 = sigmoidSg(-0.4, 4) + gH1 * 0.5;
        assertArrayEquals(new double[]{gH0, gH1, gH2}, r[1], EPS);
    }

    @Test
    void ifHardResetAtanHandComputed() {
        // IF, v_th 1, v_reset 0, detach_reset, ATan(2): x = .6 .6 .6 1.2 -> H .6, 1.2 (fire), .6, 1.8 (fire)
        IFNeuron n = new IFNeuron(true, Surrogate.atan());
        double[][] r = run(n, new double[]{0.6, 0.6, 0.6, 1.2}, new double[]{1, 1, 1, 1});
        assertArrayEquals(new double[]{0, 1, 0, 1}, r[0]);
        double gH3 = atanSg(0.8, 2);
        double gH2 = atanSg(-0.4, 2) + gH3;                 // S2 = 0: full carry, k = 1
        double gH1 = atanSg(0.2, 2) + gH2 * 0;              // S1 = 1: reset detached
        double gH0 = atanSg(-0.4, 2) + gH1;
        assertArrayEquals(new double[]{gH0, gH1, gH2, gH3}, r[1], EPS);
    }

    @Test
    void thresholdIsInclusive() {
        IFNeuron n = new IFNeuron(true, Surrogate.atan());
        try (PointerScope s = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            assertArrayEquals(new double[]{1, 0}, vals(n.forward(seq(1.0, 0.5))));
            LIFNeuron attn = new LIFNeuron(2.0, 0.5, true);                  // attn_lif: v_th 0.5, H = .5
            assertArrayEquals(new double[]{1}, vals(attn.forward(seq(1.0))));
        }
    }

    @Test
    void stateDoesNotLeakBetweenCalls() {
        IFNeuron n = new IFNeuron(true, Surrogate.atan());
        try (PointerScope s = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            assertArrayEquals(new double[]{0}, vals(n.forward(seq(0.9))));
            assertArrayEquals(new double[]{0}, vals(n.forward(seq(0.9))));  // V starts at 0 again, not .9
        }
    }

    /** SpikingJelly's stepwise ('torch' backend) definition through autograd, for comparison. */
    static Tensor stepwise(Tensor x, double tau, boolean lif, boolean decayInput, Double vReset, boolean detach, Surrogate sg) {
        double vth = 1.0;
        Tensor v = zeros_like(x.select(0, 0));
        if (vReset != null) v = v.add(new Scalar(vReset));
        TensorVector out = new TensorVector();
        for (int t = 0; t < x.size(0); t++) {
            Tensor xt = x.select(0, t);
            if (!lif) v = v.add(xt);
            else if (decayInput) v = vReset == null ? v.add(xt.sub(v).div(new Scalar(tau))) : v.add(xt.sub(v.sub(new Scalar(vReset))).div(new Scalar(tau)));
            else v = vReset == null ? v.mul(new Scalar(1 - 1 / tau)).add(xt) : v.sub(v.sub(new Scalar(vReset)).div(new Scalar(tau))).add(xt);
            Tensor spike = SurrogateSpike.apply(v.sub(new Scalar(vth)), sg, SurrogateSpike.Mode.PRIMITIVE);
            Tensor sd = detach ? spike.detach() : spike;
            if (vReset == null) v = v.sub(sd.mul(new Scalar(vth)));
            else v = sd.neg().add(new Scalar(1.0)).mul(v).add(sd.mul(new Scalar(vReset)));
            out.push_back(spike);
        }
        return stack(out);
    }

    @ParameterizedTest
    @CsvSource({"true,true,hard,true", "true,true,hard,false", "true,true,soft,true", "true,true,soft,false",
            "true,false,hard,true", "true,false,hard,false", "true,false,soft,true", "true,false,soft,false",
            "false,true,hard,true", "false,true,hard,false", "false,true,soft,true", "false,true,soft,false"})
    void matchesStepwiseAutograd(boolean lif, boolean decayInput, String reset, boolean detach) {
        Double vReset = reset.equals("hard") ? 0.0 : null;
        Surrogate sg = lif ? Surrogate.sigmoid() : Surrogate.atan();
        MultiStepNeuron n = lif ? new LIFNeuron(1.5, decayInput, 1.0, vReset, detach, sg) : new IFNeuron(1.0, vReset, detach, sg);
        try (PointerScope s = new PointerScope()) {
            manual_seed(7);
            Tensor x = randn(6, 3, 5).mul(new Scalar(1.2)).add(new Scalar(0.6));
            Tensor w = randn(6, 3, 5);
            Tensor a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
            Tensor sa = n.forward(a), sb = stepwise(b, 1.5, lif, decayInput, vReset, detach, sg);
            assertEquals(0.0, sa.sub(sb).abs().max().item_double(), 0.0, "spikes");
            assertTrue(sa.sum().item_double() > 5 && sa.sum().item_double() < 85, "some but not all spike");
            sa.mul(w).sum().backward();
            sb.mul(w).sum().backward();
            double diff = a.grad().sub(b.grad()).abs().max().item_double();
            assertTrue(diff < 2e-6, "grad diff " + diff);
        }
    }

    @Test
    void noGraphWithoutGradAndFiringRate() {
        LIFNeuron n = new LIFNeuron(2.0, 1.0, true);
        try (PointerScope s = new PointerScope()) {
            Tensor x = seq(1.5, 1.5, 0.4, 3.0);
            Tensor sp = n.forward(x);
            assertFalse(sp.requires_grad());
            n.setRecording(true);
            n.forward(x);
            assertEquals(0.5, n.lastFiringRate(), 0.0);
        }
    }
}
