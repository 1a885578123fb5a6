package dev.spikerev.models.trevsnn;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import dev.spikerev.testutil.Fixtures;
import dev.spikerev.testutil.Python;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.randn;
import static org.bytedeco.pytorch.global.torch.stack;

/**
 * Java-written state_dicts of the full-size upstream configurations load in Python: {@code tools/check_checkpoint.py}
 * (a) {@code torch.load(weights_only=True)} and (b) compares keys, order, shapes, dtypes, kinds and alias groups
 * line for line with {@code keys-tiny.txt} / {@code keys-small.txt}. Runs with torch only (CI).
 *
 * <p>With {@code -Dspikerev.trevsnn.ref=DIR} (a clone of BICLab/T-RevSNN; optionally
 * {@code -Dspikerev.refpython=PY}) it also runs (c): the reference factory model loads the file strictly and its eval
 * logits on the Java input equal Java's (atol 1e-4). {@code -Dspikerev.trevsnn.img=224} changes the input size.
 */
class TRevSNNPythonLoadTest {
    @TempDir Path tmp;

    @ParameterizedTest
    @CsvSource({"tiny,3,64", "small,5,64"})
    void javaStateDictLoadsInPython(String name, int kernel, int img) {
        img = Integer.getInteger("spikerev.trevsnn.img", img); // e.g. 224 for a full-size local check
        Natives.setThreads(2);
        Path sdFile = tmp.resolve(name + ".pth"), ioFile = tmp.resolve(name + "_io.pt");
        try (PointerScope scope = new PointerScope()) {
            manual_seed(7);
            TRevSNN net = new TRevSNN(TRevSNNConfig.named(name, 1000, kernel, true));
            TRevSNNInit.randomize(net, 7);
            Tensor x = randn(2, 3, img, img);
            net.train(false);
            List<Tensor> heads;
            try (NoGradGuard ng = new NoGradGuard()) {
                heads = net.forward(x);
            }
            TorchFile.saveStateDict(sdFile, StateDictIO.stateDict(net));
            LinkedHashMap<String, Object> io = new LinkedHashMap<>();
            io.put("input", x);
            io.put("logits", heads.get(heads.size() - 1));
            io.put("logits_heads", stack(new TensorVector(heads.toArray(new Tensor[0]))));
            TorchFile.save(ioFile, io);
            System.out.printf("[python-load] %s k%d: eval logits |max| %.3g at %dx%d%n", name, kernel,
                    heads.get(3).abs().max().item_double(), img, img);
        }
        List<String> args = new ArrayList<>(List.of(sdFile.toString(), "--keys",
                Fixtures.of("t-revsnn", "keys-" + name + ".txt").toString(), "--io", ioFile.toString()));
        String ref = System.getProperty("spikerev.trevsnn.ref");
        String python = null;
        if (ref != null && !ref.isBlank()) {
            args.addAll(List.of("--ref-dir", ref));
            python = System.getProperty("spikerev.refpython");
        }
        Python.Result r = Python.runFile(python, Path.of("tools", "check_checkpoint.py"), args.toArray(new String[0]));
        System.out.println(r.out());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("(a) torch.load(weights_only=True): OK"), r.out());
        assertTrue(r.out().contains("(b) OK: 499 lines"), r.out());
        if (ref != null && !ref.isBlank()) assertTrue(r.out().contains("(c) load_state_dict(strict=True): OK"), r.out());
    }
}
