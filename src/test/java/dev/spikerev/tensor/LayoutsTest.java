package dev.spikerev.tensor;

import static org.bytedeco.pytorch.global.torch.randn;
import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.nn.IFNeuron;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.MemoryFormat;
import org.junit.jupiter.api.Test;

/** Memory order and layout-keeping {@code cat} for channels-last {@code [T, B, C, H, W]} stage tensors. */
class LayoutsTest {

    /** {@code [T, B, C, H, W]} whose {@code [T*B, C, H, W]} flattening is channels-last. */
    static Tensor channelsLast5d(long t, long b, long c, long h, long w) {
        return Layouts.channelsLast5d(randn(t, b, c, h, w));
    }

    static boolean nhwc(Tensor t5) { return Layouts.isChannelsLast5d(t5); }

    @Test
    void channelsLast5dKeepsValuesAndIsRecognised() {
        try (PointerScope s = new PointerScope()) {
            Tensor x = randn(2, 3, 4, 5, 6);
            assertFalse(Layouts.isChannelsLast5d(x));
            Tensor cl = Layouts.channelsLast5d(x);
            assertTrue(Layouts.isChannelsLast5d(cl));
            assertTrue(cl.flatten(0, 1).is_contiguous(MemoryFormat.ChannelsLast));
            assertTrue(cl.equal(x));
        }
    }

    @Test
    void memoryOrderReadsStrides() {
        try (PointerScope s = new PointerScope()) {
            assertArrayEquals(new int[]{0, 1, 2, 3, 4}, Layouts.memoryOrder(randn(2, 3, 4, 5, 6)));
            assertArrayEquals(new int[]{0, 1, 3, 4, 2}, Layouts.memoryOrder(channelsLast5d(2, 3, 4, 5, 6)));
            assertArrayEquals(new int[]{0, 2, 3, 1}, Layouts.memoryOrder(randn(2, 4, 5, 6).contiguous(MemoryFormat.ChannelsLast)));
            // size-1 dims go first whatever their stride; the rest by stride
            assertArrayEquals(new int[]{1, 0, 3, 4, 2}, Layouts.memoryOrder(channelsLast5d(2, 1, 4, 5, 6)));
        }
    }

    @Test
    void catKeepsTheInputsMemoryOrder() {
        try (PointerScope s = new PointerScope()) {
            Tensor a = channelsLast5d(2, 3, 4, 5, 6), b = channelsLast5d(2, 3, 4, 5, 6);
            Tensor out = Layouts.cat(new Tensor[]{a, b}, 2);
            Tensor expected = org.bytedeco.pytorch.global.torch.cat(new TensorVector(a, b), 2);
            assertTrue(expected.equal(out));
            assertTrue(expected.is_contiguous(), "libtorch's 5-d cat writes row-major");
            assertTrue(nhwc(out));
            // row-major inputs: the plain cat
            Tensor p = randn(2, 3, 4, 5), q = randn(2, 3, 4, 5);
            Tensor pq = Layouts.cat(new Tensor[]{p, q}, 1);
            assertTrue(pq.is_contiguous());
            assertTrue(org.bytedeco.pytorch.global.torch.cat(new TensorVector(p, q), 1).equal(pq));
        }
    }

    @Test
    void catOfHalvesRebuildsTheWholeWithGradients() {
        try (PointerScope s = new PointerScope()) {
            Tensor x = channelsLast5d(2, 2, 6, 3, 3).requires_grad_(true);
            TensorVector h = x.chunk(2, 2);
            Tensor y = Layouts.cat(new Tensor[]{new Tensor(h.get(0)), new Tensor(h.get(1))}, 2);
            assertTrue(y.equal(x));
            assertTrue(nhwc(y));
            y.mul(randn(2, 2, 6, 3, 3)).sum().backward();
            assertTrue(x.grad().defined());
        }
    }

    /** What the channels-last RevSResNet relies on: a neuron fed a channel half (a view with gaps) answers dense NHWC. */
    @Test
    void neuronOnAChannelsLastHalfGivesDenseNhwc() {
        try (PointerScope s = new PointerScope()) {
            Tensor x = channelsLast5d(3, 2, 8, 4, 4).requires_grad_(true);
            Tensor half = new Tensor(x.chunk(2, 2).get(1));
            assertFalse(half.is_non_overlapping_and_dense());
            IFNeuron n = new IFNeuron(true, Surrogate.atan(2.0));
            Tensor spikes = n.forward(half);
            assertTrue(spikes.is_non_overlapping_and_dense());
            assertTrue(nhwc(spikes));
            Tensor reference = n.forward(half.detach().contiguous());
            assertTrue(reference.equal(spikes.detach()));
            spikes.sum().backward();
            assertTrue(x.grad().defined());
        }
    }
}
