package dev.spikerev.train.distributed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * {@code spikerev train --nproc N}: starts N worker JVMs on this machine (same java, classpath and JVM options;
 * the {@code train} arguments of rank {@code r} come from {@code argsForRank}), forwards rank 0's output to
 * {@code out}, writes every rank's output to {@code <run>/workers/rank<r>.log}, and waits.
 *
 * <p><b>Failure.</b> The launcher watches its children. When one exits with a non-zero status, it stops the others
 * (SIGTERM, then SIGKILL after {@link #GRACE_SECONDS}), and {@link Result#message()} names the failed rank, its exit
 * status and its last log line. When several ranks fail, the first one whose last line is not a lost-peer error of
 * a collective is reported (the others usually fail because of it). Workers stop by themselves when the launcher
 * dies ({@code --launcher-pid}); collectives time out after {@code --dist-timeout} as a last resort.
 */
public final class Launcher {
    static final long GRACE_SECONDS = 10;

    /** How the run ended: exit status 0 when every rank finished, otherwise the failed rank's status. */
    public record Result(int exitCode, int failedRank, String message) {
        public boolean ok() { return exitCode == 0; }
    }

    private final int nproc;
    private final Path logDir;
    private final PrintStream out;

    public Launcher(int nproc, Path logDir, PrintStream out) {
        if (nproc < 2) throw new IllegalArgumentException("--nproc must be >= 2 to launch workers, found " + nproc);
        this.nproc = nproc;
        this.logDir = logDir;
        this.out = out;
    }

    /** Starts the workers and waits for all of them. */
    public Result run(IntFunction<List<String>> argsForRank) throws IOException, InterruptedException {
        Files.createDirectories(logDir);
        Worker[] workers = new Worker[nproc];
        BlockingQueue<Integer> exited = new LinkedBlockingQueue<>();
        Thread stopOnExit = new Thread(() -> stopAll(workers), "spikerev-launcher-shutdown");
        Runtime.getRuntime().addShutdownHook(stopOnExit); // Ctrl-C / SIGTERM of the launcher stops the workers
        try {
            for (int r = 0; r < nproc; r++) {
                workers[r] = start(r, argsForRank.apply(r));
                final int rank = r;
                workers[r].process.onExit().thenRun(() -> exited.add(rank));
            }
            StringBuilder pids = new StringBuilder();
            for (Worker w : workers) pids.append(pids.length() == 0 ? "" : ", ").append("rank ").append(w.rank).append(" pid ").append(w.process.pid());
            out.println("launched " + nproc + " workers (" + pids + "); logs in " + logDir);
            int failed = -1;
            List<Integer> failures = new ArrayList<>();
            for (int done = 0; done < nproc; done++) {
                int r = exited.take();
                if (workers[r].process.exitValue() != 0) {
                    failures.add(r);
                    if (failed < 0) {
                        failed = r;
                        stopAll(workers);
                    }
                }
            }
            for (Worker w : workers) w.pump.join(TimeUnit.SECONDS.toMillis(GRACE_SECONDS));
            if (failures.isEmpty()) return new Result(0, -1, "all " + nproc + " workers finished");
            int primary = failures.stream().filter(r -> !peerLoss(workers[r].lastLine)).findFirst().orElse(failures.get(0));
            Worker w = workers[primary];
            int code = w.process.exitValue();
            List<String> others = new ArrayList<>();
            for (Worker o : workers) if (o.rank != primary) others.add("rank " + o.rank);
            String msg = "rank " + primary + " of " + nproc + " failed (exit status " + code + "): "
                    + (w.lastLine == null ? "(no output)" : w.lastLine) + "; stopped " + String.join(", ", others)
                    + "; full log: " + w.log;
            return new Result(code, primary, msg);
        } finally {
            stopAll(workers);
            try {
                Runtime.getRuntime().removeShutdownHook(stopOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is exiting: the hook runs anyway
            }
        }
    }

    /** Lost-peer errors of a collective: a consequence of another rank's failure, not its cause. */
    static boolean peerLoss(String line) {
        if (line == null) return false;
        String l = line.toLowerCase(java.util.Locale.ROOT);
        return l.contains("a peer probably died") || l.contains("connection closed by peer") || l.contains("connection reset")
                || l.contains("timed out") || l.contains("launcher is gone");
    }

    private Worker start(int rank, List<String> trainArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(forwardedJvmOptions());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.spikerev.cli.SpikeRev");
        cmd.add("train");
        cmd.addAll(trainArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Process p = pb.start();
        Path log = logDir.resolve("rank" + rank + ".log");
        Worker w = new Worker(rank, p, log);
        w.pump = new Thread(() -> pump(w, rank == 0 ? out : null), "spikerev-worker-" + rank + "-output");
        w.pump.setDaemon(true);
        w.pump.start();
        return w;
    }

    /** The launcher's own JVM options, without debugger/agent options (a second JDWP listener on the same port fails). */
    static List<String> forwardedJvmOptions() {
        List<String> opts = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-agentlib") || a.startsWith("-javaagent") || a.startsWith("-Xrunjdwp") || a.startsWith("-Xdebug")
                    || a.startsWith("-Djava.class.path") || a.startsWith("-XX:Flags")) continue;
            opts.add(a);
        }
        return opts;
    }

    private static void pump(Worker w, PrintStream echo) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(w.process.getInputStream(), StandardCharsets.UTF_8));
             Writer file = Files.newBufferedWriter(w.log, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                file.write(line);
                file.write('\n');
                file.flush();
                if (echo != null) echo.println(line);
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("at ") && !t.startsWith("...") && !t.startsWith("Caused by") && !t.startsWith("[Gloo]"))
                    w.lastLine = t;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void stopAll(Worker[] workers) {
        for (Worker w : workers) if (w != null && w.process.isAlive()) w.process.destroy();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(GRACE_SECONDS);
        for (Worker w : workers) {
            if (w == null) continue;
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !w.process.waitFor(left, TimeUnit.NANOSECONDS)) w.process.destroyForcibly();
            } catch (InterruptedException e) {
                w.process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private static final class Worker {
        final int rank;
        final Process process;
        final Path log;
        Thread pump;
        volatile String lastLine;

        Worker(int rank, Process process, Path log) {
            this.rank = rank;
            this.process = process;
            this.log = log;
        }
    }
}
