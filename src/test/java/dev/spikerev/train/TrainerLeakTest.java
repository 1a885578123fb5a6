package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Native-memory hygiene of the whole training loop (data loader with a worker, forward, the family's custom backward,
 * clipping, optimizer, evaluation, checkpoints), per family with the shipped MNIST config at a tiny width: a run of 26
 * steps leaves no more native handles behind than a run of 2. spikerev turns off JavaCPP's resident-memory GC trigger
 * ({@code maxPhysicalBytes=0}, see {@code Natives.configureAllocator}), so a handle a step forgets would stay until
 * some unrelated garbage collection: every step must free what it makes.
 */
class TrainerLeakTest {
    @TempDir Path tmp;

    static final String[] TINY_REVSNN = {"model.planes=[4, 4, 8, 8]"};
    static final String[] TINY_MPIS = {"model.c_hidden=4", "model.c_s1=8", "model.c_s2=8", "model.c_s3=8"};
    static final String[] TINY_TREVSNN = {"model.channels=[4, 8, 8, 8]", "model.num_subnet=4", "train.clip_grad=0.02"};

    /** Native handles alive after a run of {@code steps} steps (one epoch, evaluation and checkpoints included) minus before. */
    long handlesLeftBy(String family, int steps, Path data) throws Exception {
        List<String> o = new ArrayList<>(List.of("data.root=" + data.toString().replace("\\", "/"), "data.download=false",
                "data.batch_size=4", "data.eval_batch_size=8", "data.workers=1", "train.epochs=1", "train.threads=1",
                "train.max_steps_per_epoch=" + steps, "train.checkpoint_every_steps=0", "train.out=" + tmp.resolve(family + "-" + steps)));
        o.addAll(List.of(switch (family) {
            case "revsnn" -> TINY_REVSNN;
            case "mpis" -> TINY_MPIS;
            default -> TINY_TREVSNN;
        }));
        TrainConfig cfg = ConfigLoader.load(Path.of("configs", family.replace("t-revsnn", "trevsnn") + "-mnist.yaml"), o);
        System.gc(); // clear other tests' garbage, so that a collection during the run has little to lower the count with
        Thread.sleep(200);
        long before = Pointer.totalCount();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer.Result r = new Trainer(cfg, new PrintStream(log, true, StandardCharsets.UTF_8), false).run();
        assertTrue(r.completed(), log.toString(StandardCharsets.UTF_8));
        return Pointer.totalCount() - before;
    }

    @ParameterizedTest
    @ValueSource(strings = {"t-revsnn", "revsnn", "mpis"})
    void aLongerRunLeavesNoMoreNativeHandles(String family) throws Exception {
        Path data = tmp.resolve("mnist");
        Files.createDirectories(data);
        ResumeAfterKillTest.writeMnist(data, 120, 16);
        handlesLeftBy(family, 2, data); // warm-up: one-time natives (thread pools, kernels) are made here
        long shortRun = handlesLeftBy(family, 2, data);
        long longRun = handlesLeftBy(family, 26, data);
        System.out.printf("[memory] %s: native handles left by a 2-step run %d, by a 26-step run %d%n", family, shortRun, longRun);
        // one handle forgotten per step leaves >= 24 more; the model, optimizer and loaders of a run are the same in both
        assertTrue(longRun - shortRun < 12, family + ": native handles grow with the step count: " + shortRun + " -> " + longRun);
    }
}
