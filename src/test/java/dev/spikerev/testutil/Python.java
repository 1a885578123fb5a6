package dev.spikerev.testutil;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs Python (the project venv with torch, see .ci/run) from tests. The interpreter is the
 * system property {@code spikerev.python} (set by the pom to {@code .venv/bin/python}).
 * A missing interpreter fails the test: interop is part of what the suite proves.
 */
public final class Python {
    private Python() {}

    public static String interpreter() {
        String p = System.getProperty("spikerev.python", ".venv/bin/python");
        if (!Files.isExecutable(Path.of(p)))
            throw new IllegalStateException("Python for interop tests not found at " + p
                    + " (run .ci/run, or: python3 -m venv .venv && .venv/bin/pip install torch numpy)");
        return p;
    }

    /** Runs {@code script} with the given args; returns stdout. Fails with stderr on a non-zero exit. */
    public static String run(String script, String... args) {
        try {
            // a private folder: Python puts the script's folder first on sys.path, so a stray file in the
            // shared temp folder (e.g. a stray dis.py there) must not shadow a standard module
            Path dir = Files.createTempDirectory("spikerev-py");
            Path f = dir.resolve("script.py");
            Files.writeString(f, script);
            try {
                List<String> cmd = new ArrayList<>();
                cmd.add(interpreter());
                cmd.add(f.toString());
                cmd.addAll(List.of(args));
                ProcessBuilder pb = new ProcessBuilder(cmd);
                pb.environment().put("OMP_NUM_THREADS", "1");
                Path err = Files.createTempFile("spikerev-test", ".err");
                pb.redirectError(err.toFile());
                Process proc = pb.start();
                byte[] out = proc.getInputStream().readAllBytes();
                if (!proc.waitFor(600, TimeUnit.SECONDS)) {
                    proc.destroyForcibly();
                    throw new AssertionError("python timed out");
                }
                String errText = Files.readString(err);
                Files.deleteIfExists(err);
                if (proc.exitValue() != 0)
                    throw new AssertionError("python exited " + proc.exitValue() + ":\n" + errText);
                return new String(out, StandardCharsets.UTF_8);
            } finally {
                Files.deleteIfExists(f);
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    /** Outcome of {@link #runFile}. */
    public record Result(int exit, String out, String err) {}

    /**
     * Runs a script file in place (so it can import modules next to it, e.g. {@code tools/}), with the given
     * interpreter ({@code null}: {@link #interpreter()}); returns exit status, stdout and stderr without failing.
     */
    public static Result runFile(String python, Path script, String... args) {
        try {
            List<String> cmd = new ArrayList<>();
            cmd.add(python == null ? interpreter() : python);
            cmd.add(script.toString());
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().put("OMP_NUM_THREADS", "2");
            Path err = Files.createTempFile("spikerev-test", ".err");
            pb.redirectError(err.toFile());
            Process proc = pb.start();
            byte[] out = proc.getInputStream().readAllBytes();
            if (!proc.waitFor(900, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                throw new AssertionError("python timed out");
            }
            String errText = Files.readString(err);
            Files.deleteIfExists(err);
            return new Result(proc.exitValue(), new String(out, StandardCharsets.UTF_8), errText);
        } catch (IOException e) {
            throw new RuntimeException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }
}
