package dev.spikerev.models.revsnn;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.testutil.Fixtures;
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
 * RevSResNet with channels-last activations (the default) computes the NCHW model's function: one training step from
 * the fixture weights gives the same logits, loss, gradients and BatchNorm buffers up to float rounding (the parity
 * tolerance, atol 1e-5 + rtol 1e-4); the reversible stages really run on dense NHWC streams.
 */
class RevSResNetChannelsLastTest {

    @SuppressWarnings("unchecked")
    static Map<String, Tensor> step(String name, Boolean channelsLast, boolean reversible) throws Exception {
        Map<String, Object> meta = new ObjectMapper().readValue(Fixtures.of("revsnn", name, "meta.json").toFile(), Map.class);
        Map<String, Object> ctor = (Map<String, Object>) meta.get("constructor");
        ctor.put("reversible", reversible);
        if (channelsLast != null) ctor.put("channels_last", channelsLast);
        FamilyModel m = new RevSNNFamily().build(meta);
        assertEquals(channelsLast == null || channelsLast, ((RevSNNFamily.Model) m).net().config().channelsLast());
        StateDictIO.loadStateDict(m.module(), StateDicts.tensors(TorchFile.load(Fixtures.of("revsnn", name, "model.pth")), "model.pth"), true);
        Map<String, Object> io = (Map<String, Object>) TorchFile.load(Fixtures.of("revsnn", name, "io.pt"));
        Tensor[] lo = m.forwardLoss((Tensor) io.get("input"), (Tensor) io.get("target"));
        m.backward(lo[1]);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("logits", lo[0]);
        out.put("loss", lo[1]);
        StateDictIO.namedParameters(m.module()).forEach((k, p) -> out.put("grad:" + k, new Tensor(p.grad())));
        StateDictIO.stateDict(m.module()).forEach((k, v) -> out.put("state:" + k, v));
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"revsresnet_cifar_tiny", "revsresnet_cifar_multiblock", "revsresnet_dvs_tiny"})
    void sameStepAsNchw(String name) throws Exception {
        for (boolean reversible : new boolean[]{true, false}) {
            try (PointerScope s = new PointerScope()) {
                Map<String, Tensor> cl = step(name, null, reversible), nchw = step(name, false, reversible);
                assertEquals(nchw.keySet(), cl.keySet());
                double worst = 0;
                for (String k : nchw.keySet()) {
                    Tensor a = cl.get(k).detach().to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
                    Tensor b = nchw.get(k).detach().to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
                    Tensor excess = a.sub(b).abs().sub(b.abs().mul(new org.bytedeco.pytorch.Scalar(1e-4)));
                    double e = excess.max().item_double();
                    assertTrue(e <= 1e-5, name + (reversible ? " reversible " : " plain ") + k + ": |NHWC - NCHW| exceeds 1e-5 + 1e-4|NCHW| by " + (e - 1e-5));
                    worst = Math.max(worst, a.sub(b).abs().max().item_double());
                }
                System.out.printf("%s %s: NHWC vs NCHW max abs diff %.3e%n", name, reversible ? "reversible" : "plain", worst);
            }
        }
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
}
