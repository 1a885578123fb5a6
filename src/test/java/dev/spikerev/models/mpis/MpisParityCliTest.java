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

/**
 * {@code spikerev parity} on every MPIS golden case: all groups within meta.json's tolerances, {@code grads_implicit}
 * (implicit-mode copy built inside the family's extra groups) included.
 */
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
        boolean stem = name.startsWith("static");   // only the static fixture has stem keys (fixture bug asserted as its own group)
        int groups = stem ? 11 : 10;
        assertTrue(text.contains("parity: " + groups + "/" + groups + " passed"), text);
        for (String g : new String[]{"logits_eval", "logits_train", "loss", "grads", "equilibrium",
                "state_after_one_train_forward", "grads_implicit", "after_steps", "logits_eval_after_steps", "checkpoint.model"})
            assertTrue(text.lines().anyMatch(l -> l.startsWith(g + " ") && l.contains("PASS")), g + " missing:\n" + text);
        assertEquals(stem, text.lines().anyMatch(l -> l.startsWith(MpisModel.STEM_BUG_GROUP + " ") && l.contains("PASS")), text);
        assertTrue(ckpt.toFile().length() > 0);
    }
}

