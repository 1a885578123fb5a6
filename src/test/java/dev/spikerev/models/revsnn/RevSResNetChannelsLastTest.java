package dev.spikerev.models.revsnn;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.nn.StateDictIO;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RevSResNet with channels-last stages (the default) computes the NCHW model's function: one training step gives the
 * same logits, loss, gradients and BatchNorm buffers up to float rounding (the parity tolerance, atol 1e-5 + rtol
 * 1e-4); the layout policy and the stages' dense NHWC streams. (The fixture-size models run NCHW throughout: their
 * 4-16 channels are below {@link RevSResNet#MIN_NHWC_PLANES}.)
 */
class RevSResNetChannelsLastTest {

    /** One training step of {@code cfg} from {@code weights}: {logits, loss, grads..., state...} by name. */
    static Map<String, Tensor> step(RevSNNConfig cfg, Map<String, Tensor> weights, Tensor input, Tensor target) {
        RevSNNFamily.Model m = new RevSNNFamily.Model(RevSNNFamily.create(cfg));
        StateDictIO.loadStateDict(m.module(), weights, true);
        Tensor[] lo = m.forwardLoss(input, target);
        m.backward(lo[1]);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("logits", lo[0]);
        out.put("loss", lo[1]);
        StateDictIO.namedParameters(m.module()).forEach((k, p) -> out.put("grad:" + k, new Tensor(p.grad())));
        StateDictIO.stateDict(m.module()).forEach((k, v) -> out.put("state:" + k, v));
        return out;
    }

    /**
     * 64-channel streams on 16x16 and 8x8 maps (NHWC stages) and 4x4, 2x2 (NCHW), reversible and plain: NHWC gives the
     * NCHW step up to float rounding.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void sameStepAsNchw(boolean reversible) {
        try (PointerScope s = new PointerScope()) {
            org.bytedeco.pytorch.global.torch.manual_seed(3);
            RevSNNConfig nchw = RevSNNConfig.resnet(false, new int[]{1, 1, 1, 1}, new int[]{64, 64, 64, 64}, 10, 2, reversible)
                    .withChannelsLast(false);
            Map<String, Tensor> weights = StateDictIO.stateDict(RevSNNFamily.create(nchw));
            Tensor input = org.bytedeco.pytorch.global.torch.randn(2, 3, 16, 16);
            Tensor target = Tensor.create(new long[]{3, 7});
            Map<String, Tensor> a = step(nchw.withChannelsLast(true), weights, input, target), b = step(nchw, weights, input, target);
            assertEquals(b.keySet(), a.keySet());
            double worst = 0;
            for (String k : b.keySet()) {
                Tensor x = a.get(k).detach().to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
                Tensor y = b.get(k).detach().to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
                double e = x.sub(y).abs().sub(y.abs().mul(new org.bytedeco.pytorch.Scalar(1e-4))).max().item_double();
                assertTrue(e <= 1e-5, k + ": |NHWC - NCHW| exceeds 1e-5 + 1e-4|NCHW| by " + (e - 1e-5));
                worst = Math.max(worst, x.sub(y).abs().max().item_double());
            }
            System.out.printf("%s: NHWC vs NCHW max abs diff %.3e%n", reversible ? "reversible" : "plain", worst);
        }
    }

    @Test
    void wideLargeStagesOnlyRunChannelsLast() {
        RevSNNConfig r21 = RevSNNConfig.revsResnet("revs_resnet21", 100, 4, true);
        RevSResNet net = new RevSResNet(r21);
        assertTrue(net.nhwc(0, 32 * 32, true) && net.nhwc(1, 16 * 16, true) && net.nhwc(2, 8 * 8, true));
        assertFalse(net.nhwc(3, 4 * 4, true), "448 channels on 4x4: NCHW");
        assertFalse(net.nhwc(0, 32 * 32, false), "not on a GPU (unmeasured there)");
        RevSResNet tiny = new RevSResNet(RevSNNConfig.resnet(false, new int[]{1, 1, 1, 1}, new int[]{4, 8, 8, 16}, 10, 2, true));
        assertFalse(tiny.nhwc(0, 32 * 32, true), "4 channels: NCHW");
        RevSResNet off = new RevSResNet(r21.withChannelsLast(false));
        assertFalse(off.nhwc(0, 32 * 32, true));
    }

    @Test
    void reversibleStagesRunOnDenseChannelsLastStreams() {
        try (PointerScope s = new PointerScope()) {
            RevSNNConfig cfg = RevSNNConfig.resnet(false, new int[]{1, 1, 1, 1}, new int[]{4, 8, 8, 8}, 10, 2, true);
            assertTrue(cfg.channelsLast(), "channels-last is the default");
            RevSResNet net = new RevSResNet(cfg);
            RevSequence stage = net.stages().get(0);
            Tensor x = Seq.repeat(org.bytedeco.pytorch.global.torch.randn(3, 8, 6, 6).contiguous(MemoryFormat.ChannelsLast), 2)
                    .requires_grad_(true);
            assertTrue(x.flatten(0, 1).is_contiguous(MemoryFormat.ChannelsLast), "Seq.repeat keeps channels-last");
            Tensor y = stage.forward(x);
            assertTrue(y.flatten(0, 1).is_contiguous(MemoryFormat.ChannelsLast), "stage output NHWC");
            y.sum().backward();
            assertTrue(x.grad().defined());
            // the same stage on the NCHW copy of x: same values
            Tensor xr = x.detach().contiguous();
            Tensor yr = stage.forward(xr);
            assertTrue(yr.is_contiguous(), "NCHW stays NCHW");
            assertTrue(yr.sub(y.detach()).abs().max().item_double() < 1e-4);
        }
    }

    @Test
    void channelsLastKeyMustBeBoolean() {
        Map<String, Object> meta = Map.of("constructor", Map.of("cls", "RevSResNet", "layers", List.of(1, 1, 1, 1),
                "planes", List.of(4, 4, 4, 4), "channels_last", "yes"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RevSNNConfig.fromMeta(meta));
        assertEquals("revsnn constructor.channels_last must be true or false, found yes", e.getMessage());
    }

    @Test
    void misspelledKeyIsNamed() {
        Map<String, Object> meta = Map.of("constructor", Map.of("cls", "RevSResNet", "layers", List.of(1, 1, 1, 1),
                "planes", List.of(4, 4, 4, 4), "channel_last", false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RevSNNConfig.fromMeta(meta));
        assertTrue(e.getMessage().startsWith("revsnn: unknown model (constructor) key 'channel_last' (allowed: "), e.getMessage());
        assertTrue(e.getMessage().contains("channels_last"), e.getMessage());
    }
}
