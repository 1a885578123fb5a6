package dev.spikerev.models.revsnn;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.cli.SpikeRev;
import dev.spikerev.testutil.Fixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code spikerev parity} on every RevSNN golden case: all groups within meta.json's tolerances. */
class RevSNNParityTest {
    @ParameterizedTest
    @ValueSource(strings = {"revsresnet_cifar_tiny", "revsresnet_cifar_multiblock", "revsformer_cifar_tiny",
            "revsresnet_dvs_tiny", "revsformer_dvs_tiny"})
    void parityPasses(String name) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = SpikeRev.commandLine(new PrintWriter(out), new PrintWriter(err))
                .execute("parity", "--fixture", Fixtures.of("revsnn", name).toString());
        String text = out.toString();
        System.out.println(name + "\n" + text);
        assertEquals(0, rc, text + err);
        assertTrue(text.contains("parity: 10/10 passed"), text);
        for (String g : new String[]{"logits_eval", "logits_train", "loss", "grads", "firing_rates", "step_losses",
                "after_steps", "logits_eval_after_steps", "logits_eval_after_steps@fixture_state", "checkpoint.model"})
            assertTrue(text.lines().anyMatch(l -> l.startsWith(g + " ") && l.contains("PASS")), g + " missing:\n" + text);
    }
}
