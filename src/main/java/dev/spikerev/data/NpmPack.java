package dev.spikerev.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Downloads an npm package tarball with {@code npm pack <spec>} (run in a given directory) and returns the
 * {@code .tgz} it wrote. The command is overridable (tests use a fake script; {@code SPIKEREV_NPM} sets it too).
 */
public final class NpmPack {
    private NpmPack() {}

    /** The npm command: {@code $SPIKEREV_NPM} if set, else {@code npm}. */
    public static List<String> defaultCommand() {
        String env = System.getenv("SPIKEREV_NPM");
        return List.of(env == null || env.isBlank() ? "npm" : env);
    }

    /** Runs {@code npm pack spec} in {@code dir} and returns the single {@code .tgz} it created there. */
    public static Path pack(List<String> npm, String spec, Path dir) throws IOException {
        List<String> cmd = new ArrayList<>(npm);
        cmd.add("pack");
        cmd.add(spec);
        Files.createDirectories(dir);
        Path log = dir.resolve("npm-pack.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run '" + String.join(" ", cmd) + "': " + npm.get(0)
                    + " not found (install Node.js/npm, set SPIKEREV_NPM, or place the files by hand)", e);
        }
        try {
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("'" + String.join(" ", cmd) + "' timed out after 30 minutes");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", cmd), e);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) {
            String last = out.isEmpty() ? "" : out.substring(out.lastIndexOf('\n') + 1);
            throw new IOException("'" + String.join(" ", cmd) + "' failed with exit code " + p.exitValue()
                    + (last.isEmpty() ? "" : ": " + last));
        }
        try (var s = Files.list(dir)) {
            List<Path> tgz = s.filter(f -> f.getFileName().toString().endsWith(".tgz")).toList();
            if (tgz.size() != 1) {
                throw new IOException("'" + String.join(" ", cmd) + "' left " + tgz.size() + " .tgz files in " + dir);
            }
            return tgz.get(0);
        }
    }
}
