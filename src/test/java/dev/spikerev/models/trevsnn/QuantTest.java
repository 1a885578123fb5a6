package dev.spikerev.models.trevsnn;

import static org.junit.jupiter.api.Assertions.*;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The training-mode spike: graph-free (in place) and with-graph paths give the same bits, boundaries included. */
class QuantTest {

    static float below(float x, int ulps) {
        for (int i = 0; i < ulps; i++) x = Math.nextDown(x);
        return x;
    }

    @Test
    void graphFreeSpikesEqualTheGraphPath() {
        try (PointerScope s = new PointerScope()) {
            float[] edge = {-1f, 0f, 1e-30f, 0.25f, below(0.5f, 1), below(0.5f, 2), below(0.5f, 3), below(0.5f, 4), 0.5f,
                    Math.nextUp(0.5f), 0.75f, below(1f, 1), 1f, 1.5f, Float.MIN_VALUE, -0f};
            Tensor v = org.bytedeco.pytorch.global.torch.cat(new org.bytedeco.pytorch.TensorVector(Tensor.create(edge),
                    org.bytedeco.pytorch.global.torch.rand(4096).mul(new org.bytedeco.pytorch.Scalar(1.4))
                            .sub(new org.bytedeco.pytorch.Scalar(0.2))));
            Tensor leaf = v.detach().requires_grad_(true);
            Tensor withGraph = Quant.spike(leaf, true);
            assertTrue(withGraph.requires_grad());
            Tensor free;
            try (NoGradGuard ng = new NoGradGuard()) { free = Quant.spike(v, true); }
            assertFalse(free.requires_grad());
            assertTrue(withGraph.detach().equal(free), "same bits");
            // exactly 0 or 1 everywhere (the graph path's vc + (floor(vc + 0.5) - vc) sum is exact)
            Tensor ones = free.eq(new org.bytedeco.pytorch.Scalar(1.0)), zeros = free.eq(new org.bytedeco.pytorch.Scalar(0.0));
            assertTrue(ones.logical_or(zeros).all().item_bool());
            assertEquals(1.0, free.get(8).item_double()); // 0.5 itself fires
        }
    }
}
