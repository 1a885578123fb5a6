package dev.spikerev.models.revsnn;

import dev.spikerev.nn.StateDictIO;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.models.ModelFamily;
import dev.spikerev.nn.MultiStepNeuron;
import dev.spikerev.train.AdamW;
import dev.spikerev.train.Losses;
import dev.spikerev.train.Optimizer;
import dev.spikerev.train.ParamGroups;
import dev.spikerev.train.SGD;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * RevSNN (mi804/RevSNN) as parity, training and benchmarks drive it (family name {@code revsnn}): RevSResNet and
 * RevSFormer, CIFAR and DVS, reversible or plain ({@code constructor.reversible}, default true).
 *
 * <p>Criterion per recipe: CIFAR RevSResNet {@code CrossEntropyLoss}; CIFAR RevSFormer timm
 * {@code LabelSmoothingCrossEntropy(0.1)}; DVS models timm {@code SoftTargetCrossEntropy} on the mixup targets with
 * mixup off (smoothed one-hot, smoothing 0.1). Optimizer from meta.json: {@code SGD} over all parameters, or timm's
 * {@code AdamW} over {@code param_groups_weight_decay} (no decay for 1-d params and biases).
 */
public final class RevSNNFamily implements ModelFamily {
    @Override public String name() { return "revsnn"; }

    @Override public FamilyModel build(Map<String, Object> meta) {
        return new Model(create(RevSNNConfig.fromMeta(meta)));
    }

    public static RevSNNNet create(RevSNNConfig cfg) {
        return cfg.model() == RevSNNConfig.Model.REVSRESNET ? new RevSResNet(cfg) : new RevSFormer(cfg);
    }

    /** The training criterion of the model's recipe. */
    public static Tensor loss(RevSNNConfig cfg, Tensor logits, Tensor target) {
        if (target.dim() == 2) return Losses.softTargetCrossEntropy(logits, target); // mixup/cutmix soft targets (timm)
        if (cfg.dvs()) return Losses.softTargetCrossEntropy(logits, Losses.mixupTarget(target, cfg.numClasses(), 1.0, 0.1));
        if (cfg.model() == RevSNNConfig.Model.REVSFORMER) return Losses.labelSmoothingCrossEntropy(logits, target, 0.1);
        return Losses.crossEntropy(logits, target);
    }

    /** The reference optimizer from meta.json's {@code optimizer} object. */
    @SuppressWarnings("unchecked")
    public static Optimizer optimizer(Module net, Map<String, Object> m) {
        String name = String.valueOf(m.getOrDefault("name", "AdamW")).toLowerCase(Locale.ROOT);
        Map<String, Object> opts = new LinkedHashMap<>();
        double wd = num(m, "weight_decay", 0.0);
        switch (name) {
            case "sgd":
                opts.put("lr", num(m, "lr", 0.1));
                opts.put("momentum", num(m, "momentum", 0.9));
                opts.put("dampening", num(m, "dampening", 0.0));
                opts.put("weight_decay", wd);
                opts.put("nesterov", m.get("nesterov") instanceof Boolean b && b);
                return new SGD(ParamGroups.all(StateDictIO.namedParameters(net)), opts);
            case "adamw":
                opts.put("lr", num(m, "lr", 1e-3));
                List<Number> betas = (List<Number>) m.getOrDefault("betas", List.of(0.9, 0.999));
                opts.put("betas", List.of(betas.get(0).doubleValue(), betas.get(1).doubleValue()));
                opts.put("eps", num(m, "eps", 1e-8));
                opts.put("weight_decay", wd);
                opts.put("amsgrad", m.get("amsgrad") instanceof Boolean b && b);
                return new AdamW(ParamGroups.timmWeightDecay(StateDictIO.namedParameters(net), wd, List.of()), opts);
            default:
                throw new IllegalArgumentException("revsnn: optimizer '" + m.get("name") + "' is not a RevSNN recipe optimizer (SGD, AdamW)");
        }
    }

    private static double num(Map<String, Object> m, String k, double d) {
        return m.get(k) instanceof Number n ? n.doubleValue() : d;
    }

    /** The model as {@link FamilyModel}; the first eval {@link #predict} records per-neuron firing rates. */
    public static final class Model implements FamilyModel {
        final RevSNNNet net;
        private Map<String, Double> firstEvalRates;

        public Model(RevSNNNet net) { this.net = net; }

        public RevSNNNet net() { return net; }

        /** {@code T}: the DVS scripts' SpikingJelly {@code frames_number}. */
        @Override public int timeSteps() { return net.config().T(); }

        @Override public Module module() { return net; }

        @Override public Tensor predict(Tensor input) {
            boolean record = firstEvalRates == null && !net.is_training();
            if (record) net.setRecording(true);
            Tensor out = net.forward(input);
            if (record) {
                net.setRecording(false);
                firstEvalRates = new LinkedHashMap<>();
                for (Map.Entry<String, MultiStepNeuron> e : net.neurons().entrySet())
                    firstEvalRates.put(e.getKey(), e.getValue().lastFiringRate());
            }
            return out;
        }

        /** Firing rates per neuron module of the first eval-mode {@link #predict} (null before). */
        public Map<String, Double> firstEvalRates() { return firstEvalRates; }

        @Override public Tensor[] forwardLoss(Tensor input, Tensor target) {
            net.train(true);
            Tensor logits = net.forward(input);
            return new Tensor[]{logits, loss(net.config(), logits, target)};
        }

        @Override public void backward(Tensor loss) { loss.backward(); }

        @Override public Stepper optimizer(Map<String, Object> m) {
            Optimizer opt = RevSNNFamily.optimizer(net, m);
            return new Stepper() {
                @Override public void zeroGrad() { opt.zeroGrad(); }

                @Override public void step() { opt.step(); }
            };
        }

        /**
         * {@code firing_rates} (float64, one per neuron module in registration order) when the fixture has them, and
         * {@code logits_eval_after_steps@fixture_state}: eval logits of a fresh model loaded with the fixture's whole
         * {@code after_steps} state, at the case tolerance. The latter checks the eval path after training without the
         * noise-limited conv biases (quirk Q14) that make our own after-steps state differ by up to 2·K·lr.
         */
        @Override
        @SuppressWarnings("unchecked")
        public List<ParityGroup> extraGroups(Map<String, Object> io, Map<String, Object> meta) {
            double atol = meta.get("atol") instanceof Number n ? n.doubleValue() : 1e-5;
            double rtol = meta.get("rtol") instanceof Number n ? n.doubleValue() : 1e-4;
            List<ParityGroup> out = new java.util.ArrayList<>();
            if (io.get("firing_rates") instanceof Tensor && firstEvalRates == null && io.get("input") instanceof Tensor in) {
                // called on a fresh model loaded from model.pth: its first eval forward records the rates
                boolean wasTraining = net.is_training();
                net.train(false);
                try (org.bytedeco.pytorch.NoGradGuard ng = new org.bytedeco.pytorch.NoGradGuard()) {
                    predict(in);
                }
                net.train(wasTraining);
            }
            if (io.get("firing_rates") instanceof Tensor expected && firstEvalRates != null) {
                double[] rates = firstEvalRates.values().stream().mapToDouble(Double::doubleValue).toArray();
                Tensor actual = Tensor.create(rates).to(ScalarType.Double);
                out.add(new ParityGroup("firing_rates", Map.of("firing_rates", actual), Map.of("firing_rates", expected), atol, rtol));
            }
            if (io.get("after_steps") instanceof Map<?, ?> after && io.get("logits_eval_after_steps") instanceof Tensor expected
                    && io.get("input") instanceof Tensor input) {
                RevSNNNet fresh = create(net.config());
                dev.spikerev.tensor.Devices.to(fresh, input.device()); // next to the input (a no-op on the CPU)
                dev.spikerev.nn.StateDictIO.loadStateDict(fresh, dev.spikerev.checkpoint.StateDicts.tensors(after, "io.pt after_steps"), true);
                fresh.train(false);
                Tensor logits;
                try (org.bytedeco.pytorch.NoGradGuard ng = new org.bytedeco.pytorch.NoGradGuard()) {
                    logits = fresh.forward(input);
                }
                out.add(new ParityGroup("logits_eval_after_steps@fixture_state", Map.of("logits", logits), Map.of("logits", expected), atol, rtol));
            }
            return out;
        }
    }
}
