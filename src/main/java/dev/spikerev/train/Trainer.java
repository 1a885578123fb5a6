package dev.spikerev.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.CheckpointFormatException;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.data.Batch;
import dev.spikerev.data.DataLoader;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.models.ModelFamilies;
import dev.spikerev.models.revsnn.RevSNNCheckpoint;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Devices;
import dev.spikerev.tensor.Natives;
import dev.spikerev.train.distributed.DistGroup;
import dev.spikerev.train.distributed.GradSync;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * The training loop, top to bottom: per iteration set the lr of the fractional epoch, forward + the family's
 * criterion, zero_grad, backward (reversible/implicit paths included), clip, optimizer step, EMA update; per epoch
 * evaluate (and the EMA weights), write metrics and plots, and checkpoint atomically ({@link RunCheckpoint}).
 * Every step and every eval batch runs in its own {@link PointerScope}. {@code --resume} restores model, optimizer,
 * EMA, metrics and the exact position in the epoch, so a resumed run ends with the same weights as an uninterrupted
 * one (same seed, CPU).
 *
 * <p><b>Data-parallel</b> ({@code --nproc N}, see {@link dev.spikerev.train.distributed}): the lines marked
 * {@code [ddp]} run only with a {@link DistGroup}. Every rank starts from rank 0's weights, trains on its shard of
 * each epoch ({@code DataLoader.shard(rank, world)}, equal sizes), and replaces its gradients by their mean over the
 * ranks before clipping and the optimizer step, so the weights stay equal on every rank. The logged train loss and
 * accuracy are over all shards. Evaluation is sharded too: rank {@code r} scores a contiguous slice of the test set
 * and the sums are all-reduced, giving the same numbers as one process (every rank needs them for {@code best.pth}
 * and its eval time is divided by N). Only rank 0 writes checkpoints, metrics and plots; on {@code --resume} every
 * rank loads the same checkpoint (checked).
 *
 * <p><b>Device and precision</b> ({@code train.device}, {@code train.amp}): the model (and the EMA model) is moved to
 * the device before the optimizer exists, so optimizer state is created next to its parameter; every batch is copied
 * there (non-blocking); losses and accuracies are read back as host numbers. Checkpoints are written from CPU copies
 * (the torch writer copies device tensors) and load onto the run's device. On the CPU nothing is moved or copied, so
 * CPU numerics are unchanged. With {@code amp} the forward, the loss and the model's backward run inside an
 * {@link Autocast} scope; fp16 adds a {@link GradScaler} (loss scaled before backward, gradients unscaled before
 * clipping, the optimizer step skipped on inf/NaN), whose state is saved in the checkpoint's {@code spikerev} entry.
 */
public final class Trainer {
    /** What a finished (or stopped) run produced. */
    public record Result(boolean completed, String message, double bestAcc, double lastAcc, Path runDir, double seconds) {}

    private final TrainConfig cfg;
    private String plotError; // why the PNG plots could not be drawn (e.g. a JRE without font libraries), else null
    private final PrintStream log;
    private final boolean progress;
    private final Path runDir;
    private final Map<String, Object> meta = new LinkedHashMap<>();
    private final DistGroup dist; // [ddp] null: a single process
    private GradScaler scaler; // amp fp16 only
    /** revsnn: the reference script whose checkpoint layout is written; null: T-RevSNN layout ({@link RunCheckpoint}). */
    private final RevSNNCheckpoint.Layout revsnnLayout;

    public Trainer(TrainConfig cfg, PrintStream log, boolean progress) {
        this(cfg, log, progress, null);
    }

    /** A trainer for one rank of a data-parallel group ({@code dist} null: single process). */
    public Trainer(TrainConfig cfg, PrintStream log, boolean progress, DistGroup dist) {
        this.dist = dist;
        this.cfg = cfg;
        this.log = log;
        this.progress = progress;
        this.runDir = Path.of(cfg.train.out);
        meta.put("family", cfg.family);
        meta.put("constructor", cfg.model);
        meta.put("label_smoothing", cfg.train.labelSmoothing);
        this.revsnnLayout = cfg.family.equals("revsnn") ? RevSNNCheckpoint.Layout.of(cfg.model) : null;
    }

    public Path runDir() { return runDir; }

    /** Builds the configured model (used by eval too). */
    public FamilyModel buildModel() { return ModelFamilies.get(cfg.family).build(meta); }

    @SuppressWarnings("unchecked")
    public Result run() throws Exception {
        long t0 = System.nanoTime();
        Devices.Spec device = Devices.require(cfg.train.device, "train.device");
        Autocast.Mode amp = Autocast.Mode.of(cfg.train.amp, "train.amp");
        Autocast.check(amp, device);
        Device dev = device.isCuda() ? device.device() : null; // null: CPU, nothing is moved
        Natives.setThreads(cfg.train.threads);
        manual_seed(cfg.train.seed);
        FamilyModel model = buildModel();
        Devices.to(model.module(), dev);
        if (dist != null) GradSync.broadcastModule(dist, model.module()); // [ddp] every rank starts from rank 0's weights
        DataSources data = DataSources.of(cfg.data, model.timeSteps());
        DataLoader trainLoader = DataLoader.builder(data.train).batchSize(cfg.data.batchSize).shuffle(true).dropLast(true)
                .shard(rank(), world()) // [ddp] this rank's shard (0 of 1: everything)
                .seed(cfg.train.seed).workers(cfg.data.workers).transform(data.trainTransform)
                .batchTransform(DataSources.mixup(cfg, log)).build();
        DataLoader testLoader = DataLoader.builder(testSlice(data.test)).batchSize(cfg.data.evalBatchSize).shuffle(false)
                .seed(cfg.train.seed).workers(cfg.data.workers).transform(data.testTransform).build();
        int stepsPerEpoch = trainLoader.numBatches();
        if (cfg.train.maxStepsPerEpoch > 0) stepsPerEpoch = Math.min(stepsPerEpoch, cfg.train.maxStepsPerEpoch);
        if (stepsPerEpoch == 0) throw new ConfigException("data.batch_size " + cfg.data.batchSize + " is larger than the training set (" + data.train.size() + " images)");
        Optimizer opt = Optimizers.build(cfg, model.module());
        if (revsnnLayout != null) // the scripts' schedulers record the base lr in every group
            for (ParamGroup g : opt.paramGroups()) g.set("initial_lr", cfg.optimizer.lr);
        LrSchedule schedule = Optimizers.schedule(cfg, stepsPerEpoch);
        ModelEma ema = cfg.train.ema ? new ModelEma(StateDictIO.stateDict(model.module()), cfg.train.emaDecay, ModelEma.Mode.CORRECTED) : null;
        FamilyModel emaModel = ema == null ? null : buildModel();
        if (emaModel != null) Devices.to(emaModel.module(), dev);
        scaler = amp == Autocast.Mode.FP16 ? new GradScaler() : null;
        Map<String, Object> configMap = new ObjectMapper().convertValue(cfg, Map.class);

        // ---- resume
        int startEpoch = 0, startBatch = 0;
        long globalStep = 0;
        double maxAcc = 0, lossSum = 0, acc5AtMax = 0;
        long correct = 0, seen = 0;
        Metrics metrics = new Metrics();
        Path resumeFrom = resolveResume();
        if (resumeFrom != null) {
            RunCheckpoint.Resume ck = RunCheckpoint.resume(resumeFrom);
            StateDictIO.loadStateDict(model.module(), ck.model(), true);
            if (ck.optimizer() != null) opt.loadStateDict(ck.optimizer());
            if (ema != null && ck.ema() != null) ema.set(ck.ema());
            maxAcc = ck.maxAccuracy();
            acc5AtMax = ck.acc5AtMax();
            Map<String, Object> r = ck.spikerev() != null ? (Map<String, Object>) ck.spikerev() : Map.of();
            startEpoch = intOf(r.get("epoch"), (int) ck.nextEpoch());
            startBatch = intOf(r.get("batch"), 0);
            globalStep = longOf(r.get("global_step"), (long) startEpoch * stepsPerEpoch);
            lossSum = r.get("loss_sum") instanceof Number n ? n.doubleValue() : 0;
            correct = longOf(r.get("correct"), 0);
            seen = longOf(r.get("seen"), 0);
            metrics = Metrics.fromHistory(r.get("history"));
            if (scaler != null && r.get("scaler") instanceof Map<?, ?> sc) scaler.loadStateDict(sc);
            int savedWorld = intOf(r.get("world"), 1); // [ddp] a mid-epoch position is a batch index of that many shards
            if (startBatch > 0 && savedWorld != world())
                throw new ConfigException("--resume " + resumeFrom + ": saved mid-epoch by " + savedWorld + " process(es), resumed with "
                        + world() + "; resume with --nproc " + savedWorld + " (or from an epoch-end checkpoint ckpt_epoch_*.pth)");
            log.printf("resumed from %s: epoch %d, batch %d, step %d%n", resumeFrom, startEpoch + 1, startBatch, globalStep);
        }
        if (dist != null) { // [ddp] every rank must continue from the same point
            dist.checkSame("the resume step (global_step)", globalStep);
            log.printf("data-parallel: rank %d of %d (%s), %d images per rank and step, global batch %d%n", dist.rank(), dist.world(),
                    dist.backend().lowerName(), cfg.data.batchSize, cfg.data.batchSize * dist.world());
        }
        Files.createDirectories(runDir);
        log.printf("spikerev train: %s on %s (%d train / %d test images), %d epochs x %d steps, batch %d, %s lr %.3g, threads %d, %s%s -> %s%n",
                cfg.family, cfg.data.dataset, data.train.size(), data.test.size(), cfg.train.epochs, stepsPerEpoch,
                cfg.data.batchSize, cfg.optimizer.name, cfg.optimizer.lr, cfg.train.threads, device,
                amp == Autocast.Mode.NONE ? "" : " amp " + amp.key, runDir);

        double lastAcc = Double.NaN;
        for (int epoch = startEpoch; epoch < cfg.train.epochs; epoch++) {
            long e0 = System.nanoTime();
            double lr = 0;
            model.module().train(true);
            try (DataLoader.Epoch it = trainLoader.epoch(epoch, startBatch);
                 ProgressBar pb = progressBar(epoch, stepsPerEpoch, startBatch)) {
                for (int b = startBatch; b < stepsPerEpoch && it.hasNext(); b++) {
                    double loss;
                    long ok;
                    int n;
                    if (dist != null) dist.failpoint(globalStep); // [ddp] test hook (--fail-at-step)
                    try (PointerScope scope = new PointerScope(); Batch batch = it.next()) {
                        lr = schedule.lr(epoch + b / (double) stepsPerEpoch);
                        opt.setLr(lr);
                        Tensor input = Devices.to(batch.input(), dev), target = Devices.to(batch.target(), dev);
                        Tensor lossTarget = batch.softTarget() == null ? target : Devices.to(batch.softTarget(), dev); // mixup/cutmix
                        Tensor[] out;
                        try (Autocast ac = Autocast.enter(amp, device)) { // forward, loss and the model's own backward
                            out = model.forwardLoss(input, lossTarget);
                            loss = out[1].item_double();
                            if (dist != null) loss = dist.mean(loss); // [ddp] global batch loss: every rank takes the same NaN decision
                            if (!Double.isFinite(loss)) {
                                String msg = String.format("stopped: non-finite loss %s at epoch %d step %d; last good checkpoint kept in %s",
                                        loss, epoch + 1, b, runDir);
                                log.println(msg);
                                return new Result(false, msg, maxAcc, lastAcc, runDir, seconds(t0));
                            }
                            opt.zeroGrad();
                            model.backward(scaler == null ? out[1] : scaler.scale(out[1]));
                        }
                        if (dist != null) GradSync.allReduceMean(dist, opt.params()); // [ddp] gradient of the global batch
                        if (scaler != null) scaler.unscale(opt.params()); // clipping sees the true gradients
                        if (cfg.train.clipGrad > 0) GradClip.adaptiveClipGrad(opt.params(), cfg.train.clipGrad, 1e-3, 2.0);
                        if (cfg.train.clipGradNorm > 0) GradClip.clipGradNorm(opt.params(), cfg.train.clipGradNorm);
                        if (scaler == null) {
                            opt.step();
                        } else {
                            scaler.step(opt); // skipped on inf/NaN gradients
                            scaler.update();
                        }
                        if (ema != null) ema.update(StateDictIO.stateDict(model.module()));
                        ok = out[0].argmax(new org.bytedeco.pytorch.LongOptional(1), false).eq(target).sum().item_long();
                        n = batch.size();
                        if (dist != null) { // [ddp] accuracy over all shards (equal shard sizes)
                            ok = (long) dist.sum(ok)[0];
                            n *= dist.world();
                        }
                    }
                    globalStep++;
                    lossSum += loss * n;
                    correct += ok;
                    seen += n;
                    String status = String.format("loss %.4f acc %.2f%% lr %.2e %.0f img/s", lossSum / seen, 100.0 * correct / seen,
                            lr, (b + 1 - startBatch) * (double) n / Math.max(1e-9, (System.nanoTime() - e0) / 1e9));
                    if (pb != null) {
                        pb.step();
                        pb.setExtraMessage(status);
                    } else if (progress && (b + 1) % Math.max(1, stepsPerEpoch / 10) == 0) {
                        log.printf("  epoch %d step %d/%d: %s%n", epoch + 1, b + 1, stepsPerEpoch, status);
                    }
                    if (cfg.train.checkpointEverySteps > 0 && globalStep % cfg.train.checkpointEverySteps == 0 && b + 1 < stepsPerEpoch
                            && isMain()) // [ddp] rank 0 writes
                        save(runDir.resolve("last.pth"), model, opt, ema, maxAcc, acc5AtMax, Double.NaN, epoch - 1, configMap,
                                resumeState(epoch, b + 1, globalStep, lossSum, correct, seen, metrics));
                }
            }
            startBatch = 0;
            double epochSeconds = seconds(e0);
            double[] test = evaluateAll(model, testLoader, device, amp);
            Double emaAcc = null;
            if (ema != null) {
                StateDictIO.loadStateDict(emaModel.module(), ema.state(), true);
                emaAcc = evaluateAll(emaModel, testLoader, device, amp)[1];
            }
            lastAcc = test[1];
            double epochAcc = emaAcc == null ? test[1] : Math.max(test[1], emaAcc);
            boolean best = epochAcc > maxAcc;
            maxAcc = Math.max(maxAcc, epochAcc);
            if (best) acc5AtMax = test[2];
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", epoch + 1);
            row.put("lr", lr);
            row.put("train_loss", lossSum / Math.max(1, seen));
            row.put("train_acc", 100.0 * correct / Math.max(1, seen));
            row.put("test_loss", test[0]);
            row.put("test_acc", test[1]);
            row.put("test_acc_ema", emaAcc);
            row.put("epoch_seconds", epochSeconds);
            row.put("images_per_second", seen / Math.max(1e-9, epochSeconds));
            metrics.add(row);
            log.printf("epoch %d/%d: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%%%s | %.0f s%n", epoch + 1, cfg.train.epochs,
                    lossSum / Math.max(1, seen), 100.0 * correct / Math.max(1, seen), test[0], test[1],
                    emaAcc == null ? "" : String.format(" (EMA %.2f%%)", emaAcc), epochSeconds);
            lossSum = 0;
            correct = 0;
            seen = 0;
            if (!isMain()) continue; // [ddp] rank 0 writes metrics, plots and checkpoints
            metrics.write(runDir);
            plotError = Plots.tryWrite(runDir, metrics.rows(), plotError, log);
            Map<String, Object> resume = resumeState(epoch + 1, 0, globalStep, 0, 0, 0, metrics);
            // the scripts step their scheduler before saving: the groups hold the next epoch's lr
            if (revsnnLayout != null) opt.setLr(schedule.lr(epoch + 1));
            save(runDir.resolve("ckpt_epoch_" + epoch + ".pth"), model, opt, ema, maxAcc, acc5AtMax, test[1], epoch, configMap, resume);
            if (best) save(runDir.resolve("best.pth"), model, opt, ema, maxAcc, acc5AtMax, test[1], epoch, configMap, resume);
            save(runDir.resolve("last.pth"), model, opt, ema, maxAcc, acc5AtMax, test[1], epoch, configMap, resume);
        }
        double secs = seconds(t0);
        log.printf("done in %.1f s: best test accuracy %.2f%%%n", secs, maxAcc);
        log.printf("  checkpoints: %s (last.pth, best.pth, ckpt_epoch_*.pth)%n", runDir);
        log.printf("  metrics:     %s, %s%n", runDir.resolve("metrics.csv"), runDir.resolve("metrics.json"));
        if (plotError == null) log.printf("  plots:       %s, %s%n", runDir.resolve("loss.png"), runDir.resolve("accuracy.png"));
        else log.printf("  plots:       not written (%s)%n", plotError);
        return new Result(true, "completed", maxAcc, lastAcc, runDir, secs);
    }

    /** {@code [mean CE loss of the prediction head, top-1 accuracy %, top-5 accuracy %]} over the loader, in eval mode, on the CPU in float32. */
    public static double[] evaluate(FamilyModel model, DataLoader loader) {
        return evaluate(model, loader, new Devices.Spec("cpu", -1), Autocast.Mode.NONE);
    }

    /**
     * {@link #evaluate(FamilyModel, DataLoader)} with the model on {@code device} (batches are copied there) and the
     * forward under autocast when {@code amp} is not none (the loss is computed in float32).
     */
    public static double[] evaluate(FamilyModel model, DataLoader loader, Devices.Spec device, Autocast.Mode amp) {
        Device dev = device.isCuda() ? device.device() : null;
        model.module().train(false);
        double loss = 0;
        long correct = 0, correct5 = 0, seen = 0;
        try (DataLoader.Epoch it = loader.epoch(0); NoGradGuard ng = new NoGradGuard()) {
            while (it.hasNext()) {
                try (PointerScope scope = new PointerScope(); Batch b = it.next()) {
                    Tensor input = Devices.to(b.input(), dev), target = Devices.to(b.target(), dev);
                    Tensor logits;
                    try (Autocast ac = Autocast.enter(amp, device)) {
                        logits = model.predict(input);
                    }
                    loss += Losses.crossEntropy(logits, target).item_double() * b.size(); // float32 under amp too
                    correct += logits.argmax(new org.bytedeco.pytorch.LongOptional(1), false).eq(target).sum().item_long();
                    long k = Math.min(5, logits.size(1));
                    Tensor top = logits.topk(k).get1(); // [B, k] indices
                    correct5 += top.eq(target.unsqueeze(1)).any(1).sum().item_long();
                    seen += b.size();
                }
            }
        } finally {
            model.module().train(true);
        }
        return new double[]{loss / Math.max(1, seen), 100.0 * correct / Math.max(1, seen), 100.0 * correct5 / Math.max(1, seen)};
    }

    // ---- [ddp] helpers: identity with one process
    private int rank() { return dist == null ? 0 : dist.rank(); }

    private int world() { return dist == null ? 1 : dist.world(); }

    private boolean isMain() { return dist == null || dist.isMain(); }

    /** [ddp] Rank r's contiguous slice {@code [r*n/W, (r+1)*n/W)} of the test set (all of it with one process). */
    private dev.spikerev.data.Dataset testSlice(dev.spikerev.data.Dataset test) {
        if (dist == null) return test;
        long n = test.size();
        return test.subset((int) (n * rank() / world()), (int) (n * (rank() + 1) / world()));
    }

    /** {@link #evaluate} over the whole test set: [ddp] the ranks' slice sums are all-reduced. */
    private double[] evaluateAll(FamilyModel m, DataLoader slice, Devices.Spec device, Autocast.Mode amp) {
        double[] r = evaluate(m, slice, device, amp);
        if (dist == null) return r;
        double n = slice.dataset().size();
        double[] s = dist.sum(r[0] * n, r[1] * n, r[2] * n, n);
        return new double[]{s[0] / Math.max(1, s[3]), s[1] / Math.max(1, s[3]), s[2] / Math.max(1, s[3])};
    }

    private Path resolveResume() {
        String r = cfg.train.resume;
        if (r == null || r.isEmpty()) return null;
        if (!r.equals("auto")) {
            Path p = Path.of(r);
            if (!Files.isRegularFile(p)) throw new ConfigException("--resume: checkpoint not found: " + p);
            return p;
        }
        for (Path p : RunCheckpoint.candidates(runDir)) {
            try {
                RunCheckpoint.load(p);
                return p;
            } catch (CheckpointFormatException | java.io.UncheckedIOException e) {
                log.println("skipping unreadable checkpoint " + p + ": " + e.getMessage());
            }
        }
        log.println("--resume auto: no checkpoint in " + runDir + ", starting fresh");
        return null;
    }

    private static Map<String, Object> resumeState(int epoch, int batch, long globalStep, double lossSum, long correct,
                                                   long seen, Metrics metrics) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("epoch", (long) epoch);
        r.put("batch", (long) batch);
        r.put("global_step", globalStep);
        r.put("loss_sum", lossSum);
        r.put("correct", correct);
        r.put("seen", seen);
        r.put("history", metrics.rows());
        return r;
    }

    /**
     * Writes one checkpoint: the family's reference layout ({@link RevSNNCheckpoint} for revsnn, else the T-RevSNN
     * layout of {@link RunCheckpoint}); {@code epoch} is the last finished epoch (-1 mid-way through the first),
     * {@code metric} this epoch's test top-1 (NaN mid-epoch).
     */
    private void save(Path file, FamilyModel model, Optimizer opt, ModelEma ema, double maxAcc, double acc5AtMax, double metric,
                      int epoch, Map<String, Object> config, Map<String, Object> resume) {
        resume.put("world", (long) world()); // [ddp]
        if (scaler != null) resume.put("scaler", scaler.stateDict());
        try (PointerScope scope = new PointerScope()) {
            if (revsnnLayout != null) {
                resume.put("max_accuracy", maxAcc);
                resume.put("config", config);
                RevSNNCheckpoint.write(file, new RevSNNCheckpoint.Contents(revsnnLayout, epoch, 2,
                        new LinkedHashMap<>(StateDictIO.stateDict(model.module())), opt.stateDict(),
                        revsnnLayout.script() ? RevSNNCheckpoint.lrSchedulerState(cfg, epoch + 1, opt.paramGroups().size()) : null,
                        maxAcc, acc5AtMax, String.valueOf(cfg.model.getOrDefault("arch", "RevSpikingformer")),
                        Double.isNaN(metric) ? null : metric, ema == null ? null : new LinkedHashMap<>(ema.state()), resume));
                return;
            }
            RunCheckpoint.save(file, StateDictIO.stateDict(model.module()), opt.stateDict(), ema == null ? null : ema.state(),
                    maxAcc, epoch, config, resume);
        }
    }

    private ProgressBar progressBar(int epoch, int steps, int start) {
        if (!progress || System.console() == null) return null; // not a terminal: periodic log lines instead
        ProgressBar pb = new ProgressBarBuilder().setTaskName(String.format("epoch %d/%d", epoch + 1, cfg.train.epochs))
                .setInitialMax(steps).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).setMaxRenderedLength(130)
                .continuousUpdate().build();
        if (start > 0) pb.stepTo(start);
        return pb;
    }

    private static int intOf(Object o, int d) { return o instanceof Number n ? n.intValue() : d; }

    private static long longOf(Object o, long d) { return o instanceof Number n ? n.longValue() : d; }

    private static double seconds(long t0) { return (System.nanoTime() - t0) / 1e9; }
}
