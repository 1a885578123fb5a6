package dev.spikerev.nn;

import static org.bytedeco.pytorch.global.torch.randn;
import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.autograd.Surrogate;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link MultiStepNeuron#setKeepInputForBackward}: keeping the input and recomputing H and the surrogate derivatives
 * in backward gives the same spikes and input gradients, bit for bit, for every reset / decay flavour; changing the
 * kept input in place before backward is an error.
 */
class NeuronKeepInputTest {

    static List<Supplier<MultiStepNeuron>> flavours() {
        return List.of(
                () -> new IFNeuron(true, Surrogate.atan(2.0)),
                () -> new IFNeuron(1.0, null, false, Surrogate.atan(2.0)),              // soft reset, no detach
                () -> new LIFNeuron(1.5, 1.0, true),
                () -> new LIFNeuron(2.0, true, 1.0, 0.0, true, Surrogate.sigmoid()),   // hard reset, detach
                () -> new LIFNeuron(2.0, true, 1.0, 0.0, false, Surrogate.sigmoid()),  // hard reset, no detach
                () -> new LIFNeuron(2.0, true, 1.0, null, true, Surrogate.sigmoid()),  // soft reset
                () -> new LIFNeuron(2.0, false, 1.0, null, false, Surrogate.sigmoid()));
    }

    /** {spikes, dL/dX} for L = sum(S * r). */
    static Tensor[] run(MultiStepNeuron n, Tensor x, Tensor r) {
        Tensor leaf = x.detach().requires_grad_(true);
        Tensor s = n.forward(leaf);
        s.mul(r).sum().backward();
        return new Tensor[]{s.detach(), leaf.grad()};
    }

    @Test
    void sameSpikesAndGradientsBitForBit() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = randn(6, 3, 4, 5).mul(new Scalar(1.5)), r = randn(6, 3, 4, 5);
            for (Supplier<MultiStepNeuron> f : flavours()) {
                MultiStepNeuron kept = f.get(), plain = f.get();
                kept.setKeepInputForBackward(true);
                Tensor[] a = run(kept, x, r), b = run(plain, x, r);
                assertTrue(a[0].equal(b[0]), kept + ": spikes");
                assertTrue(a[1].equal(b[1]), kept + ": input gradient");
                assertTrue(a[0].sum().item_double() > 0, "some spikes");
            }
            assertEquals(0, MultiStepNeuron.pendingHooks());
        }
    }

    @Test
    void inputChangedInPlaceBeforeBackwardIsAnError() {
        try (PointerScope scope = new PointerScope()) {
            MultiStepNeuron n = new IFNeuron(true, Surrogate.atan(2.0));
            n.setKeepInputForBackward(true);
            Tensor leaf = randn(4, 2, 3).requires_grad_(true);
            Tensor x = leaf.mul(new Scalar(2.0));
            Tensor s = n.forward(x);
            try (NoGradGuard ng = new NoGradGuard()) { x.add_(new Scalar(1.0)); }
            RuntimeException e = assertThrows(RuntimeException.class, () -> s.sum().backward());
            assertTrue(String.valueOf(e.getMessage()).contains("modified in place"), e.getMessage());
            MultiStepNeuron.discardPendingHooks();
        }
    }
}
