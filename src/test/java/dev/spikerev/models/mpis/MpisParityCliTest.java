package dev.spikerev.models.mpis;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.cli.SpikeRev;
import dev.spikerev.testutil.Fixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code spikerev parity} on every MPIS golden case: all groups within meta.json's tolerances. */
class MpisParityCliTest {
    @TempDir Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"static_cifar_small", "neuro_nmnist_small"})
    void parityPasses(String name) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        Path ckpt = tmp.resolve(name + ".pth");
        int rc = SpikeRev.commandLine(new PrintWriter(out), new PrintWriter(err))
                .execute("parity", "--fixture", Fixtures.of("mpis", name).toString(), "--write-checkpoint", ckpt.toString());
        String text = out.toString();
        System.out.println(text);
        assertEquals(0, rc, text + err);
        assertTrue(text.contains("parity: 9/9 passed"), text);
        for (String g : new String[]{"logits_eval", "logits_train", "loss", "grads", "equilibrium",
                "state_after_one_train_forward", "after_steps", "logits_eval_after_steps", "checkpoint.model"})
            assertTrue(text.lines().anyMatch(l -> l.startsWith(g + " ") && l.contains("PASS")), g + " missing:\n" + text);
        assertTrue(ckpt.toFile().length() > 0);
    }
}

