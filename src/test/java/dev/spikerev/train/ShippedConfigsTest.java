package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.tensor.Natives;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.bytedeco.pytorch.global.torch.*;

/** Every YAML file under configs/ loads and validates (and names a registered model family). */
class ShippedConfigsTest {
    @TempDir Path tmp;

    static List<Path> shipped() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("configs"))) {
            return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    @Test
    void allShippedConfigsLoad() throws Exception {
        List<Path> files = shipped();
        assertFalse(files.isEmpty());
        for (Path f : files) {
            TrainConfig c = assertDoesNotThrow(() -> ConfigLoader.load(f, List.of()), f.toString());
            assertDoesNotThrow(() -> dev.spikerev.models.ModelFamilies.get(c.family), f + ": family " + c.family);
            assertFalse(c.model.isEmpty(), f + ": empty model section");
        }
        for (String name : List.of("revsnn-mnist", "revsnn-fashion-mnist", "mpis-mnist", "mpis-fashion-mnist", "revsnn-cifar10",
                "revsnn-revsformer-cifar10", "mpis-cifar10", "mpis-nmnist"))
            assertTrue(files.contains(Path.of("configs", name + ".yaml")), name);
    }

    /** The (Fashion-)MNIST configs build their model, and one training step on a batch of their input shape runs. */
    @Test
    void mnistConfigsBuildAndTakeAStep() throws Exception {
        Natives.setThreads(1);
        for (Path f : shipped()) {
            TrainConfig c = ConfigLoader.load(f, List.of());
            if (!c.data.dataset.endsWith("mnist") || c.data.dataset.equals("nmnist")) continue;
            Trainer trainer = new Trainer(c, new PrintStream(OutputStream.nullOutputStream()), false);
            try (PointerScope s = new PointerScope()) {
                FamilyModel m = trainer.buildModel();
                Optimizer opt = Optimizers.build(c, m.module());
                int side = 28 + 2 * c.data.pad;
                Tensor x = randn(2, 1, side, side);
                Tensor y = Tensor.create(new long[]{3, 7});
                Tensor[] out = m.forwardLoss(x, y);
                assertArrayEquals(new long[]{2, 10}, out[0].sizes().vec().get(), f.toString());
                opt.zeroGrad();
                m.backward(out[1]);
                opt.step();
                assertTrue(Double.isFinite(out[1].item_double()), f.toString());
            }
        }
    }

    /** The reference recipes shipped in spikerev's keys equal what the scripts' own arguments map to. */
    @Test
    void recipeConfigsEqualTheScriptArguments() throws Exception {
        Map<String, String> args = Map.of(
                "revsnn-cifar10", "model: revs_resnet21\nT: 4\ndata_path: data/cifar10\n",
                "revsnn-cifar100", "model: revs_resnet21\nT: 4\ndata_path: data/cifar100\n",
                "revsnn-revsformer-cifar10", ReferenceScriptArgsTest.REVSFORMER_2_384,
                "revsnn-revsformer-cifar100", ReferenceScriptArgsTest.REVSFORMER_2_384.replace("num_heads: 12", "num_heads: 8")
                        .replace("torch/cifar10", "torch/cifar100").replace("num_classes: 10", "num_classes: 100").replace("workers: 4", "workers: 8"),
                "mpis-cifar10", "dataset: cifar10\n",
                "mpis-cifar100", "dataset: cifar100\n",
                "mpis-nmnist", "dataset: nmnist\n",
                "revsnn-cifar10-dvs", "model: revs_resnet24\nT: 16\ndata_path: data/cifar10-dvs\n",
                "revsnn-dvs128-gesture", "model: revs_resnet24\nT: 16\ndataset: DVS128Gesture\ndata_path: data/dvs128-gesture\n");
        ObjectMapper om = new ObjectMapper();
        for (Map.Entry<String, String> e : args.entrySet()) {
            Path a = tmp.resolve(e.getKey() + "-args.yaml");
            Files.writeString(a, e.getValue());
            ObjectNode fromArgs = om.valueToTree(ConfigLoader.load(a, List.of()));
            ObjectNode shipped = om.valueToTree(ConfigLoader.load(Path.of("configs", e.getKey() + ".yaml"), List.of()));
            for (ObjectNode n : List.of(fromArgs, shipped)) {
                ((ObjectNode) n.get("data")).remove("root");
                ((ObjectNode) n.get("train")).remove(List.of("out", "threads", "seed"));
                ((ObjectNode) n.get("model")).remove("arch");
            }
            assertEquals(fromArgs, shipped, e.getKey());
        }
    }
}
