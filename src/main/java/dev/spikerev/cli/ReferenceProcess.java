package dev.spikerev.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs {@code tools/bench_reference.py} (or another script printing one JSON line last) and parses that line. */
final class ReferenceProcess {
    private ReferenceProcess() {}

    /** {@code python script args...} with {@code OMP_NUM_THREADS=threads}; the last stdout line as a JSON object. */
    static Map<String, Object> run(String python, Path script, List<String> args, int threads) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(python, script.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        Path err = Files.createTempFile("spikerev-bench", ".err");
        pb.redirectError(err.toFile());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            Files.deleteIfExists(err);
            throw new UserError("--compare-python: cannot start '" + python + "' (" + e.getMessage() + "); set --python");
        }
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(3600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new UserError(script.getFileName() + " timed out");
        }
        String errText = Files.readString(err);
        Files.deleteIfExists(err);
        if (p.exitValue() != 0)
            throw new UserError(script.getFileName() + " failed (exit " + p.exitValue() + "): " + lastLine(errText.isBlank() ? stdout : errText)
                    + "\n" + tail(errText + stdout));
        String last = stdout.strip();
        last = last.substring(last.lastIndexOf('\n') + 1);
        try {
            @SuppressWarnings("unchecked") Map<String, Object> m = new ObjectMapper().readValue(last, Map.class);
            return m;
        } catch (IOException e) {
            throw new UserError(script.getFileName() + " printed no JSON line last: " + lastLine(stdout) + "\n" + tail(errText + stdout));
        }
    }

    /** The last non-blank line (the one-line error shows it; --stacktrace shows the whole tail). */
    static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }

    static String tail(String s) {
        return s.length() > 3000 ? "..." + s.substring(s.length() - 3000) : s;
    }

    /** A number from the script's JSON (one-line error if missing). */
    static double num(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof Number n)) throw new UserError("bench_reference.py output has no number '" + k + "'");
        return n.doubleValue();
    }
}
