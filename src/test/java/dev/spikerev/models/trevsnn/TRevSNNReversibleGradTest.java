package dev.spikerev.models.trevsnn;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import dev.spikerev.testutil.Fixtures;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reversible backward (save_memory=true) against plain autograd (save_memory=false) on each fixture's weights:
 * one training forward + compound loss + backward on each path from the same model.pth; every parameter gradient
 * (alias names of the shared {@code *_reuse} tensors included) within 1e-5 max abs, logits and loss equal.
 */
class TRevSNNReversibleGradTest {
    static final double GRAD_ATOL = 1e-5;

    @SuppressWarnings("unchecked")
    @ParameterizedTest
    @ValueSource(strings = {"k3_rev", "k5_rev", "k3_plain"})
    void reversibleGradsEqualPlainGrads(String name) throws Exception {
        Natives.setThreads(2);
        Path dir = Fixtures.of("t-revsnn", name);
        Map<String, Object> meta = new ObjectMapper().readValue(dir.resolve("meta.json").toFile(), Map.class);
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> weights = StateDicts.tensors(TorchFile.load(dir.resolve("model.pth")));
            Map<String, Object> io = (Map<String, Object>) TorchFile.load(dir.resolve("io.pt"));
            Tensor x = (Tensor) io.get("input"), y = (Tensor) io.get("target");

            Run rev = run(meta, weights, x, y, true);
            Run plain = run(meta, weights, x, y, false);

            double lossDiff = Math.abs(rev.loss - plain.loss);
            double logitDiff = 0;
            for (int h = 0; h < rev.heads.size(); h++)
                logitDiff = Math.max(logitDiff, maxAbs(rev.heads.get(h), plain.heads.get(h)));
            double worst = 0, worstRel = 0;
            String worstName = "";
            int bitwise = 0;
            assertEquals(plain.grads.keySet(), rev.grads.keySet(), "same parameter names on both paths");
            for (Map.Entry<String, Tensor> e : plain.grads.entrySet()) {
                Tensor gr = rev.grads.get(e.getKey());
                assertNotNull(gr, "no gradient on the reversible path for " + e.getKey());
                double d = maxAbs(gr, e.getValue());
                double scale = e.getValue().abs().max().item_double();
                if (d == 0) bitwise++;
                if (d > worst) { worst = d; worstName = e.getKey(); }
                if (scale > 0) worstRel = Math.max(worstRel, d / scale);
            }
            System.out.printf("[rev-vs-plain] %-8s loss %.8f vs %.8f (|d| %.3g); logits (4 heads) max |d| %.3g; "
                            + "grads: %d names (aliases incl.), %d bit-identical, max abs %.3g (%s), max rel %.3g%n",
                    name, rev.loss, plain.loss, lossDiff, logitDiff, plain.grads.size(), bitwise, worst, worstName, worstRel);
            assertEquals(0.0, lossDiff, 1e-6, "loss");
            assertTrue(logitDiff <= 1e-6, "train logits differ by " + logitDiff);
            assertTrue(worst <= GRAD_ATOL, "grad " + worstName + " differs by " + worst);
            // every alias of a shared tensor reports the same (total) gradient
            for (Map.Entry<String, Tensor> e : rev.grads.entrySet())
                if (e.getKey().contains("_reuse.") && !e.getKey().startsWith("subnet0."))
                    assertEquals(0.0, maxAbs(e.getValue(), rev.grads.get(e.getKey().replaceFirst("^subnet\\d+\\.", "subnet0."))));
        }
    }

    record Run(List<Tensor> heads, double loss, Map<String, Tensor> grads) {}

    @SuppressWarnings("unchecked")
    static Run run(Map<String, Object> meta, Map<String, Tensor> weights, Tensor x, Tensor y, boolean saveMemory) {
        Map<String, Object> c = new LinkedHashMap<>((Map<String, Object>) meta.get("constructor"));
        c.put("save_memory", saveMemory);
        TRevSNN net = new TRevSNN(TRevSNNConfig.fromConstructor(c));
        StateDictIO.loadStateDict(net, weights, true);
        net.train(true);
        List<Tensor> heads = net.forward(x);
        Tensor loss = TRevSNNFamily.compoundLoss(heads, y, 0.1);
        net.backward(loss);
        Map<String, Tensor> grads = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : dev.spikerev.nn.StateDictIO.namedParameters(net).entrySet()) {
            Tensor g = e.getValue().grad();
            if (g.defined()) grads.put(e.getKey(), new Tensor(g).detach().clone());
        }
        List<Tensor> detached = heads.stream().map(t -> t.detach().clone()).toList();
        return new Run(detached, loss.item_double(), grads);
    }

    static double maxAbs(Tensor a, Tensor b) {
        return a.to(ScalarType.Double).sub(b.to(ScalarType.Double)).abs().max().item_double();
    }
}
