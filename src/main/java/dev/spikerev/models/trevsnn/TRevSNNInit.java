package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.StateDictIO;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.manual_seed;

/**
 * Seeded non-trivial weights and BatchNorm statistics for interop and benchmark checks. The reference
 * initialisation (conv weights ~ N(0, 0.02), fresh BN statistics) leaves an eval-mode network almost silent
 * (no spikes reach the spiking head, so its logits are exactly 0), which makes a logits comparison meaningless.
 * Values, by state_dict name: conv weights N(0, 1/fan_in), conv biases N(0, 0.1), {@code gain} U(0.5, 1.5),
 * BN weight U(0.5, 1.5), BN bias N(0, 0.2), {@code running_mean} N(0, 0.2), {@code running_var} U(0.5, 2),
 * {@code alpha*} U(0.25, 1), {@code gamma} U(0.5, 1.5). Shared tensors are drawn once.
 */
public final class TRevSNNInit {
    private TRevSNNInit() {}

    public static void randomize(TRevSNN net, long seed) {
        manual_seed(seed);
        GeneratorOptional gen = new GeneratorOptional();
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Set<Long> seen = new HashSet<>();
            for (Map.Entry<String, Tensor> e : StateDictIO.stateDict(net).entrySet()) {
                Tensor t = e.getValue();
                if (!t.is_floating_point() || !seen.add(t.unsafeGetTensorImpl().address())) continue;
                String key = e.getKey();
                String leaf = key.substring(key.lastIndexOf('.') + 1);
                boolean bn = key.contains("_bn.");
                if (leaf.equals("running_mean")) t.normal_(0.0, 0.2, gen);
                else if (leaf.equals("running_var")) t.uniform_(0.5, 2.0, gen);
                else if (bn && leaf.equals("weight")) t.uniform_(0.5, 1.5, gen);
                else if (bn && leaf.equals("bias")) t.normal_(0.0, 0.2, gen);
                else if (leaf.equals("weight") && t.dim() == 4) t.normal_(0.0, Math.pow(t.numel() / (double) t.size(0), -0.5), gen);
                else if (leaf.equals("bias")) t.normal_(0.0, 0.1, gen);
                else if (leaf.equals("gain") || leaf.equals("gamma")) t.uniform_(0.5, 1.5, gen);
                else if (leaf.startsWith("alpha")) t.uniform_(0.25, 1.0, gen);
            }
        }
    }
}
