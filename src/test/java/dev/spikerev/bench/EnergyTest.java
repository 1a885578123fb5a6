package dev.spikerev.bench;

import static org.junit.jupiter.api.Assertions.*;
import static org.bytedeco.pytorch.global.torch.*;

import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.Linear;
import dev.spikerev.nn.OpCounter;
import dev.spikerev.nn.SpikeModule;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SOP / MAC counting against a tiny network counted by hand. */
class EnergyTest {
    /** conv1 (1->2, 3x3, pad 1) on pixels, conv2 (2->3, 1x1) and fc (48->10) on given spike tensors. */
    static final class Tiny extends SpikeModule {
        final Conv2d conv1 = register_module("conv1", new Conv2d(1, 2, 3, 1, 1, 1, true));
        final Conv2d conv2 = register_module("conv2", new Conv2d(2, 3, 1, 1, 0, 1, false));
        final Linear fc = register_module("fc", new Linear(48, 10));

        void run(Tensor x, Tensor s1, Tensor s2) {
            conv1.forward(x);
            conv2.forward(s1);
            fc.forward(s2);
        }
    }

    @AfterEach
    void off() { OpCounter.uninstall(); }

    static Tensor fromFloats(float[] v, long... shape) {
        return tensor(v).reshape(shape).clone();
    }

    @Test
    void countsMatchTheHandComputedNetwork() {
        try (PointerScope scope = new PointerScope()) {
            Tiny net = new Tiny();
            // pixels: dense (not integers) -> full MACs
            Tensor x = rand(2, 1, 4, 4).add(dev.spikerev.tensor.Ops.s(0.01));
            // s1: 10 ones among 2*2*4*4 = 64 elements
            float[] a = new float[64];
            for (int i = 0; i < 10; i++) a[i * 6] = 1f;
            // s2: integer levels: 20 non-zeros among 96, values summing to 30 (ten 2s, ten 1s)
            float[] b = new float[96];
            for (int i = 0; i < 20; i++) b[i * 4 + 1] = i < 10 ? 2f : 1f;
            try (Energy meter = new Energy(net)) {
                net.run(x, fromFloats(a, 2, 2, 4, 4), fromFloats(b, 2, 48));
                meter.addImages(2);
                Map<String, Energy.Layer> byName = new java.util.HashMap<>();
                for (Energy.Layer l : meter.layers()) byName.put(l.name, l);
                assertEquals(List.of("conv1", "conv2", "fc"), meter.layers().stream().map(l -> l.name).toList());
                // conv1: outputs 2 images x 2 ch x 16 px = 64, x 1 in-channel x 9 taps = 576 MACs (288 per image)
                Energy.Layer c1 = byName.get("conv1");
                assertEquals("MAC", c1.kind());
                assertEquals(576, c1.macs(), 0);
                assertEquals(0, c1.sops(), 0);
                assertTrue(Double.isNaN(c1.firingRate()));
                // conv2: 2 x 3 x 16 outputs x 2 in-channels = 192 dense MACs; mean spike 10/64 -> 30 SOPs
                Energy.Layer c2 = byName.get("conv2");
                assertEquals("AC", c2.kind());
                assertEquals(192, c2.denseMacs(), 0);
                assertEquals(30, c2.sops(), 1e-9);
                assertEquals(10.0 / 64, c2.firingRate(), 1e-12);
                // fc: 2 x 10 outputs x 48 = 960 dense MACs; mean value 30/96 -> 300 SOPs; firing rate 20/96
                Energy.Layer fc = byName.get("fc");
                assertEquals(300, fc.sops(), 1e-9);
                assertEquals(20.0 / 96, fc.firingRate(), 1e-12);
                assertEquals(30.0 / 96, fc.meanSpike(), 1e-12);
                // per image: 288 x 4.6 pJ + (15 + 150) x 0.9 pJ = 1473.3 pJ
                assertEquals(1473.3e-9, meter.totalMjPerImage(), 1e-15);
                assertEquals((288 + 96 + 480) * 4.6e-9, meter.annMjPerImage(), 1e-15);
                Map<String, Object> rep = meter.report();
                assertEquals(2L, rep.get("images"));
                assertEquals(165.0, (double) rep.get("sops_per_image"), 1e-9);
                assertEquals(3, ((List<?>) rep.get("layers")).size());
            }
            assertFalse(OpCounter.active(), "closing the meter uninstalls it");
        }
    }

    @Test
    void matmulUsesTheFirstSpikeOperandAndNamesTheOwner() {
        try (PointerScope scope = new PointerScope()) {
            Tiny net = new Tiny();
            Tensor dense = rand(1, 4, 3).add(dev.spikerev.tensor.Ops.s(0.01));
            float[] v = {1, 0, 0, 1, 1, 0}; // 3 ones of 6
            Tensor spikes = fromFloats(v, 1, 3, 2);
            try (Energy meter = new Energy(net)) {
                Tensor y = dense.matmul(spikes);
                OpCounter.matmul(net.conv2, "matmul", dense, spikes, y);
                meter.addImages(1);
                Energy.Layer l = meter.layers().get(0);
                assertEquals("conv2.matmul", l.name);
                assertEquals(24, l.denseMacs(), 0);       // 4 x 2 outputs x 3 contracted
                assertEquals(12, l.sops(), 1e-9);         // x mean(spikes) = 1/2
                assertEquals("AC", l.kind());
            }
        }
    }

    @Test
    void zeroInputCostsNothingAndNegativeValuesAreDense() {
        try (PointerScope scope = new PointerScope()) {
            Tiny net = new Tiny();
            try (Energy meter = new Energy(net)) {
                net.conv2.forward(zeros(1, 2, 4, 4));
                net.conv2.forward(ones(1, 2, 4, 4).neg());
                meter.addImages(1);
                Energy.Layer l = meter.layers().get(0);
                assertEquals("mixed", l.kind());
                assertEquals(0, l.sops(), 0);
                assertEquals(96, l.macs(), 0);
            }
        }
    }

    @Test
    void rejectsNegativeEnergies() {
        Tiny net = new Tiny();
        assertThrows(IllegalArgumentException.class, () -> new Energy(net, -1, 0.9));
        assertFalse(OpCounter.active());
    }
}
