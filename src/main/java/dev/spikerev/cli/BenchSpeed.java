package dev.spikerev.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spikerev.bench.SpeedBench;
import dev.spikerev.bench.SpeedBench.Result;
import dev.spikerev.bench.SpeedBench.Stats;
import dev.spikerev.tensor.Devices;
import dev.spikerev.tensor.Natives;
import dev.spikerev.train.Autocast;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spikerev bench speed}: median training-step and inference time of T-RevSNN, optionally next to the Python
 * reference ({@code tools/bench_reference.py}) run in the same invocation, with the Java/Python ratio.
 */
@Command(name = "speed", mixinStandardHelpOptions = true,
        description = {"Wall time of a T-RevSNN training step (forward + compound loss + backward + AGC + Lamb step) and of",
                "inference (eval forward), median with min/max and IQR after warm-up; --compare-python also times the",
                "reference (tools/bench_reference.py with your clone of BICLab/T-RevSNN) and prints the Java/Python ratio."})
public final class BenchSpeed implements Callable<Integer> {
    @Option(names = "--family", defaultValue = "t-revsnn", description = "Model family (default: ${DEFAULT-VALUE}).")
    String family;
    @Option(names = "--model", defaultValue = "tiny", description = "tiny, small or four channel counts c0,c1,c2,c3 (default: ${DEFAULT-VALUE}).")
    String model;
    @Option(names = "--img", defaultValue = "64", description = "Input height/width, a multiple of 16 (default: ${DEFAULT-VALUE}).")
    int img;
    @Option(names = "--batch", defaultValue = "8", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--threads", defaultValue = "2", description = "Intra-op threads, Java and Python (default: ${DEFAULT-VALUE}).")
    int threads;
    @Option(names = "--steps", defaultValue = "10", description = "Measured calls (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--warmup", defaultValue = "2", description = "Unmeasured calls first (default: ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--kernel", defaultValue = "3", description = "Depthwise kernel size (default: ${DEFAULT-VALUE}).")
    int kernel;
    @Option(names = "--classes", defaultValue = "1000", description = "Number of classes (default: ${DEFAULT-VALUE}).")
    int classes;
    @Option(names = "--plain", description = "Plain autograd (save_memory=false) instead of the reversible backward.")
    boolean plain;
    @Option(names = "--compare-python", description = "Also run tools/bench_reference.py with the same settings.")
    boolean comparePython;
    @Option(names = "--ref-dir", paramLabel = "PATH", description = "Local clone of BICLab/T-RevSNN (for --compare-python).")
    Path refDir;
    @Option(names = "--python", paramLabel = "PY", defaultValue = "${env:SPIKEREV_PYTHON:-python3}",
            description = "Python with torch (default: $SPIKEREV_PYTHON or python3).")
    String python;
    @Option(names = "--tools", paramLabel = "DIR", defaultValue = "${env:SPIKEREV_TOOLS:-tools}",
            description = "Folder holding bench_reference.py (default: ./tools or $SPIKEREV_TOOLS).")
    Path tools;
    @Option(names = "--device", paramLabel = "cpu|cuda:N", defaultValue = "cpu",
            description = "Java side's device (cpu, cuda = cuda:0, cuda:N; default: ${DEFAULT-VALUE}).")
    String device;
    @Option(names = "--amp", paramLabel = "none|bf16|fp16", defaultValue = "none",
            description = "Java side's mixed precision (fp16 needs CUDA; default: ${DEFAULT-VALUE}).")
    String amp;
    @Option(names = "--json", paramLabel = "FILE", description = "Write the result as JSON.")
    Path json;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!family.equals("t-revsnn")) throw new UserError("bench speed: family '" + family + "' is not wired yet (available: t-revsnn)");
        if (comparePython && refDir == null) throw new UserError("--compare-python needs --ref-dir PATH (a clone of BICLab/T-RevSNN)");
        Path script = tools.resolve("bench_reference.py");
        if (comparePython && !Files.isRegularFile(script)) throw new UserError("--compare-python: " + script + " not found (set --tools)");
        Devices.Spec dev = Devices.require(device, "--device");
        Autocast.Mode ampMode = Autocast.Mode.of(amp, "--amp");
        Autocast.check(ampMode, dev);
        Natives.setThreads(threads);
        PrintWriter out = spec.commandLine().getOut();
        double[] loadBefore = SpeedBench.loadAverage();
        out.printf("t-revsnn %s kernel %d classes %d img %d batch %d threads %d save_memory %s, %s amp %s, %d warm-up + %d measured%n",
                model, kernel, classes, img, batch, threads, !plain, dev, ampMode.key, warmup, steps);
        out.flush();
        Result java;
        try {
            java = SpeedBench.trevsnn(model, kernel, classes, img, batch, threads, steps, warmup, !plain, dev, ampMode);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        out.println("java   train step " + java.step().format());
        out.println("java   inference  " + java.inference().format());
        out.flush();
        Map<String, Object> py = null;
        if (comparePython) {
            py = runPython(script);
            out.printf("python train step median %.4f s (min %.4f, max %.4f, IQR %.4f..%.4f)  [torch %s, timm %s]%n",
                    num(py, "python_step_s"), num(py, "python_step_min_s"), num(py, "python_step_max_s"),
                    num(py, "python_step_q1_s"), num(py, "python_step_q3_s"), py.get("torch"), py.get("timm"));
            out.printf("python inference  median %.4f s (min %.4f, max %.4f, IQR %.4f..%.4f)%n",
                    num(py, "python_infer_s"), num(py, "python_infer_min_s"), num(py, "python_infer_max_s"),
                    num(py, "python_infer_q1_s"), num(py, "python_infer_q3_s"));
        }
        double[] loadAfter = SpeedBench.loadAverage();
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("java_step_s", java.step().median());
        res.put("python_step_s", py == null ? null : num(py, "python_step_s"));
        res.put("ratio", py == null ? null : java.step().median() / num(py, "python_step_s"));
        res.put("threads", threads);
        res.put("load_avg", loadAfter.length > 0 ? loadAfter[0] : null);
        res.put("load_avg_before", loadBefore.length > 0 ? loadBefore[0] : null);
        res.put("java_infer_s", java.inference().median());
        res.put("python_infer_s", py == null ? null : num(py, "python_infer_s"));
        res.put("infer_ratio", py == null ? null : java.inference().median() / num(py, "python_infer_s"));
        res.put("java_step", spread(java.step()));
        res.put("java_infer", spread(java.inference()));
        if (py != null) {
            res.put("python_step", Map.of("min", py.get("python_step_min_s"), "max", py.get("python_step_max_s"),
                    "q1", py.get("python_step_q1_s"), "q3", py.get("python_step_q3_s")));
            res.put("python_infer", Map.of("min", py.get("python_infer_min_s"), "max", py.get("python_infer_max_s"),
                    "q1", py.get("python_infer_q1_s"), "q3", py.get("python_infer_q3_s")));
            res.put("python_versions", Map.of("torch", String.valueOf(py.get("torch")), "timm", String.valueOf(py.get("timm"))));
        }
        res.put("model", model);
        res.put("kernel", kernel);
        res.put("classes", classes);
        res.put("img", img);
        res.put("batch", batch);
        res.put("steps", steps);
        res.put("warmup", warmup);
        res.put("save_memory", !plain);
        res.put("device", dev.toString());
        res.put("amp", ampMode.key);
        if (py != null)
            out.printf("ratio java/python: train step %.3f, inference %.3f (load average %s -> %s)%n", (Double) res.get("ratio"),
                    (Double) res.get("infer_ratio"), fmt(loadBefore), fmt(loadAfter));
        else
            out.printf("load average %s -> %s%n", fmt(loadBefore), fmt(loadAfter));
        if (json != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), res);
            out.println("wrote " + json);
        }
        out.flush();
        return ExitCodes.OK;
    }

    private Map<String, Object> runPython(Path script) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--ref-dir", refDir.toString(),
                "--model", model, "--kernel", Integer.toString(kernel), "--classes", Integer.toString(classes),
                "--img", Integer.toString(img), "--batch", Integer.toString(batch), "--threads", Integer.toString(threads),
                "--steps", Integer.toString(steps), "--warmup", Integer.toString(warmup), "--save-memory", plain ? "0" : "1"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        Path err = Files.createTempFile("spikerev-bench", ".err");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(3600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new UserError("bench_reference.py timed out");
        }
        String errText = Files.readString(err);
        Files.deleteIfExists(err);
        if (p.exitValue() != 0) throw new UserError("bench_reference.py failed (exit " + p.exitValue() + "):\n" + tail(errText + stdout));
        String last = stdout.strip();
        last = last.substring(last.lastIndexOf('\n') + 1);
        @SuppressWarnings("unchecked") Map<String, Object> m = new ObjectMapper().readValue(last, Map.class);
        return m;
    }

    private static String tail(String s) {
        return s.length() > 3000 ? "..." + s.substring(s.length() - 3000) : s;
    }

    private static double num(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof Number n)) throw new UserError("bench_reference.py output has no number '" + k + "'");
        return n.doubleValue();
    }

    private static Map<String, Object> spread(Stats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("min", s.min());
        m.put("max", s.max());
        m.put("q1", s.q1());
        m.put("q3", s.q3());
        m.put("n", s.n());
        return m;
    }

    private static String fmt(double[] l) {
        return l.length == 0 ? "n/a" : String.format("%.2f/%.2f/%.2f", l[0], l[1], l[2]);
    }
}
