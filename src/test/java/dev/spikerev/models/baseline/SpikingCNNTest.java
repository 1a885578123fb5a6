package dev.spikerev.models.baseline;

import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.models.ModelFamilies;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The BN-free baseline: keys, shapes, surrogate-gradient flow, and batch-split invariance of its gradient. */
class SpikingCNNTest {
    @BeforeAll
    static void init() { Natives.setThreads(1); }

    static SpikingCNN net(int channels, int T) {
        return new SpikingCNN(channels, T, 10, 1, 2.0, 1.0, Surrogate.sigmoid(4.0));
    }

    @Test
    void stateDictKeysAndShapesArePythonStyle() {
        try (PointerScope s = new PointerScope()) {
            manual_seed(0);
            SpikingCNN m = net(16, 4);
            Map<String, Tensor> sd = StateDictIO.stateDict(m);
            assertEquals(List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"), List.copyOf(sd.keySet()));
            assertArrayEquals(new long[]{16, 1, 3, 3}, sd.get("conv1.weight").sizes().vec().get());
            assertArrayEquals(new long[]{16, 16, 3, 3}, sd.get("conv2.weight").sizes().vec().get());
            assertArrayEquals(new long[]{10, 16}, sd.get("fc.weight").sizes().vec().get());
            long params = sd.values().stream().mapToLong(Tensor::numel).sum();
            assertEquals(160 + 2320 + 170, params, "a few thousand parameters");
        }
    }

    @Test
    void forwardShapesStaticAndTimeMajorAgree() {
        try (PointerScope s = new PointerScope()) {
            manual_seed(1);
            SpikingCNN m = net(8, 3);
            Tensor x = randn(5, 1, 28, 28).mul(new Scalar(3.0));
            Tensor y = m.forward(x);
            assertArrayEquals(new long[]{5, 10}, y.sizes().vec().get());
            // direct encoding == the same image repeated over T, time-major
            Tensor y5 = m.forward(x.unsqueeze(0).expand(new long[]{3, 5, 1, 28, 28}).contiguous());
            assertTrue(y.allclose(y5, 1e-6, 1e-6, false), "static and time-major inputs differ");
            assertThrows(IllegalArgumentException.class, () -> m.forward(randn(5, 28, 28)));
        }
    }

    @Test
    void surrogateGradientReachesEveryParameter() {
        try (PointerScope s = new PointerScope()) {
            manual_seed(2);
            FamilyModel fm = ModelFamilies.get("baseline").build(Map.of("constructor", Map.of("channels", 8, "T", 4)));
            Tensor x = randn(6, 1, 28, 28).mul(new Scalar(3.0));
            Tensor target = randint(10, new long[]{6}, new TensorOptions(ScalarType.Long));
            Tensor[] out = fm.forwardLoss(x, target);
            assertArrayEquals(new long[]{6, 10}, out[0].sizes().vec().get());
            assertEquals(0, out[1].dim());
            fm.backward(out[1]);
            for (Map.Entry<String, Tensor> e : StateDictIO.namedParameters(fm.module()).entrySet()) {
                Tensor g = e.getValue().grad();
                assertTrue(g.defined(), e.getKey() + " has no gradient");
                assertTrue(g.isfinite().all().item_bool(), e.getKey() + " has a non-finite gradient");
                // conv1 sits behind two spike layers: its gradient exists only through the surrogate
                assertTrue(g.abs().sum().item_double() > 0, e.getKey() + " gradient is all zero");
            }
        }
    }

    @Test
    void gradientOfSplitBatchesAveragesToWholeBatch() {
        // no BatchNorm: the mean loss over 2b samples has the mean gradient of the two b-sample halves (what DDP relies on)
        try (PointerScope s = new PointerScope()) {
            manual_seed(3);
            SpikingCNN m = net(8, 2);
            Tensor x = randn(8, 1, 28, 28).mul(new Scalar(3.0));
            Tensor t = randint(10, new long[]{8}, new TensorOptions(ScalarType.Long));
            List<Tensor> ps = List.copyOf(StateDictIO.namedParameters(m).values());
            cross_entropy(m.forward(x), t).backward();
            List<Tensor> whole = ps.stream().map(p -> p.grad().clone()).toList();
            m.zero_grad(true);
            cross_entropy(m.forward(x.narrow(0, 0, 4)), t.narrow(0, 0, 4)).backward();
            List<Tensor> half = ps.stream().map(p -> p.grad().clone()).toList();
            m.zero_grad(true);
            cross_entropy(m.forward(x.narrow(0, 4, 4)), t.narrow(0, 4, 4)).backward();
            for (int i = 0; i < ps.size(); i++) {
                double d = half.get(i).add(ps.get(i).grad()).div(new Scalar(2.0)).sub(whole.get(i)).abs().max().item_double();
                assertTrue(d < 1e-6, "param " + i + ": mean of half-batch grads differs from whole-batch grad by " + d);
            }
        }
    }

    @Test
    void familyRejectsUnknownKeys() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelFamilies.get("baseline").build(Map.of("constructor", Map.of("chanels", 8))));
        assertTrue(e.getMessage().contains("chanels") && e.getMessage().contains("channels"), e.getMessage());
    }
}
