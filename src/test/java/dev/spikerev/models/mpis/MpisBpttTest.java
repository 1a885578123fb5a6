package dev.spikerev.models.mpis;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.spikerev.models.mpis.MpisAssert.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The BPTT comparison ({@link MPISNet#forwardBptt}): its read-out equals the no-grad simulation's weighted-rate read-out
 * exactly (same LIF dynamics, now with a graph), and its gradient reaches the layers that only act through time.
 */
class MpisBpttTest {
    @BeforeAll
    static void threads() { Natives.setThreads(2); }

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void bpttReadoutEqualsTheWeightedRateSimulation(String c) {
        MpisFixture f = MpisFixture.load(c);
        try (PointerScope ps = new PointerScope()) {
            MPISNet net = f.model(MpisConfig.Options.reference().withReadout(MpisConfig.Readout.WEIGHTED_RATE));
            net.train(false);
            Tensor x = f.tensor("io/input");
            Tensor[] sim;
            try (NoGradGuard ng = new NoGradGuard()) {
                net.forward(x);
                sim = net.lastEquilibrium();
            }
            Tensor logits = net.forwardBptt(x, new Surrogate.Rectangular(net.config.vth()));   // with graph
            assertTrue(logits.requires_grad(), "BPTT logits carry a graph");
            Tensor[] bptt = net.lastEquilibrium();
            for (int k = 0; k < 2; k++) exact(c + " BPTT a*[" + k + "] = weighted-rate simulation", bptt[k], sim[k]);
            report(String.format("%s: BPTT read-out = weighted-rate simulation (eval), exact; firing %.3f / %.3f", c,
                    MpisParityTest.firing(bptt[0]), MpisParityTest.firing(bptt[1])));
        }
    }

    @Test
    void bpttGradientFlowsThroughTime() {
        MpisFixture f = MpisFixture.load("static_cifar_small");
        try (PointerScope ps = new PointerScope()) {
            for (int t : new int[]{1, 4}) {
                MpisConfig cfg = MpisConfig.fromConstructor(f.constructor(), null).withTimeStep(t);
                MpisModel m = MpisModel.bptt(cfg, new Surrogate.Rectangular(cfg.vth()));
                StateDictIO.loadStateDict(m.net(), f.group("model"), true);
                assertTrue(m.isBptt());
                Tensor[] out = m.forwardLoss(f.tensor("io/input"), f.tensor("io/target"));
                m.backward(out[1]);
                Map<String, Tensor> p = m.net().namedParameters();
                boolean trans = p.get("Trans.convT.weight").grad().defined() && p.get("Trans.convT.weight").grad().abs().sum().item_double() > 0;
                assertEquals(t > 1, trans, "T=" + t + ": the feedback ConvT acts (and gets a gradient) only from step 1 on");
                assertTrue(p.get("network_s_2.conv.weight").grad().defined(), "L2 gets a surrogate gradient");
                assertTrue(p.get("snn_func.downsample0_1.weight").grad().defined(), "BPTT trains the fusion conv");
                assertFalse(p.get("snn_func_copy.network_x_list.0.conv.weight").grad().defined(), "the frozen copy stays frozen");
                assertTrue(Double.isFinite(out[1].item_double()));
                report(String.format("BPTT T=%d: loss %.4f, |grad Trans.convT.weight| %s", t, out[1].item_double(),
                        trans ? String.format("%.3e", p.get("Trans.convT.weight").grad().norm().item_double()) : "none"));
            }
        }
    }
}
