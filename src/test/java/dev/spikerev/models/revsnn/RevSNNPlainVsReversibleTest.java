package dev.spikerev.models.revsnn;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.cli.SpikeRev;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.testutil.Fixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The plain-autograd (BPTT) RevSNN and the reversible one are the same function: on every fixture model, one training
 * step gives identical logits, loss, parameter gradients and BatchNorm buffers (max abs diff &lt;= 1e-5), and the plain
 * variant passes the full parity run too.
 */
class RevSNNPlainVsReversibleTest {
    static final String[] CASES = {"revsresnet_cifar_tiny", "revsresnet_cifar_multiblock", "revsformer_cifar_tiny",
            "revsresnet_dvs_tiny", "revsformer_dvs_tiny"};

    @TempDir Path tmp;

    @SuppressWarnings("unchecked")
    static Map<String, Object> meta(String name, boolean reversible) throws Exception {
        Map<String, Object> meta = new ObjectMapper().readValue(Fixtures.of("revsnn", name, "meta.json").toFile(), Map.class);
        ((Map<String, Object>) meta.get("constructor")).put("reversible", reversible);
        return meta;
    }

    static double maxDiff(Tensor a, Tensor b) {
        return a.detach().to(org.bytedeco.pytorch.global.torch.ScalarType.Double)
                .sub(b.detach().to(org.bytedeco.pytorch.global.torch.ScalarType.Double)).abs().max().item_double();
    }

    /** One train step from model.pth: {logits, loss, grads..., state_dict...} by name. */
    @SuppressWarnings("unchecked")
    static Map<String, Tensor> step(String name, boolean reversible) throws Exception {
        Map<String, Object> meta = meta(name, reversible);
        FamilyModel m = new RevSNNFamily().build(meta);
        assertEquals(reversible, ((RevSNNFamily.Model) m).net().config().reversible());
        StateDictIO.loadStateDict(m.module(), StateDicts.tensors(TorchFile.load(Fixtures.of("revsnn", name, "model.pth")), "model.pth"), true);
        Map<String, Object> io = (Map<String, Object>) TorchFile.load(Fixtures.of("revsnn", name, "io.pt"));
        Tensor[] lo = m.forwardLoss((Tensor) io.get("input"), (Tensor) io.get("target"));
        m.backward(lo[1]);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("logits", lo[0]);
        out.put("loss", lo[1]);
        dev.spikerev.nn.StateDictIO.namedParameters(m.module()).forEach((k, p) -> out.put("grad:" + k, new Tensor(p.grad())));
        StateDictIO.stateDict(m.module()).forEach((k, v) -> out.put("state:" + k, v));
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"revsresnet_cifar_tiny", "revsresnet_cifar_multiblock", "revsformer_cifar_tiny",
            "revsresnet_dvs_tiny", "revsformer_dvs_tiny"})
    void sameOutputsGradientsAndBuffers(String name) throws Exception {
        try (PointerScope s = new PointerScope()) {
            Map<String, Tensor> rev = step(name, true), plain = step(name, false);
            assertEquals(rev.keySet(), plain.keySet());
            double worst = 0, worstGrad = 0;
            String worstKey = "";
            for (String k : rev.keySet()) {
                double d = maxDiff(rev.get(k), plain.get(k));
                assertTrue(d <= 1e-5, name + " " + k + " differs by " + d);
                if (d > worst) { worst = d; worstKey = k; }
                if (k.startsWith("grad:")) worstGrad = Math.max(worstGrad, d);
            }
            System.out.printf("%s reversible vs plain: max abs diff %.3e (%s), grads %.3e%n", name, worst, worstKey, worstGrad);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"revsresnet_cifar_multiblock", "revsformer_cifar_tiny", "revsresnet_dvs_tiny"})
    void plainVariantPassesParity(String name) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        for (String f : new String[]{"model.pth", "io.pt", "checkpoint.pth"})
            Files.createSymbolicLink(dir.resolve(f), Fixtures.of("revsnn", name, f).toAbsolutePath());
        new ObjectMapper().writeValue(dir.resolve("meta.json").toFile(), meta(name, false));
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = SpikeRev.commandLine(new PrintWriter(out), new PrintWriter(err)).execute("parity", "--fixture", dir.toString());
        System.out.println(name + " (plain)\n" + out);
        assertEquals(0, rc, out + "\n" + err);
    }
}
