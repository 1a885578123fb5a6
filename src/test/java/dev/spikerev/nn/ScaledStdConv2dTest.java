package dev.spikerev.nn;

import static org.bytedeco.pytorch.global.torch.randn;
import static org.junit.jupiter.api.Assertions.*;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The standardised weight is computed once per parameter state: cached values equal a fresh computation bit for bit
 * and follow in-place updates; the deferred weight gradient (one leaf for all uses, pushed through the
 * standardisation once) equals autograd's per-use gradient - bit for bit for one use, to float rounding for several.
 */
class ScaledStdConv2dTest {

    static ScaledStdConv2d conv() {
        org.bytedeco.pytorch.global.torch.manual_seed(7);
        ScaledStdConv2d c = new ScaledStdConv2d(6, 5, 3, 1);
        try (NoGradGuard ng = new NoGradGuard()) { c.gain().uniform_(0.5, 1.5, new org.bytedeco.pytorch.GeneratorOptional()); }
        return c;
    }

    /** {@code conv(x)} with autograd on, one fresh graph per use (defer off). */
    static Tensor out(ScaledStdConv2d c, Tensor x) { return c.forward(x); }

    @Test
    void cachedValueMatchesFreshAndFollowsUpdates() {
        try (PointerScope s = new PointerScope()) {
            ScaledStdConv2d c = conv();
            Tensor x = randn(2, 6, 7, 7);
            Tensor withGraph = out(c, x).detach();
            Tensor cached;
            try (NoGradGuard ng = new NoGradGuard()) { cached = out(c, x); }
            assertTrue(withGraph.equal(cached), "no-grad (cached) forward = graph forward, bit for bit");
            try (NoGradGuard ng = new NoGradGuard()) {
                c.weight().add_(new Scalar(0.25)).mul_(new Scalar(1.5)); // an optimizer-like in-place update
                c.gain().mul_(new Scalar(0.5));
            }
            Tensor afterGraph = out(c, x).detach();
            Tensor afterCached;
            try (NoGradGuard ng = new NoGradGuard()) { afterCached = out(c, x); }
            assertFalse(afterCached.equal(cached), "the cache follows the in-place update");
            assertTrue(afterGraph.equal(afterCached));
            // a module sharing the parameters sees the same standardised weight
            Tensor shared;
            try (NoGradGuard ng = new NoGradGuard()) { shared = c.sharing().forward(x); }
            assertTrue(shared.equal(afterCached));
        }
    }

    @Test
    void deferredGradientEqualsAutograd() {
        try (PointerScope s = new PointerScope()) {
            Tensor x1 = randn(2, 6, 7, 7), x2 = randn(2, 6, 7, 7), r1 = randn(2, 5, 7, 7), r2 = randn(2, 5, 7, 7);
            for (int uses = 1; uses <= 2; uses++) {
                ScaledStdConv2d plain = conv(), deferred = conv();
                ScaledStdConv2d plainShared = plain.sharing(), deferredShared = deferred.sharing();
                deferred.deferWeightGradient(true);
                deferredShared.deferWeightGradient(true);
                Tensor lp = out(plain, x1).mul(r1).sum(), ld = out(deferred, x1).mul(r1).sum();
                if (uses == 2) {
                    lp = lp.add(out(plainShared, x2).mul(r2).sum());
                    ld = ld.add(out(deferredShared, x2).mul(r2).sum());
                }
                lp.backward();
                ld.backward();
                assertFalse(deferred.weight().grad().defined(), "nothing reaches the weight before finishDeferred");
                deferred.finishDeferred();
                deferredShared.finishDeferred(); // the shared cache: already done, a no-op
                for (String p : new String[]{"weight", "gain", "bias"}) {
                    Tensor a = param(plain, p).grad(), b = param(deferred, p).grad();
                    if (uses == 1) assertTrue(a.equal(b), p + " grad: one use is autograd's bits");
                    else assertTrue(a.sub(b).abs().max().item_double() <= 1e-5 * (1 + a.abs().max().item_double()),
                            p + " grad: two uses differ by " + a.sub(b).abs().max().item_double());
                }
                deferred.deferWeightGradient(false);
            }
        }
    }

    @Test
    void changingWeightsBeforeFinishingIsAnError() {
        try (PointerScope s = new PointerScope()) {
            ScaledStdConv2d c = conv();
            c.deferWeightGradient(true);
            out(c, randn(1, 6, 5, 5)).sum().backward();
            try (NoGradGuard ng = new NoGradGuard()) { c.weight().add_(new Scalar(1.0)); }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> out(c, randn(1, 6, 5, 5)));
            assertTrue(e.getMessage().contains("deferred weight gradient"), e.getMessage());
        }
    }

    static Tensor param(ScaledStdConv2d c, String name) {
        return switch (name) {
            case "weight" -> c.weight();
            case "gain" -> c.gain();
            default -> c.bias();
        };
    }
}
