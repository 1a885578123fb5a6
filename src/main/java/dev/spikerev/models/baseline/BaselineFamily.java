package dev.spikerev.models.baseline;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.models.ModelFamily;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.train.Losses;
import dev.spikerev.train.ParamGroups;
import dev.spikerev.train.SGD;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * Family {@code baseline}: {@link SpikingCNN}. Constructor arguments (config {@code model:} section):
 * {@code channels} (16), {@code T} (4), {@code num_classes} (10), {@code in_chans} (1), {@code tau} (2.0),
 * {@code v_threshold} (1.0), {@code surrogate} ({@code "sigmoid:alpha=4"}, see {@link Surrogate#parse}).
 * Criterion: cross-entropy, mean over the batch (timm label smoothing when {@code label_smoothing > 0}).
 */
public final class BaselineFamily implements ModelFamily {
    static final Set<String> KEYS = Set.of("channels", "T", "num_classes", "in_chans", "tau", "v_threshold", "surrogate");

    @Override public String name() { return "baseline"; }

    @Override
    @SuppressWarnings("unchecked")
    public FamilyModel build(Map<String, Object> meta) {
        Map<String, Object> c = meta.get("constructor") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        for (String k : c.keySet())
            if (!KEYS.contains(k))
                throw new IllegalArgumentException("baseline: unknown model key '" + k + "' (allowed: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ")");
        SpikingCNN net = new SpikingCNN(i(c, "channels", 16), i(c, "T", 4), i(c, "num_classes", 10), i(c, "in_chans", 1),
                d(c, "tau", 2.0), d(c, "v_threshold", 1.0), Surrogate.parse(String.valueOf(c.getOrDefault("surrogate", "sigmoid:alpha=4"))));
        double smoothing = meta.get("label_smoothing") instanceof Number n ? n.doubleValue() : 0.0;
        return new Model(net, smoothing);
    }

    private static int i(Map<String, Object> c, String k, int dflt) {
        Object v = c.get(k);
        if (v == null) return dflt;
        if (v instanceof Integer || v instanceof Long) return ((Number) v).intValue();
        throw new IllegalArgumentException("baseline: model key '" + k + "' must be an integer, found '" + v + "'");
    }

    private static double d(Map<String, Object> c, String k, double dflt) {
        Object v = c.get(k);
        if (v == null) return dflt;
        if (v instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException("baseline: model key '" + k + "' must be a number, found '" + v + "'");
    }

    /** {@link FamilyModel} over a {@link SpikingCNN}. */
    public static final class Model implements FamilyModel {
        private final SpikingCNN net;
        private final double smoothing;

        public Model(SpikingCNN net, double smoothing) {
            this.net = net;
            this.smoothing = smoothing;
        }

        public SpikingCNN net() { return net; }

        @Override public Module module() { return net; }

        @Override public Tensor predict(Tensor input) { return net.forward(input); }

        @Override public Tensor[] forwardLoss(Tensor input, Tensor target) {
            net.train(true);
            Tensor logits = net.forward(input);
            Tensor loss = smoothing > 0 ? Losses.labelSmoothingCrossEntropy(logits, target, smoothing) : Losses.crossEntropy(logits, target);
            return new Tensor[]{logits, loss};
        }

        @Override public void backward(Tensor loss) { loss.backward(); }

        /** SGD ({@code lr, momentum, weight_decay, nesterov}) over timm's weight-decay groups. */
        @Override public Stepper optimizer(Map<String, Object> m) {
            Map<String, Object> opts = new LinkedHashMap<>();
            opts.put("lr", num(m, "lr", 0.1));
            opts.put("momentum", num(m, "momentum", 0.9));
            opts.put("weight_decay", num(m, "weight_decay", 0.0));
            opts.put("nesterov", Boolean.TRUE.equals(m.get("nesterov")));
            SGD sgd = new SGD(ParamGroups.timmWeightDecay(StateDictIO.namedParameters(net), num(m, "weight_decay", 0.0), List.of()), opts);
            return new Stepper() {
                @Override public void zeroGrad() { sgd.zeroGrad(); }

                @Override public void step() { sgd.step(); }
            };
        }

        private static double num(Map<String, Object> m, String k, double d) {
            return m.get(k) instanceof Number n ? n.doubleValue() : d;
        }
    }
}
