package dev.spikerev.models.mpis;

import dev.spikerev.nn.OpCounter;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Natives;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.spikerev.models.mpis.MpisAssert.*;
import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code simulate_all_steps: false} (the default) skips simulation steps 1..T-1, which the reference runs but its
 * first-step read-out never reads: logits, loss, every gradient and every state_dict entry after a training step
 * (BN running statistics, the refreshed {@code snn_func_copy}) are bit-identical to running all T steps, with dropout
 * masks in play, in training and eval mode, for the static and the neuromorphic model. The energy meter still sees
 * every step.
 */
class MpisSkipStepsTest {
    @BeforeAll
    static void threads() { Natives.setThreads(2); }

    record Run(Tensor logits, Tensor loss, Map<String, Tensor> grads, Map<String, Tensor> state, int steps) {}

    static Run run(MpisFixture f, Map<String, Object> ctor, boolean allSteps, boolean train) {
        MpisModel m = new MpisModel(MpisConfig.fromConstructor(ctor, Map.of("simulate_all_steps", allSteps)));
        StateDictIO.loadStateDict(m.net(), f.group("model"), true);
        m.net().train(train);
        manual_seed(11); // the dropout masks
        Tensor[] out = m.forwardLoss(f.tensor("io/input"), f.tensor("io/target"));
        Map<String, Tensor> grads = new LinkedHashMap<>();
        if (train) {
            m.backward(out[1]);
            for (Map.Entry<String, Tensor> e : m.net().uniqueNamedParameters().entrySet())
                if (e.getValue().grad().defined()) grads.put(e.getKey(), e.getValue().grad().clone());
        }
        Map<String, Tensor> state = new LinkedHashMap<>();
        StateDictIO.stateDict(m.net()).forEach((k, v) -> state.put(k, v.clone()));
        return new Run(out[0].detach(), out[1].detach(), grads, state, m.net().simulatedSteps());
    }

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void skippingTheUnreadStepsChangesNothing(String c) {
        MpisFixture f = MpisFixture.load(c);
        Map<String, Object> ctor = new HashMap<>(f.constructor());
        ctor.put("dropout", 0.2); // masks are drawn once per forward and reused by every step: they must match too
        int t = ((Number) ctor.get("time_step")).intValue();
        assertTrue(t > 1, c + ": a fixture with T > 1 is needed");
        for (boolean train : new boolean[]{true, false}) {
            try (PointerScope ps = new PointerScope()) {
                Run all = run(f, ctor, true, train), skip = run(f, ctor, false, train);
                assertEquals(t, all.steps(), "simulate_all_steps: true runs every step");
                assertEquals(1, skip.steps(), "the default runs only the step the read-out reads");
                String mode = c + (train ? " train" : " eval");
                exact(mode + " logits", skip.logits(), all.logits());
                exact(mode + " loss", skip.loss(), all.loss());
                assertEquals(all.grads().keySet(), skip.grads().keySet(), mode + ": parameters with gradients");
                if (train) assertFalse(all.grads().isEmpty());
                for (String k : all.grads().keySet()) exact(mode + " grad " + k, skip.grads().get(k), all.grads().get(k));
                assertEquals(all.state().keySet(), skip.state().keySet());
                for (String k : all.state().keySet()) exact(mode + " state " + k, skip.state().get(k), all.state().get(k));
                report(String.format("%s: %d of %d simulation steps, logits/loss/%d grads/%d state entries identical", mode,
                        skip.steps(), t, all.grads().size(), all.state().size()));
            }
        }
        // an energy meter counts what the model would run: all T steps
        OpCounter.install((layer, owner, op, inputs, macs) -> {});
        try (PointerScope ps = new PointerScope()) {
            assertEquals(t, run(f, ctor, false, false).steps(), "with an energy meter installed every step runs");
        } finally {
            OpCounter.uninstall();
        }
    }
}
