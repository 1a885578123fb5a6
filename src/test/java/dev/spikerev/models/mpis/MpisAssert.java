package dev.spikerev.models.mpis;

import java.util.Arrays;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

import static org.junit.jupiter.api.Assertions.*;
import static org.bytedeco.pytorch.global.torch.*;

/** Element-wise {@code |a − e| ≤ atol + rtol·|e|} comparisons that report the max abs diff (printed for the log). */
final class MpisAssert {
    private MpisAssert() {}

    /** Max abs diff; fails if any element violates the tolerance or shapes differ. */
    static double close(String what, Tensor actual, Tensor expected, double atol, double rtol) {
        assertNotNull(actual, what + ": missing");
        assertArrayEquals(expected.sizes().vec().get(), actual.sizes().vec().get(), what + ": shape");
        try (PointerScope ps = new PointerScope()) {
            Tensor a = actual.detach().to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
            Tensor e = expected.detach().to(org.bytedeco.pytorch.global.torch.ScalarType.Double);
            Tensor diff = a.sub(e).abs();
            double maxDiff = diff.numel() == 0 ? 0 : diff.max().item_double();
            Tensor excess = diff.sub(e.abs().mul(new org.bytedeco.pytorch.Scalar(rtol))).sub(new org.bytedeco.pytorch.Scalar(atol));
            double worst = excess.numel() == 0 ? -1 : excess.max().item_double();
            boolean nan = a.isnan().any().item_bool();
            assertFalse(nan, what + ": NaN in actual");
            assertTrue(worst <= 0, String.format("%s: max abs diff %.3e exceeds atol %.1e + rtol %.1e·|e| by %.3e", what, maxDiff, atol, rtol, worst));
            return maxDiff;
        }
    }

    /** Compares every key of {@code expected}; returns the max abs diff over the group. */
    static double closeAll(String group, Map<String, Tensor> actual, Map<String, Tensor> expected, double atol, double rtol) {
        double max = 0;
        for (Map.Entry<String, Tensor> e : expected.entrySet())
            max = Math.max(max, close(group + "[" + e.getKey() + "]", actual.get(e.getKey()), e.getValue(), atol, rtol));
        return max;
    }

    static void exact(String what, Tensor actual, Tensor expected) {
        assertArrayEquals(expected.sizes().vec().get(), actual.sizes().vec().get(), what + ": shape");
        assertTrue(equal(actual.detach().to(expected.scalar_type()), expected), what + ": not bitwise equal (max diff "
                + actual.detach().to(ScalarType.Double).sub(expected.to(ScalarType.Double)).abs().max().item_double() + ")");
    }

    static void report(String line) {
        System.out.println("[mpis] " + line);
    }

    static String shape(Tensor t) { return Arrays.toString(t.sizes().vec().get()); }
}
