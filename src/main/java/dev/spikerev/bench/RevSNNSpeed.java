package dev.spikerev.bench;

import dev.spikerev.models.FamilyModel;
import dev.spikerev.models.revsnn.RevSNNFamily;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * {@code bench speed --family revsnn}: CIFAR RevSResNet / RevSFormer (input {@code [B,3,32,32]}) with the recipe's
 * criterion and optimizer (spec 7): RevSResNet cross-entropy + SGD (lr 0.1, momentum 0.9, wd 1e-4, all parameters);
 * RevSFormer label-smoothing cross-entropy (0.1) + timm AdamW (lr 5e-4, wd 0.06, eps 1e-8, no decay on 1-d params and
 * biases). Backward through the reversible sequences, or plain autograd (BPTT) with {@code reversible=false}.
 */
public final class RevSNNSpeed {
    private RevSNNSpeed() {}

    /** Accepted {@code --model} values ({@code revsformer-D-E}: D reversible blocks, embedding E). */
    public static final List<String> MODELS = List.of("revsresnet21", "revsresnet37", "revsresnet109", "revsresnet-tiny",
            "revsformer-2-384", "revsformer-4-384", "revsformer-<depths>-<embed>");

    private static final Pattern FORMER = Pattern.compile("revsformer-(\\d+)-(\\d+)");

    /**
     * The reference constructor arguments of {@code model}: {@code cls} RevSResNet ({@code layers}, {@code planes}) or
     * rev_vit_snn ({@code embed_dims}, {@code num_heads}, {@code depths}, {@code mlp_ratios} 4), plus {@code num_classes},
     * {@code T} and the port switch {@code reversible}. {@code revsresnet-tiny} is the fixture size (layers 1,1,1,1,
     * planes 4,8,8,16). Defaults: classes 100 (RevSResNet, the reference default) / 10 (RevSFormer); heads 12 for
     * embedding 384, 16 for 256, else embedding/8.
     */
    public static Map<String, Object> constructor(String model, Integer classes, int t, Integer heads, boolean reversible) {
        if (t < 1) throw new IllegalArgumentException("--T must be >= 1, found " + t);
        Map<String, Object> c = new LinkedHashMap<>();
        Matcher f = FORMER.matcher(model);
        if (model.startsWith("revsresnet")) {
            List<Integer> layers = switch (model) {
                case "revsresnet21", "revsresnet-tiny" -> List.of(1, 1, 1, 1);
                case "revsresnet37" -> List.of(1, 2, 3, 2);
                case "revsresnet109" -> List.of(2, 4, 16, 4);
                default -> throw unknown(model);
            };
            c.put("cls", "RevSResNet");
            c.put("layers", layers);
            c.put("planes", model.equals("revsresnet-tiny") ? List.of(4, 8, 8, 16) : List.of(64, 128, 256, 448));
            c.put("num_classes", classes != null ? classes : 100);
        } else if (f.matches()) {
            int depths = Integer.parseInt(f.group(1)), embed = Integer.parseInt(f.group(2));
            int h = heads != null ? heads : embed == 384 ? 12 : embed == 256 ? 16 : Math.max(1, embed / 8);
            if (depths < 1 || embed < 8 || embed % 8 != 0 || embed % h != 0)
                throw new IllegalArgumentException("--model " + model + ": need depths >= 1, an embedding divisible by 8 and by the "
                        + "heads (" + h + ")");
            c.put("cls", "rev_vit_snn");
            c.put("embed_dims", embed);
            c.put("num_heads", h);
            c.put("depths", depths);
            c.put("mlp_ratios", 4);
            c.put("num_classes", classes != null ? classes : 10);
        } else {
            throw unknown(model);
        }
        if (((Number) c.get("num_classes")).intValue() < 1) throw new IllegalArgumentException("--classes must be >= 1");
        c.put("T", t);
        c.put("reversible", reversible);
        return c;
    }

    private static IllegalArgumentException unknown(String model) {
        return new IllegalArgumentException("bench speed: unknown revsnn model '" + model + "' (available: " + String.join(", ", MODELS) + ")");
    }

    /** The recipe optimizer of the constructor's model (meta.json layout, see {@link RevSNNFamily#optimizer}). */
    public static Map<String, Object> optimizer(Map<String, Object> ctor) {
        Map<String, Object> o = new LinkedHashMap<>();
        if ("RevSResNet".equals(ctor.get("cls"))) {
            o.put("name", "SGD");
            o.put("lr", 0.1);
            o.put("momentum", 0.9);
            o.put("weight_decay", 1e-4);
        } else {
            o.put("name", "AdamW");
            o.put("lr", 5e-4);
            o.put("weight_decay", 0.06);
            o.put("eps", 1e-8);
            o.put("betas", List.of(0.9, 0.999));
        }
        return o;
    }

    /**
     * Builds the model ({@code manual_seed(0)}), a random batch and times it with {@link StepTimer}; {@code channelsLast
     * false} times RevSResNet with NCHW activations, the reference's layout (constructor key {@code channels_last}).
     */
    public static SpeedCase run(String model, Integer classes, int t, Integer heads, boolean reversible, boolean channelsLast,
                                int batch, int steps, int warmup) {
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, found " + batch);
        Map<String, Object> ctor = constructor(model, classes, t, heads, reversible);
        if ("RevSResNet".equals(ctor.get("cls"))) ctor.put("channels_last", channelsLast);
        Map<String, Object> opt = optimizer(ctor);
        manual_seed(0);
        FamilyModel m = new RevSNNFamily().build(Map.of("family", "revsnn", "constructor", ctor));
        Tensor x = randn(batch, 3, 32, 32);
        Tensor y = randint(((Number) ctor.get("num_classes")).longValue(), new long[]{batch}, new TensorOptions(ScalarType.Long));
        StepTimer.Timing timing = StepTimer.run(m, m.optimizer(opt), x, y, steps, warmup);
        return new SpeedCase("revsnn", model, batch, t, ctor, opt, reversible ? "reversible" : "plain", timing);
    }
}
