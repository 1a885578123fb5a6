package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.tensor.Natives;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link GradScaler} on the CPU: skip + backoff on inf/NaN gradients, growth after the interval, unscaling. */
class GradScalerTest {
    @BeforeAll static void natives() { Natives.init(); }

    /** A float32 leaf parameter with {@code .grad} set to {@code grad}. */
    static Tensor param(double[] value, double[] grad) {
        Tensor p = Tensor.create(value).to(org.bytedeco.pytorch.global.torch.ScalarType.Float).requires_grad_(true);
        p.mutable_grad().put(Tensor.create(grad).to(org.bytedeco.pytorch.global.torch.ScalarType.Float));
        return p;
    }

    static SGD sgd(List<Tensor> ps) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("lr", 0.5);
        return new SGD(List.of(ParamGroup.of(ps)), o);
    }

    static double[] values(Tensor t) {
        Tensor d = t.detach().to(org.bytedeco.pytorch.global.torch.ScalarType.Double).contiguous();
        double[] out = new double[(int) d.numel()];
        for (int i = 0; i < out.length; i++) out[i] = d.select(0, i).item_double();
        return out;
    }

    @Test
    void defaultsAreTorchs() {
        GradScaler s = new GradScaler();
        assertEquals(65536.0, s.scale());
        Map<String, Object> sd = s.stateDict();
        assertEquals(2.0, sd.get("growth_factor"));
        assertEquals(0.5, sd.get("backoff_factor"));
        assertEquals(2000L, sd.get("growth_interval"));
        assertEquals(0L, sd.get("_growth_tracker"));
    }

    @Test
    void infGradientSkipsTheStepAndHalvesTheScale() {
        Tensor a = param(new double[]{1, 2}, new double[]{65536, Double.POSITIVE_INFINITY});
        Tensor b = param(new double[]{3}, new double[]{65536});
        try (SGD opt = sgd(List.of(a, b))) {
            GradScaler s = new GradScaler();
            assertTrue(s.unscale(opt.params()), "inf must be found");
            assertFalse(s.step(opt), "the step must be skipped");
            s.update();
            assertArrayEquals(new double[]{1, 2}, values(a), 0.0, "parameters must not move on a skipped step");
            assertArrayEquals(new double[]{3}, values(b), 0.0);
            assertEquals(32768.0, s.scale());
            assertEquals(0, s.growthTracker());
            assertEquals(1, s.skippedSteps());
        }
    }

    @Test
    void nanGradientIsFoundTooAndTheTrackerResets() {
        Tensor a = param(new double[]{1}, new double[]{2});
        try (SGD opt = sgd(List.of(a))) {
            GradScaler s = new GradScaler(1024, 2, 0.5, 10);
            assertTrue(s.step(opt)); // unscales implicitly: grad 2/1024
            s.update();
            assertEquals(1, s.growthTracker());
            a.mutable_grad().put(Tensor.create(new double[]{Double.NaN}).to(org.bytedeco.pytorch.global.torch.ScalarType.Float));
            assertFalse(s.step(opt));
            s.update();
            assertEquals(512.0, s.scale());
            assertEquals(0, s.growthTracker());
        }
    }

    @Test
    void finiteGradientsAreUnscaledThenStepped() {
        Tensor a = param(new double[]{1, 1}, new double[]{65536 * 0.25, -65536 * 2.0});
        try (SGD opt = sgd(List.of(a))) {
            GradScaler s = new GradScaler();
            assertFalse(s.unscale(opt.params()));
            assertArrayEquals(new double[]{0.25, -2.0}, values(a.grad()), 0.0, "grads must be divided by the scale");
            assertTrue(s.step(opt));
            s.update();
            assertArrayEquals(new double[]{1 - 0.5 * 0.25, 1 + 0.5 * 2.0}, values(a), 1e-7);
            assertEquals(65536.0, s.scale(), "no growth before the interval");
            assertEquals(1, s.growthTracker());
        }
    }

    @Test
    void scaleGrowsAfterIntervalGoodSteps() {
        Tensor a = param(new double[]{0}, new double[]{0});
        try (SGD opt = sgd(List.of(a))) {
            GradScaler s = new GradScaler(8, 2, 0.5, 3);
            for (int i = 0; i < 2; i++) {
                assertTrue(s.step(opt));
                s.update();
                assertEquals(8.0, s.scale(), "step " + i);
            }
            assertTrue(s.step(opt));
            s.update();
            assertEquals(16.0, s.scale(), "3rd good step in a row doubles the scale");
            assertEquals(0, s.growthTracker());
        }
    }

    @Test
    void scaledLossAndStateRoundTrip() {
        GradScaler s = new GradScaler(4, 2, 0.5, 2000);
        Tensor l = Tensor.create(new double[]{1.5}).to(org.bytedeco.pytorch.global.torch.ScalarType.Float);
        assertArrayEquals(new double[]{6.0}, values(s.scale(l)), 0.0);
        GradScaler t = new GradScaler();
        Map<String, Object> sd = new LinkedHashMap<>(s.stateDict());
        sd.put("_growth_tracker", 7L);
        t.loadStateDict(sd);
        assertEquals(4.0, t.scale());
        assertEquals(7, t.growthTracker());
        assertThrows(IllegalArgumentException.class, () -> t.loadStateDict(Map.of("scale", -1.0)));
    }

    @Test
    void misuseIsAnError() {
        GradScaler s = new GradScaler();
        assertThrows(IllegalStateException.class, s::update, "update before unscale/step");
        s.unscale(List.of());
        assertThrows(IllegalStateException.class, () -> s.unscale(List.of()), "unscale twice in one iteration");
        assertThrows(IllegalArgumentException.class, () -> new GradScaler(0, 2, 0.5, 1));
        assertThrows(IllegalArgumentException.class, () -> new GradScaler(1, 2, 1.5, 1));
    }
}
