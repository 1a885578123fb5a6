package dev.spikerev.models.mpis;

import dev.spikerev.models.FamilyModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * {@link FamilyModel} over an {@link MPISNet}: reference criterion {@code CrossEntropyLoss} (mean over the batch),
 * backward per {@code gradient} ({@link MPISNet#backward}), reference optimizer SGD over {@code model.parameters()}
 * ({@link ReferenceSgd}; frozen copy and fusion conv never get a gradient, so SGD skips them).
 */
public final class MpisModel implements FamilyModel {
    private final MPISNet net;

    public MpisModel(MpisConfig config) { this(new MPISNet(config)); }

    public MpisModel(MPISNet net) { this.net = net; }

    public MPISNet net() { return net; }

    @Override public Module module() { return net; }

    @Override public Tensor predict(Tensor input) { return net.forward(input); }

    /** Training-mode forward + {@code cross_entropy(logits, target)}; switches the module to training mode. */
    @Override public Tensor[] forwardLoss(Tensor input, Tensor target) {
        net.train(true);
        Tensor logits = net.forward(input);
        return new Tensor[]{logits, cross_entropy(logits, target)};
    }

    @Override public void backward(Tensor loss) { net.backward(loss); }

    /** meta.json {@code optimizer}: {@code name} SGD with {@code lr, momentum, dampening, weight_decay, nesterov}. */
    @Override public Stepper optimizer(Map<String, Object> m) {
        Object name = m.getOrDefault("name", "SGD");
        if (!"SGD".equalsIgnoreCase(name.toString()))
            throw new IllegalArgumentException("mpis: only the reference's SGD is implemented here, found optimizer '" + name
                    + "' (the scripts' Adam branch: use the shared dev.spikerev.train optimizers)");
        return new ReferenceSgd(net, MpisStateDict.uniqueParameters(net), d(m, "lr", 0.01), d(m, "momentum", 0.9),
                d(m, "dampening", 0.0), d(m, "weight_decay", 5e-4), Boolean.TRUE.equals(m.get("nesterov")));
    }

    private static double d(Map<String, Object> m, String k, double dflt) {
        Object v = m.get(k);
        return v instanceof Number n ? n.doubleValue() : dflt;
    }

    /**
     * MPIS-specific groups on this (freshly loaded) model: {@code equilibrium} (eval then train {@code a*}, exact),
     * {@code state_after_one_train_forward} (BN buffers, after_steps tolerance) and, when the model was built with
     * {@code gradient: implicit}, {@code grads_implicit} of that train forward. The stem keys
     * ({@code downsample_init.*}) are left out of {@code grads_implicit}: the fixture harness gives them the one-step
     * gradient (its "head" filter {@code startswith('downsamp')} also matches {@code downsample_init}), while the
     * spec's implicit gradient reaches the stem through {@code f}. Leaves the model in training mode with gradients
     * set; reload before other checks.
     */
    @Override public List<ParityGroup> extraGroups(Map<String, Object> io, Map<String, Object> meta) {
        List<ParityGroup> out = new ArrayList<>();
        Tensor input = (Tensor) io.get("input"), target = (Tensor) io.get("target");
        net.train(false);
        try (NoGradGuard ng = new NoGradGuard()) {
            net.forward(input.clone());
        }
        Tensor[] ae = net.lastEquilibrium();
        Tensor[] lossOut = forwardLoss(input.clone(), target);
        Tensor[] at = net.lastEquilibrium();
        Map<?, ?> eq = (Map<?, ?>) io.get("equilibrium");
        Map<String, Tensor> eqA = new LinkedHashMap<>(), eqE = new LinkedHashMap<>();
        for (int k = 0; k < 2; k++) {
            eqA.put("eval." + k, ae[k]);
            eqA.put("train." + k, at[k]);
            eqE.put("eval." + k, (Tensor) eq.get("eval." + k));
            eqE.put("train." + k, (Tensor) eq.get("train." + k));
        }
        out.add(new ParityGroup("equilibrium", eqA, eqE, 0.0, 0.0));
        Map<?, ?> bnExp = (Map<?, ?>) io.get("state_after_one_train_forward");
        Map<String, Tensor> sd = MpisStateDict.of(net), bnA = new LinkedHashMap<>(), bnE = new LinkedHashMap<>();
        for (Object key : bnExp.keySet()) {
            bnA.put(key.toString(), sd.get(key.toString()));
            bnE.put(key.toString(), (Tensor) bnExp.get(key));
        }
        out.add(new ParityGroup("state_after_one_train_forward", bnA, bnE, 1e-5, 1e-4));
        if (io.get("grads_implicit") instanceof Map<?, ?> gi && net.config.options().gradient() == MpisConfig.Gradient.IMPLICIT) {
            net.zero_grad(true);
            net.backward(lossOut[1]);
            Map<String, Tensor> ga = new LinkedHashMap<>(), ge = new LinkedHashMap<>();
            for (Object key : gi.keySet()) {
                String k = key.toString();
                if (k.startsWith("downsample_init.")) continue;
                Tensor p = sd.get(k);
                ga.put(k, p == null || !p.grad().defined() ? null : new Tensor(p.grad()));
                ge.put(k, (Tensor) gi.get(key));
            }
            out.add(new ParityGroup("grads_implicit", ga, ge, 1e-4, 1e-3));
        }
        return out;
    }
}
