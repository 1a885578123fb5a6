package dev.spikerev.autograd;

import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.tensor.Natives;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ReversibleSequenceTest {

    static final double TOL = 1e-5;

    @BeforeAll
    static void init() {
        Natives.setThreads(2);
    }

    static Map<String, Tensor> grads(Module m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        StringTensorDict d = m.named_parameters(true);
        for (long i = 0; i < d.size(); i++) {
            Tensor g = d.get(i).value().grad();
            assertTrue(g.defined(), "no grad for " + d.get(i).key().getString());
            out.put(d.get(i).key().getString(), g.clone());
        }
        return out;
    }

    static Map<String, Tensor> buffers(Module m) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        StringTensorDict d = m.named_buffers(true);
        for (long i = 0; i < d.size(); i++) out.put(d.get(i).key().getString(), d.get(i).value().clone());
        return out;
    }

    static void setBuffers(Module m, Map<String, Tensor> values) {
        StringTensorDict d = m.named_buffers(true);
        try (NoGradGuard ng = new NoGradGuard()) {
            for (long i = 0; i < d.size(); i++) d.get(i).value().copy_(values.get(d.get(i).key().getString()));
        }
    }

    static double maxAbs(Tensor a, Tensor b) {
        return a.sub(b).abs().max().item_double();
    }

    /** Max abs diff over all parameter grads; asserts each within TOL. */
    static double compareGrads(Map<String, Tensor> expect, Map<String, Tensor> actual, String what) {
        assertEquals(expect.keySet(), actual.keySet());
        double worst = 0;
        for (String k : expect.keySet()) {
            double d = maxAbs(expect.get(k), actual.get(k));
            worst = Math.max(worst, d);
            assertTrue(d <= TOL, what + ": grad of " + k + " differs by " + d);
        }
        return worst;
    }

    @Test
    void gradsMatchPlainAutogradThroughStemBlocksAndHead() {
        try (PointerScope scope = new PointerScope()) {
            manual_seed(0);
            ToyRevNet net = new ToyRevNet(16, 3, false);
            Tensor img = randn(4, 3, 16, 16);
            Tensor target = randint(10, new long[] {4}, new TensorOptions(ScalarType.Long));

            Tensor imgP = img.clone();
            imgP.requires_grad_(true);
            Tensor lossP = net.forwardPlain(imgP, target);
            lossP.backward();
            Map<String, Tensor> gP = grads(net);
            Tensor dImgP = imgP.grad().clone();
            net.zero_grad(true);

            ReversibleSequence rev = net.sequence(ReversibleSequence.StatsPolicy.RESTORE);
            Tensor imgR = img.clone();
            imgR.requires_grad_(true);
            Tensor lossR = net.forwardRev(rev, imgR, target);
            lossR.backward();
            Map<String, Tensor> gR = grads(net);

            double dl = Math.abs(lossP.item_double() - lossR.item_double());
            double dg = compareGrads(gP, gR, "reversible");
            double di = maxAbs(dImgP, imgR.grad());
            double maxG = gP.values().stream().mapToDouble(t -> t.abs().max().item_double()).max().orElse(0);
            System.out.printf("reversible vs plain (3 blocks, 2x16ch, 4x16x16): loss %.6f vs %.6f (diff %.2g), "
                    + "max param-grad diff %.3g over %d tensors (max |grad| %.3g), input-grad diff %.3g%n",
                    lossP.item_double(), lossR.item_double(), dl, dg, gP.size(), maxG, di);
            assertTrue(dl <= TOL);
            assertTrue(di <= TOL, "input grad differs by " + di);
            assertTrue(gP.containsKey("stem.weight") && gP.containsKey("head.weight") && gP.containsKey("blocks.2.f_conv.weight"));
            assertEquals(0, rev.pendingBackwards());
        }
    }

    @Test
    void spikingBlocksWithSurrogateGradients() {
        try (PointerScope scope = new PointerScope()) {
            manual_seed(6);
            ToyRevNet net = new ToyRevNet(8, 3, true, Surrogate.atan());
            Tensor img = randn(4, 3, 8, 8);
            Tensor target = randint(10, new long[] {4}, new TensorOptions(ScalarType.Long));
            Map<String, Tensor> initial = buffers(net);
            Tensor imgP = img.clone();
            imgP.requires_grad_(true);
            Tensor lossP = net.forwardPlain(imgP, target);
            lossP.backward();
            Map<String, Tensor> gP = grads(net);
            Tensor dImgP = imgP.grad().clone();
            net.zero_grad(true);
            setBuffers(net, initial);
            ReversibleSequence rev = net.sequence(ReversibleSequence.StatsPolicy.RESTORE);
            Tensor imgR = img.clone();
            imgR.requires_grad_(true);
            Tensor lossR = net.forwardRev(rev, imgR, target);
            lossR.backward();
            double dg = compareGrads(gP, grads(net), "spiking");
            double di = maxAbs(dImgP, imgR.grad());
            System.out.printf("spiking blocks (conv+BN+atan spike): loss diff %.2g, max param-grad diff %.3g, input-grad diff %.3g%n",
                    Math.abs(lossP.item_double() - lossR.item_double()), dg, di);
            assertTrue(di <= TOL);
        }
    }

    @Test
    void parameterGradsWithoutStemOrInputGrad() {
        try (PointerScope scope = new PointerScope()) {
            manual_seed(7);
            ToyRevNet net = new ToyRevNet(8, 2, false);
            Tensor h = randn(2, 16, 8, 8); // raw input, no grad
            Tensor target = randint(10, new long[] {2}, new TensorOptions(ScalarType.Long));
            TensorVector parts = h.chunk(2, 1);
            Tensor a = new Tensor(parts.get(0)), b = new Tensor(parts.get(1));
            for (ToyRevNet.Block blk : net.blocks) {
                Tensor[] y = blk.forward(a, b);
                a = y[0];
                b = y[1];
            }
            net.headLoss(cat(new TensorVector(a, b), 1), target).backward();
            Map<String, Tensor> gP = new LinkedHashMap<>();
            StringTensorDict d = net.named_parameters(true);
            for (long i = 0; i < d.size(); i++) {
                String k = d.get(i).key().getString();
                if (!k.startsWith("stem.")) gP.put(k, d.get(i).value().grad().clone()); // the stem is unused here
            }
            net.zero_grad(true);
            ReversibleSequence rev = net.sequence(ReversibleSequence.StatsPolicy.RESTORE);
            Tensor z = rev.apply(h);
            assertTrue(z.requires_grad());
            net.headLoss(z, target).backward();
            Map<String, Tensor> gR = new LinkedHashMap<>();
            for (String k : gP.keySet()) gR.put(k, findGrad(net, k));
            double dg = compareGrads(gP, gR, "no-stem");
            System.out.printf("no stem, input without grad: max param-grad diff %.3g%n", dg);
            assertEquals(0, rev.pendingBackwards());
        }
    }

    static Tensor findGrad(Module m, String key) {
        StringTensorDict d = m.named_parameters(true);
        for (long i = 0; i < d.size(); i++) if (d.get(i).key().getString().equals(key)) return d.get(i).value().grad().clone();
        throw new AssertionError("no parameter " + key);
    }

    @Test
    void batchNormStatsPolicies() {
        try (PointerScope scope = new PointerScope()) {
            manual_seed(1);
            ToyRevNet net = new ToyRevNet(8, 2, true);
            Tensor img = randn(4, 3, 8, 8);
            Tensor target = randint(10, new long[] {4}, new TensorOptions(ScalarType.Long));
            Map<String, Tensor> initial = buffers(net);

            Tensor lossP = net.forwardPlain(img, target);
            lossP.backward();
            Map<String, Tensor> gP = grads(net);
            Map<String, Tensor> bufP = buffers(net);

            for (ReversibleSequence.StatsPolicy policy : ReversibleSequence.StatsPolicy.values()) {
                net.zero_grad(true);
                setBuffers(net, initial);
                ReversibleSequence rev = net.sequence(policy);
                Tensor lossR = net.forwardRev(rev, img, target);
                lossR.backward();
                double dg = compareGrads(gP, grads(net), policy.toString());
                Map<String, Tensor> bufR = buffers(net);
                double worst = 0;
                for (String k : bufP.keySet()) {
                    Tensor p = bufP.get(k), r = bufR.get(k);
                    if (k.endsWith("num_batches_tracked")) {
                        long expect = policy == ReversibleSequence.StatsPolicy.RESTORE ? 1 : 2;
                        assertEquals(expect, r.item_long(), k + " under " + policy);
                        assertEquals(1, p.item_long());
                        continue;
                    }
                    Tensor expect = p;
                    if (policy == ReversibleSequence.StatsPolicy.UPDATE_TWICE) {
                        // the same batch statistics applied twice with momentum 0.1, from mean 0 / var 1:
                        // mean: 0.1 m -> 0.19 m ; var: 0.9 + 0.1 v -> 0.81 + 0.19 v
                        expect = k.endsWith("running_mean") ? p.mul(new Scalar(1.9))
                                : p.sub(new Scalar(0.9)).mul(new Scalar(1.9)).add(new Scalar(0.81));
                    }
                    double d = maxAbs(expect, r);
                    worst = Math.max(worst, d);
                    assertTrue(d <= 1e-5, k + " under " + policy + " differs by " + d);
                }
                System.out.printf("BN policy %-12s: max param-grad diff %.3g, max running-stat diff %.3g%n", policy, dg, worst);
            }
        }
    }

    @Test
    void chainedSequencesWithAuxiliaryHead() {
        try (PointerScope scope = new PointerScope()) {
            manual_seed(2);
            ToyRevNet net = new ToyRevNet(8, 4, false);
            Tensor img = randn(2, 3, 8, 8);
            Tensor target = randint(10, new long[] {2}, new TensorOptions(ScalarType.Long));

            // plain: aux loss on the state after block 1, main loss after block 3
            Tensor h = net.stem.forward(img);
            TensorVector parts = h.chunk(2, 1);
            Tensor a = new Tensor(parts.get(0)), b = new Tensor(parts.get(1));
            Tensor aux = null;
            for (int i = 0; i < 4; i++) {
                Tensor[] y = net.blocks.get(i).forward(a, b);
                a = y[0];
                b = y[1];
                if (i == 1) aux = net.headLoss(cat(new TensorVector(a, b), 1), target);
            }
            Tensor lossP = net.headLoss(cat(new TensorVector(a, b), 1), target).add(aux.mul(new Scalar(0.5)));
            lossP.backward();
            Map<String, Tensor> gP = grads(net);
            net.zero_grad(true);

            ReversibleSequence first = new ReversibleSequence(net.blocks.subList(0, 2), 1, ReversibleSequence.StatsPolicy.RESTORE);
            ReversibleSequence second = new ReversibleSequence(net.blocks.subList(2, 4), 1, ReversibleSequence.StatsPolicy.RESTORE);
            Tensor z1 = first.apply(net.stem.forward(img));
            Tensor z2 = second.apply(z1);
            Tensor lossR = net.headLoss(z2, target).add(net.headLoss(z1, target).mul(new Scalar(0.5)));
            lossR.backward();
            double dg = compareGrads(gP, grads(net), "chained");
            System.out.printf("chained sequences + aux head: loss diff %.2g, max param-grad diff %.3g%n",
                    Math.abs(lossP.item_double() - lossR.item_double()), dg);
            assertEquals(0, first.pendingBackwards() + second.pendingBackwards());
        }
    }

    @Test
    void evalForwardHasNoGraphAndMatchesPlain() {
        try (PointerScope scope = new PointerScope()) {
            manual_seed(3);
            ToyRevNet net = new ToyRevNet(8, 3, false);
            ReversibleSequence rev = net.sequence(ReversibleSequence.StatsPolicy.RESTORE);
            Tensor img = randn(2, 3, 8, 8);
            try (NoGradGuard ng = new NoGradGuard()) {
                Tensor h = net.stem.forward(img);
                Tensor z = rev.apply(h);
                assertFalse(z.requires_grad());
                TensorVector parts = h.chunk(2, 1);
                Tensor a = new Tensor(parts.get(0)), b = new Tensor(parts.get(1));
                for (ToyRevNet.Block blk : net.blocks) {
                    Tensor[] y = blk.forward(a, b);
                    a = y[0];
                    b = y[1];
                }
                assertTrue(z.equal(cat(new TensorVector(a, b), 1)), "eval output differs from plain forward");
                // inverse round trip
                Tensor[] x = net.blocks.get(0).inverse(net.blocks.get(0).forward(new Tensor[] {a, b}));
                double d = Math.max(maxAbs(x[0], a), maxAbs(x[1], b));
                System.out.printf("AdditiveCoupling inverse(forward(x)) - x: %.3g%n", d);
                assertTrue(d < 1e-5);
            }
            assertEquals(0, rev.pendingBackwards());
        }
    }

    /** Affine coupling over streams of different shapes, using the default (generic) backward. */
    static final class AffineCoupling extends Module implements ReversibleBlock {
        final LinearImpl w, v, u;

        AffineCoupling() {
            w = register_module("w", new LinearImpl(6, 4));
            v = register_module("v", new LinearImpl(6, 4));
            u = register_module("u", new LinearImpl(4, 6));
        }

        @Override public Tensor[] forward(Tensor[] x) {
            Tensor s = w.forward(x[1]).tanh();
            Tensor y1 = x[0].mul(s.exp()).add(v.forward(x[1]));
            Tensor y2 = x[1].add(u.forward(y1));
            return new Tensor[] {y1, y2};
        }

        @Override public Tensor[] inverse(Tensor[] y) {
            Tensor x2 = y[1].sub(u.forward(y[0]));
            Tensor s = w.forward(x2).tanh();
            Tensor x1 = y[0].sub(v.forward(x2)).mul(s.neg().exp());
            return new Tensor[] {x1, x2};
        }
    }

    @Test
    void genericBlockWithStreamsOfDifferentShapes() {
        try (PointerScope scope = new PointerScope()) {
            manual_seed(4);
            Module root = new Module();
            LinearImpl stem = root.register_module("stem", new LinearImpl(5, 10));
            List<AffineCoupling> blocks = List.of(root.register_module("b0", new AffineCoupling()),
                    root.register_module("b1", new AffineCoupling()), root.register_module("b2", new AffineCoupling()));
            LinearImpl head = root.register_module("head", new LinearImpl(10, 3));
            Tensor in = randn(7, 5);
            Tensor target = randint(3, new long[] {7}, new TensorOptions(ScalarType.Long));

            Tensor h = stem.forward(in);
            Tensor[] s = {h.narrow(1, 0, 4), h.narrow(1, 4, 6)};
            for (AffineCoupling b : blocks) s = b.forward(s);
            Tensor lossP = cross_entropy(head.forward(cat(new TensorVector(s[0], s[1]), 1)), target);
            lossP.backward();
            Map<String, Tensor> gP = grads(root);
            root.zero_grad(true);

            ReversibleSequence rev = new ReversibleSequence(blocks, 1, ReversibleSequence.StatsPolicy.RESTORE);
            Tensor h2 = stem.forward(in);
            Tensor[] z = rev.applyStreams(h2.narrow(1, 0, 4), h2.narrow(1, 4, 6));
            assertArrayEquals(new long[] {7, 4}, new long[] {z[0].size(0), z[0].size(1)});
            assertArrayEquals(new long[] {7, 6}, new long[] {z[1].size(0), z[1].size(1)});
            Tensor lossR = cross_entropy(head.forward(cat(new TensorVector(z[0], z[1]), 1)), target);
            lossR.backward();
            double dg = compareGrads(gP, grads(root), "generic");
            System.out.printf("generic affine coupling via applyStreams: loss diff %.2g, max param-grad diff %.3g%n",
                    Math.abs(lossP.item_double() - lossR.item_double()), dg);
            assertEquals(0, rev.pendingBackwards());
        }
    }
}
