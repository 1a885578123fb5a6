package dev.spikerev.cli;

import dev.spikerev.data.DataLoader;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Devices;
import dev.spikerev.tensor.Natives;
import dev.spikerev.train.Autocast;
import dev.spikerev.train.ConfigLoader;
import dev.spikerev.train.DataSources;
import dev.spikerev.train.RunCheckpoint;
import dev.spikerev.train.TrainConfig;
import dev.spikerev.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code spikerev eval --config FILE --checkpoint PATH}: test loss and accuracy of a checkpoint. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a checkpoint on the config's test set.")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "YAML config (default: " + TrainCommand.DEFAULT_CONFIG + ").")
    Path config;

    @Option(names = "--checkpoint", required = true, paramLabel = "PATH", description = "Training checkpoint (spikerev's, or a reference script's: model / state_dict key) or a plain state_dict file.")
    Path checkpoint;

    @Option(names = "--ema", description = "Evaluate the EMA weights (state_dict_ema).")
    boolean ema;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--device", paramLabel = "cpu|cuda:N", description = "Device (cpu, cuda = cuda:0, cuda:N); overrides train.device.")
    String device;

    @Override
    public Integer call() {
        List<String> all = new ArrayList<>(overrides);
        if (device != null) all.add("train.device=" + device);
        TrainConfig cfg = ConfigLoader.load(config != null ? config : Path.of(TrainCommand.DEFAULT_CONFIG), all);
        Devices.Spec where = Devices.require(cfg.train.device, device != null ? "--device" : "train.device");
        Autocast.Mode amp = Autocast.Mode.of(cfg.train.amp, "train.amp");
        Autocast.check(amp, where);
        if (!Files.isRegularFile(checkpoint)) throw new UserError("--checkpoint: file not found: " + checkpoint);
        Natives.setThreads(cfg.train.threads);
        Trainer trainer = new Trainer(cfg, System.out, false);
        FamilyModel model = trainer.buildModel();
        if (where.isCuda()) Devices.to(model.module(), where.device()); // the CPU copies of the checkpoint are copied there
        loadWeights(model, checkpoint, ema);
        DataSources data = DataSources.of(cfg.data, model.timeSteps());
        DataLoader test = DataLoader.builder(data.test).batchSize(cfg.data.evalBatchSize).shuffle(false)
                .workers(cfg.data.workers).transform(data.testTransform).build();
        double[] r = Trainer.evaluate(model, test, where, amp);
        System.out.printf("eval %s%s on %s test (%d images, %s%s): loss %.4f, top-1 accuracy %.2f%%%n", checkpoint, ema ? " (EMA)" : "",
                cfg.data.dataset, data.test.size(), where, amp == Autocast.Mode.NONE ? "" : " amp " + amp.key, r[0], r[1]);
        return ExitCodes.OK;
    }

    /**
     * Loads the model (or EMA) weights of any checkpoint layout spikerev reads ({@link RunCheckpoint#weights}: training
     * checkpoints with {@code model} / {@code state_dict}, {@code module.} prefixes, bare state_dicts) strictly into
     * {@code model}; a file without those weights is a one-line user error.
     */
    static void loadWeights(FamilyModel model, Path checkpoint, boolean ema) {
        Object loaded = dev.spikerev.checkpoint.TorchFile.load(checkpoint);
        java.util.Map<String, org.bytedeco.pytorch.Tensor> sd;
        try {
            sd = RunCheckpoint.weights(loaded, ema, checkpoint.toString());
        } catch (dev.spikerev.checkpoint.CheckpointFormatException e) {
            throw new UserError(e.getMessage());
        }
        StateDictIO.loadStateDict(model.module(), sd, true);
    }
}
