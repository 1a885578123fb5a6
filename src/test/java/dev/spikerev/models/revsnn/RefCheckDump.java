package dev.spikerev.models.revsnn;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.nn.StateDictIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * Manual tool (not a test): writes Java-produced RevSNN state_dicts plus {@code io.pt = {input, logits_eval}} (Java
 * eval logits) for the reference harness: {@code REF_DIR=<ref>/<folder> ref_revsnn.py check OUT/<case>/model.pth
 * OUT/<case>/io.pt}. Per fixture case: model.pth trained K steps by the Java port. Plus random-init full-size
 * RevSResNet21 (T 4) and RevSFormer-2-384 (T 4) on a random CIFAR batch.
 * Usage: {@code java -cp ... dev.spikerev.models.revsnn.RefCheckDump FIXTURES_REVSNN_DIR OUT}.
 */
public final class RefCheckDump {
    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        Path fixtures = Path.of(args[0]), out = Path.of(args[1]);
        for (String name : new String[]{"revsresnet_cifar_tiny", "revsresnet_cifar_multiblock", "revsformer_cifar_tiny",
                "revsresnet_dvs_tiny", "revsformer_dvs_tiny"}) {
            try (PointerScope s = new PointerScope()) {
                Path dir = fixtures.resolve(name);
                Map<String, Object> meta = new ObjectMapper().readValue(dir.resolve("meta.json").toFile(), Map.class);
                FamilyModel m = new RevSNNFamily().build(meta);
                StateDictIO.loadStateDict(m.module(), StateDicts.tensors(TorchFile.load(dir.resolve("model.pth")), "model.pth"), true);
                Map<String, Object> io = (Map<String, Object>) TorchFile.load(dir.resolve("io.pt"));
                Tensor x = (Tensor) io.get("input"), y = (Tensor) io.get("target");
                FamilyModel.Stepper opt = m.optimizer((Map<String, Object>) meta.get("optimizer"));
                for (int k = 0; k < 2; k++) {
                    try (PointerScope st = new PointerScope()) {
                        Tensor[] lo = m.forwardLoss(x, y);
                        opt.zeroGrad();
                        m.backward(lo[1]);
                        opt.step();
                    }
                }
                write(out.resolve(name), m, x, meta);
            }
        }
        manual_seed(123);
        Map<String, Object> c21 = new LinkedHashMap<>(Map.of("cls", "RevSResNet", "layers", java.util.List.of(1, 1, 1, 1),
                "planes", java.util.List.of(64, 128, 256, 448), "num_classes", 100, "T", 4));
        Map<String, Object> c2384 = new LinkedHashMap<>(Map.of("cls", "rev_vit_snn", "embed_dims", 384, "num_heads", 12,
                "depths", 2, "num_classes", 10, "T", 4));
        for (Object[] e : new Object[][]{{"revsresnet21_random", c21}, {"revsformer_2_384_random", c2384}}) {
            try (PointerScope s = new PointerScope()) {
                Map<String, Object> meta = Map.of("family", "revsnn", "constructor", e[1]);
                FamilyModel m = new RevSNNFamily().build(meta);
                write(out.resolve((String) e[0]), m, randn(2, 3, 32, 32), meta);
            }
        }
    }

    static void write(Path dir, FamilyModel m, Tensor x, Map<String, Object> meta) throws Exception {
        Files.createDirectories(dir);
        m.module().train(false);
        Tensor logits;
        try (NoGradGuard ng = new NoGradGuard()) {
            logits = m.predict(x);
        }
        TorchFile.saveStateDict(dir.resolve("model.pth"), StateDictIO.stateDict(m.module()));
        Map<String, Object> io = new LinkedHashMap<>();
        io.put("input", x);
        io.put("logits_eval", logits);
        TorchFile.save(dir.resolve("io.pt"), io);
        new ObjectMapper().writeValue(dir.resolve("meta.json").toFile(), meta);
        System.out.println("wrote " + dir);
    }
}
