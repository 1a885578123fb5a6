package dev.spikerev.models.mpis;

import dev.spikerev.models.FamilyModel;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.spikerev.models.mpis.MpisAssert.*;
import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

/** The {@link MpisFamily} / {@link FamilyModel} path (as the parity harness drives it), dropout masks, read-out modes. */
class MpisFamilyTest {
    @BeforeAll
    static void threads() { Natives.setThreads(2); }

    /** With {@code gradient: implicit} (the model itself) and with the default one-step model (internal implicit copy). */
    @ParameterizedTest
    @CsvSource({"static_cifar_small,implicit", "neuro_nmnist_small,implicit", "static_cifar_small,one-step", "neuro_nmnist_small,one-step"})
    void extraGroupsPass(String c, String gradient) {
        MpisFixture f = MpisFixture.load(c);
        try (PointerScope ps = new PointerScope()) {
            Map<String, Object> meta = new LinkedHashMap<>(f.meta);
            meta.put("mpis_options", Map.of("gradient", gradient));
            ModelFamilyCheck.check(new MpisFamily().build(meta), f);
        }
    }

    /** A training config's {@code model:} map carries the port switches under {@code mpis_options}. */
    @Test
    void switchesFromTheModelMapOfAConfig() {
        MpisFixture f = MpisFixture.load("static_cifar_small");
        try (PointerScope ps = new PointerScope()) {
            Map<String, Object> ctor = new LinkedHashMap<>(f.constructor());
            ctor.put("mpis_options", Map.of("gradient", "implicit", "simulate_all_steps", true));
            MpisModel m = (MpisModel) new MpisFamily().build(Map.of("constructor", ctor));
            assertEquals(MpisConfig.Gradient.IMPLICIT, m.net().config.options().gradient());
            assertTrue(m.net().config.options().simulateAllSteps());
            MpisModel d = (MpisModel) new MpisFamily().build(Map.of("constructor", f.constructor()));
            assertEquals(MpisConfig.Gradient.ONE_STEP, d.net().config.options().gradient());
            assertFalse(d.net().config.options().simulateAllSteps(), "default: the unread simulation steps are skipped");
            ctor.put("mpis_options", "implicit");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MpisFamily().build(Map.of("constructor", ctor)));
            assertTrue(e.getMessage().contains("mpis_options must be a map"), e.getMessage());
        }
    }

    /** Minimal stand-in for the shared parity harness: io map from the fixture, then every group within its tolerance. */
    static final class ModelFamilyCheck {
        static void check(FamilyModel m, MpisFixture f) {
            StateDictIO.loadStateDict(m.module(), f.group("model"), true);
            Map<String, Object> io = new LinkedHashMap<>();
            io.put("input", f.tensor("io/input"));
            io.put("target", f.tensor("io/target"));
            io.put("equilibrium", f.group("io/equilibrium"));
            io.put("state_after_one_train_forward", f.group("io/state_after_one_train_forward"));
            io.put("grads", f.group("io/grads"));
            io.put("grads_implicit", f.group("io/grads_implicit"));
            List<String> names = new ArrayList<>();
            for (FamilyModel.ParityGroup g : m.extraGroups(io, f.meta)) {
                double d = 0;
                for (Map.Entry<String, Tensor> e : g.expected().entrySet()) {
                    Tensor a = g.actual().get(e.getKey());
                    if (g.atol() == 0 && g.rtol() == 0 || e.getKey().endsWith("num_batches_tracked")) exact(g.name() + "[" + e.getKey() + "]", a, e.getValue());
                    else d = Math.max(d, close(g.name() + "[" + e.getKey() + "]", a, e.getValue(), g.atol(), g.rtol()));
                }
                report(f.name + " extraGroups " + g.name() + ": " + g.expected().size() + " tensors, max|diff| " + String.format("%.2e", d));
                names.add(g.name());
            }
            boolean stem = f.group("io/grads_implicit").keySet().stream().anyMatch(k -> k.startsWith("downsample_init."));
            List<String> want = new ArrayList<>(List.of("equilibrium", "state_after_one_train_forward", "grads_implicit"));
            if (stem) want.add(MpisModel.STEM_BUG_GROUP);
            assertEquals(want, names, "groups");
        }
    }

    @Test
    void injectedDropoutMasksAreUsedAndCopied() {
        MpisFixture f = MpisFixture.load("static_cifar_small");
        try (PointerScope ps = new PointerScope()) {
            Map<String, Object> c = new LinkedHashMap<>(f.constructor());
            c.put("dropout", 0.2);
            MPISNet net = new MPISNet(MpisConfig.fromConstructor(c, null));
            StateDictIO.loadStateDict(net, f.group("model"), true);
            net.train(true);
            // all-ones masks: the p = 0.2 model must reproduce the fixture's (p = 0) train logits
            long b = 2;
            Tensor[] ones = {ones(b, 16, 16, 16), ones(b, 16, 16, 16), ones(b, 16, 8, 8), ones(b, 16, 8, 8),
                    ones(b, 16, 16, 16), ones(b, 24, 8, 8), ones(b, 16, 8, 8), ones(b, 24, 4, 4)};
            net.injectDropoutMasks(ones);
            Tensor logits;
            try (NoGradGuard ng = new NoGradGuard()) {
                logits = net.forward(f.tensor("io/input"));
            }
            double[] t = f.tol("logits");
            close("logits with identity masks", logits, f.tensor("io/logits_train"), t[0], t[1]);
            // drawn masks: Bernoulli(0.8)/0.8 of the layer shapes, copied into snn_func_copy after the forward
            manual_seed(1);
            Tensor l2;
            try (NoGradGuard ng = new NoGradGuard()) {
                l2 = net.forward(f.tensor("io/input"));
            }
            Tensor m = net.networkS2.drop.mask();
            assertEquals("[2, 24, 8, 8]", shape(m));
            double mean = m.mean().item_double();
            assertTrue(mean > 0.85 && mean < 1.15, "mask mean " + mean);
            assertTrue(equal(m, net.snnFuncCopy.streams[0].l2().drop.mask()), "copy's mask = live mask");
            assertFalse(equal(l2, logits), "dropout must change the logits");
        }
    }

    @Test
    void weightedRateReadoutEqualsFirstStepAtT1AndDiffersLater() {
        MpisFixture f = MpisFixture.load("static_cifar_small");
        try (PointerScope ps = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor x = f.tensor("io/input");
            Tensor[] eq = new Tensor[4];
            int i = 0;
            for (int t : new int[]{1, 4}) {
                for (MpisConfig.Readout r : MpisConfig.Readout.values()) {
                    MpisConfig cfg = MpisConfig.fromConstructor(f.constructor(), null).withTimeStep(t);
                    MPISNet net = new MPISNet(cfg.withOptions(cfg.options().withReadout(r)));
                    StateDictIO.loadStateDict(net, f.group("model"), true);
                    net.train(false);
                    net.forward(x);
                    eq[i++] = net.lastEquilibrium()[0];
                }
            }
            assertTrue(equal(eq[0], eq[1]), "T = 1: weighted rate = first-step spikes");
            assertFalse(equal(eq[2], eq[3]), "T = 4: the intended read-out differs from the reference's");
            double sumRate = eq[3].sum().item_double(), sumFirst = eq[2].sum().item_double();
            report(String.format("read-out at T=4: first-step a* sum %.2f, weighted-rate a* sum %.2f", sumFirst, sumRate));
        }
    }
}
