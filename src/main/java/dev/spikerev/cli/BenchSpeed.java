package dev.spikerev.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spikerev.bench.MpisSpeed;
import dev.spikerev.bench.RevSNNSpeed;
import dev.spikerev.bench.SpeedBench;
import dev.spikerev.bench.SpeedBench.Result;
import dev.spikerev.bench.SpeedBench.Stats;
import dev.spikerev.bench.SpeedCase;
import dev.spikerev.tensor.Devices;
import dev.spikerev.tensor.Natives;
import dev.spikerev.train.Autocast;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import static dev.spikerev.cli.ReferenceProcess.num;

/**
 * {@code spikerev bench speed}: median training-step and inference time of T-RevSNN, RevSNN or MPIS-SNNs with the
 * family's reference loss, backward path and optimizer, optionally next to the Python reference
 * ({@code tools/bench_reference.py}) run in the same invocation, with the Java/Python ratio.
 */
@Command(name = "speed", mixinStandardHelpOptions = true,
        description = {"Wall time of a training step (forward + the family's reference loss + backward",
                "through the reversible / implicit path + the reference optimizer step) and of",
                "inference (eval forward): median, min/max and IQR after warm-up, and the medians",
                "of the phases forward+loss / backward / optimizer. t-revsnn: compound loss, AGC,",
                "Lamb; revsnn: CE or label smoothing, SGD or AdamW per recipe; mpis: CE, SGD.",
                "--compare-python also times the reference (tools/bench_reference.py with your",
                "clone) in the same run and prints the Java/Python ratio."})
public final class BenchSpeed implements Callable<Integer> {
    static final List<String> FAMILIES = List.of("t-revsnn", "revsnn", "mpis");

    @Option(names = "--family", defaultValue = "t-revsnn", description = "t-revsnn, revsnn or mpis (default: ${DEFAULT-VALUE}).")
    String family;
    @Option(names = "--model", description = {"t-revsnn: tiny (default), small or c0,c1,c2,c3;",
            "revsnn: revsresnet21 (default), revsresnet37, revsresnet109, revsresnet-tiny, revsformer-2-384, revsformer-4-384 or revsformer-D-E;",
            "mpis: cifar-small (default), cifar-fixture, nmnist-fixture, cifar10, cifar100, nmnist-small, nmnist."})
    String model;
    @Option(names = "--img", description = "t-revsnn: input height/width, a multiple of 16 (default: 64; revsnn/mpis use 32).")
    Integer img;
    @Option(names = "--batch", defaultValue = "8", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--threads", defaultValue = "2", description = "Intra-op threads, Java and Python (default: ${DEFAULT-VALUE}).")
    int threads;
    @Option(names = "--steps", defaultValue = "10", description = "Measured calls (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--warmup", defaultValue = "2", description = "Unmeasured calls first (default: ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--kernel", description = "t-revsnn: depthwise kernel size (default: 3).")
    Integer kernel;
    @Option(names = "--classes", description = "Number of classes (default: t-revsnn 1000; revsnn 100 RevSResNet, 10 RevSFormer; mpis: the preset's).")
    Integer classes;
    @Option(names = "--T", description = "revsnn / mpis: time steps (default: revsnn 4; mpis the preset's).")
    Integer timeSteps;
    @Option(names = "--heads", description = "revsnn RevSFormer: attention heads (default: 12 for 384, 16 for 256, else embedding/8).")
    Integer heads;
    @Option(names = "--gradient", description = "mpis: one-step (the reference's, default) or implicit.")
    String gradient;
    @Option(names = "--simulate-all-steps", description = {"mpis: also run the simulation steps 1..T-1, which the reference",
            "runs but its first-step read-out never reads (like-for-like timing; default: skipped, identical outputs)."})
    boolean simulateAllSteps;
    @Option(names = "--plain", description = "t-revsnn / revsnn: plain autograd (BPTT) instead of the reversible backward.")
    boolean plain;
    @Option(names = "--nchw", description = "revsnn RevSResNet: NCHW activations (the reference's layout) instead of channels-last.")
    boolean nchw;
    @Option(names = "--compare-python", description = "Also run tools/bench_reference.py with the same settings.")
    boolean comparePython;
    @Option(names = "--ref-dir", paramLabel = "PATH", description = "Local clone of the family's reference (for --compare-python).")
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
    @Option(names = "--rounds", defaultValue = "1", description = {"With --compare-python: N paired rounds (Java, then Python,",
            "N times) and the median of the per-round ratios, against machine drift (default: ${DEFAULT-VALUE})."})
    int rounds;
    @Option(names = "--json", paramLabel = "FILE", description = "Write the result as JSON.")
    Path json;
    @Spec CommandSpec spec;

    /** The Java side of one run: timings, family-specific JSON fields and the matching bench_reference.py arguments. */
    record Measured(Stats step, Stats inference, Map<String, Double> phases, Map<String, Object> fields, List<String> pythonArgs) {}

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!FAMILIES.contains(family))
            throw new UserError("bench speed: unknown family '" + family + "' (available: " + String.join(", ", FAMILIES) + ")");
        checkFlags();
        if (comparePython && refDir == null)
            throw new UserError("--compare-python needs --ref-dir PATH (a clone of " + reference() + ")");
        Path script = tools.resolve("bench_reference.py");
        if (comparePython && !Files.isRegularFile(script)) throw new UserError("--compare-python: " + script + " not found (set --tools)");
        if (steps < 1 || warmup < 0 || batch < 1) throw new UserError("bench speed: --steps >= 1, --warmup >= 0, --batch >= 1");
        Devices.Spec dev = Devices.require(device, "--device");
        Autocast.Mode ampMode = Autocast.Mode.of(amp, "--amp");
        Autocast.check(ampMode, dev);
        if (!family.equals("t-revsnn") && (dev.isCuda() || ampMode != Autocast.Mode.NONE))
            throw new UserError("bench speed: --device/--amp are implemented for family t-revsnn only (" + family + " runs on the CPU in fp32)");
        this.dev = dev;
        this.ampMode = ampMode;
        Natives.setThreads(threads);
        PrintWriter out = spec.commandLine().getOut();
        if (rounds < 1) throw new UserError("bench speed: --rounds must be >= 1, found " + rounds);
        if (rounds > 1 && !comparePython) throw new UserError("bench speed: --rounds applies with --compare-python only");
        double[] loadBefore = SpeedBench.loadAverage();
        // paired rounds: each Java measurement is followed by the Python one, so both see the same machine state
        List<Measured> javas = new ArrayList<>();
        List<Map<String, Object>> pys = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            if (rounds > 1) out.printf("-- round %d of %d%n", r + 1, rounds);
            javas.add(measureJava(out));
            if (comparePython) pys.add(measurePython(out, script, javas.get(r)));
        }
        int pick = medianRound(javas, pys);
        Measured java = javas.get(pick);
        Map<String, Object> py = comparePython ? pys.get(pick) : null;
        double[] loadAfter = SpeedBench.loadAverage();
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("java_step_s", java.step().median());
        res.put("python_step_s", py == null ? null : num(py, "python_step_s"));
        res.put("ratio", py == null ? null : ratio(java, py));
        res.put("threads", threads);
        res.put("load_avg", loadAfter.length > 0 ? loadAfter[0] : null);
        res.put("load_avg_before", loadBefore.length > 0 ? loadBefore[0] : null);
        res.put("family", family);
        res.put("java_infer_s", java.inference().median());
        res.put("python_infer_s", py == null ? null : num(py, "python_infer_s"));
        res.put("infer_ratio", py == null ? null : java.inference().median() / num(py, "python_infer_s"));
        res.put("java_train_img_per_s", batch / java.step().median());
        res.put("java_infer_img_per_s", batch / java.inference().median());
        if (py != null) {
            res.put("python_train_img_per_s", batch / num(py, "python_step_s"));
            res.put("python_infer_img_per_s", batch / num(py, "python_infer_s"));
        }
        if (rounds > 1) {
            List<Map<String, Object>> rr = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("java_step_s", javas.get(r).step().median());
                m.put("python_step_s", num(pys.get(r), "python_step_s"));
                m.put("ratio", ratio(javas.get(r), pys.get(r)));
                rr.add(m);
            }
            res.put("rounds", rr);
            res.put("median_round", pick + 1);
        }
        res.put("java_step", spread(java.step()));
        res.put("java_infer", spread(java.inference()));
        res.put("java_phases", java.phases());
        if (py != null) {
            res.put("python_step", Map.of("min", py.get("python_step_min_s"), "max", py.get("python_step_max_s"),
                    "q1", py.get("python_step_q1_s"), "q3", py.get("python_step_q3_s")));
            res.put("python_infer", Map.of("min", py.get("python_infer_min_s"), "max", py.get("python_infer_max_s"),
                    "q1", py.get("python_infer_q1_s"), "q3", py.get("python_infer_q3_s")));
            res.put("python_phases", py.get("python_phases"));
            Map<String, String> v = new LinkedHashMap<>();
            for (String k : List.of("torch", "timm", "spikingjelly", "stand_ins"))
                if (py.containsKey(k)) v.put(k, String.valueOf(py.get(k)));
            res.put("python_versions", v);
            if (py.get("cuda_memory") != null) res.put("python_cuda_memory", py.get("cuda_memory"));
            if (py.get("device_name") != null) res.put("python_device_name", py.get("device_name"));
        }
        res.putAll(java.fields());
        res.put("steps", steps);
        res.put("warmup", warmup);
        res.put("device", dev.toString());
        res.put("amp", ampMode.key);
        if (py != null && rounds > 1) {
            StringBuilder sb = new StringBuilder();
            for (int r = 0; r < rounds; r++)
                sb.append(r == 0 ? "" : ", ").append(String.format("%.3f", ratio(javas.get(r), pys.get(r))));
            out.printf("ratio java/python per round: %s; median (round %d): train step %.3f, inference %.3f (load average %s -> %s)%n",
                    sb, pick + 1, (Double) res.get("ratio"), (Double) res.get("infer_ratio"), fmt(loadBefore), fmt(loadAfter));
        } else if (py != null)
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

    /** The Java side of one round, printed. */
    private Measured measureJava(PrintWriter out) throws IOException {
        Measured java;
        try {
            java = switch (family) {
                case "t-revsnn" -> trevsnn(out);
                case "revsnn" -> fromCase(out, RevSNNSpeed.run(model == null ? "revsresnet21" : model, classes,
                        timeSteps == null ? 4 : timeSteps, heads, !plain, !nchw, batch, steps, warmup), List.of("--save-memory", plain ? "0" : "1"));
                default -> fromCase(out, MpisSpeed.run(model == null ? "cifar-small" : model, timeSteps,
                        gradient == null ? "one-step" : gradient, simulateAllSteps, batch, steps, warmup), List.of());
            };
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        out.println("java   train step " + java.step().format());
        out.println("java   inference  " + java.inference().format());
        out.println("java   step phases (median s): " + phases(java.phases()));
        out.println("java   " + throughput(batch, java.step().median(), java.inference().median(), java.fields().get("cuda_memory")));
        out.flush();
        return java;
    }

    /** The reference's side of one round ({@code tools/bench_reference.py}), printed. */
    private Map<String, Object> measurePython(PrintWriter out, Path script, Measured java) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--family", family, "--ref-dir", refDir.toString(), "--batch",
                Integer.toString(batch), "--threads", Integer.toString(threads), "--steps", Integer.toString(steps),
                "--warmup", Integer.toString(warmup)));
        args.addAll(java.pythonArgs());
        Map<String, Object> py = ReferenceProcess.run(python, script, args, threads);
        out.printf("python train step median %.4f s (min %.4f, max %.4f, IQR %.4f..%.4f)  [%s]%n",
                num(py, "python_step_s"), num(py, "python_step_min_s"), num(py, "python_step_max_s"),
                num(py, "python_step_q1_s"), num(py, "python_step_q3_s"), versions(py));
        out.printf("python inference  median %.4f s (min %.4f, max %.4f, IQR %.4f..%.4f)%n",
                num(py, "python_infer_s"), num(py, "python_infer_min_s"), num(py, "python_infer_max_s"),
                num(py, "python_infer_q1_s"), num(py, "python_infer_q3_s"));
        if (py.get("python_phases") instanceof Map<?, ?> pp)
            out.println("python step phases (median s): " + phases(pp));
        out.println("python " + throughput(batch, num(py, "python_step_s"), num(py, "python_infer_s"), py.get("cuda_memory")));
        out.flush();
        return py;
    }

    /** Index of the round whose Java/Python ratio is the median (the lower middle one for an even count); 0 without Python. */
    static int medianRound(List<Measured> javas, List<Map<String, Object>> pys) {
        if (pys.isEmpty()) return 0;
        List<Integer> idx = new ArrayList<>();
        for (int r = 0; r < javas.size(); r++) idx.add(r);
        idx.sort(java.util.Comparator.comparingDouble(r -> ratio(javas.get(r), pys.get(r))));
        return idx.get((idx.size() - 1) / 2);
    }

    /** Java / Python median training step of one round. */
    static double ratio(Measured java, Map<String, Object> py) {
        return java.step().median() / num(py, "python_step_s");
    }

    /** One-line errors for flags that do not apply to the chosen family. */
    private void checkFlags() {
        boolean trev = family.equals("t-revsnn");
        for (String o : List.of("--img", "--kernel"))
            if (!trev && matched(o)) throw new UserError("bench speed: " + o + " applies to --family t-revsnn only");
        if (trev && matched("--T")) throw new UserError("bench speed: --T applies to --family revsnn and mpis only");
        if (!family.equals("revsnn") && matched("--heads")) throw new UserError("bench speed: --heads applies to --family revsnn only");
        if (!family.equals("mpis") && matched("--gradient")) throw new UserError("bench speed: --gradient applies to --family mpis only");
        if (!family.equals("mpis") && simulateAllSteps) throw new UserError("bench speed: --simulate-all-steps applies to --family mpis only");
        if (nchw && !family.equals("revsnn"))
            throw new UserError("bench speed: --nchw applies to revsnn RevSResNet only (the other families run NCHW)");
        if (family.equals("mpis") && plain)
            throw new UserError("bench speed: --plain does not apply to mpis (use --gradient one-step|implicit)");
        if (family.equals("mpis") && matched("--classes"))
            throw new UserError("bench speed: --classes does not apply to mpis (the preset fixes it; see --model)");
        if (family.equals("mpis") && gradient != null && !MpisSpeed.GRADIENTS.contains(gradient))
            throw new UserError("bench speed: --gradient must be one of " + String.join(", ", MpisSpeed.GRADIENTS) + ", found '" + gradient + "'");
        if (family.equals("mpis") && comparePython && "implicit".equals(gradient))
            throw new UserError("--compare-python: the MPIS reference only has the one-step gradient; drop --gradient implicit");
    }

    private boolean matched(String name) {
        return spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption(name);
    }

    private String reference() {
        return switch (family) {
            case "revsnn" -> "mi804/RevSNN";
            case "mpis" -> "kiritozc/MPIS-SNNs";
            default -> "BICLab/T-RevSNN";
        };
    }

    private Devices.Spec dev = new Devices.Spec("cpu", -1);
    private Autocast.Mode ampMode = Autocast.Mode.NONE;

    private Measured trevsnn(PrintWriter out) {
        String m = model == null ? "tiny" : model;
        int k = kernel == null ? 3 : kernel, nc = classes == null ? 1000 : classes, im = img == null ? 64 : img;
        out.printf("t-revsnn %s kernel %d classes %d img %d batch %d threads %d save_memory %s, %s amp %s, %d warm-up + %d measured%n",
                m, k, nc, im, batch, threads, !plain, dev, ampMode.key, warmup, steps);
        out.flush();
        Result r = SpeedBench.trevsnn(m, k, nc, im, batch, threads, steps, warmup, !plain, dev, ampMode);
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("model", m);
        f.put("batch", batch);
        f.put("kernel", k);
        f.put("classes", nc);
        f.put("img", im);
        f.put("save_memory", !plain);
        if (!r.cudaMemory().isEmpty()) f.put("cuda_memory", r.cudaMemory());
        return new Measured(r.step(), r.inference(), r.phases(), f, List.of("--model", m, "--kernel", Integer.toString(k),
                "--classes", Integer.toString(nc), "--img", Integer.toString(im), "--save-memory", plain ? "0" : "1",
                "--device", dev.toString(), "--amp", ampMode.key));
    }

    private Measured fromCase(PrintWriter out, SpeedCase c, List<String> extraArgs) throws IOException {
        boolean mpis = c.family().equals("mpis");
        out.printf("%s %s batch %d T %d threads %d backward %s%s, %d warm-up + %d measured%n", c.family(), c.model(), c.batch(),
                c.timeSteps(), threads, c.variant(), !mpis ? "" : simulateAllSteps ? ", all T simulation steps (the reference's work)"
                        : ", simulation steps 1..T-1 skipped (unread; Python runs them)", warmup, steps);
        Map<String, Double> ph = new LinkedHashMap<>();
        ph.put("forward_loss_s", c.timing().phases().forwardLoss().median());
        ph.put("backward_s", c.timing().phases().backward().median());
        ph.put("optimizer_s", c.timing().phases().optimizer().median());
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("model", c.model());
        f.put("batch", c.batch());
        f.put("T", c.timeSteps());
        f.put("img", 32);
        f.put("classes", c.constructor().get("num_classes"));
        f.put(mpis ? "gradient" : "backward", c.variant());
        if (mpis) f.put("simulate_all_steps", simulateAllSteps);
        f.put("constructor", c.constructor());
        f.put("optimizer", c.optimizer());
        List<String> args = new ArrayList<>(List.of("--model", c.model(), "--ctor", new ObjectMapper().writeValueAsString(c.constructor())));
        args.addAll(extraArgs);
        return new Measured(c.timing().step(), c.timing().inference(), ph, f, args);
    }

    /** "forward+loss F, backward B, optimizer O" (t-revsnn: the optimizer phase split into AGC and Lamb). */
    private static String phases(Map<?, ?> ph) {
        String s = String.format("forward+loss %s, backward %s, optimizer %s", sec(ph.get("forward_loss_s")),
                sec(ph.get("backward_s")), sec(ph.get("optimizer_s")));
        return ph.containsKey("agc_s") ? s + String.format(" (AGC %s + Lamb %s)", sec(ph.get("agc_s")), sec(ph.get("lamb_s"))) : s;
    }

    /**
     * "train N img/s, inference M img/s" and, on CUDA, the allocator's peak per image during the measured training
     * steps and inference (peak minus what was held when they started: weights, optimizer state, the batch).
     */
    static String throughput(int batch, double stepS, double inferS, Object cudaMemory) {
        String s = String.format("throughput: train %.1f img/s, inference %.1f img/s", batch / stepS, batch / inferS);
        if (cudaMemory instanceof Map<?, ?> m && m.get("train_peak_bytes") instanceof Number tp && m.get("train_base_bytes") instanceof Number tb
                && m.get("infer_peak_bytes") instanceof Number ip && m.get("infer_base_bytes") instanceof Number ib)
            s += String.format("; CUDA peak train %.1f MiB/img (%.0f MiB total, %.0f MiB before the step), inference %.1f MiB/img",
                    (tp.doubleValue() - tb.doubleValue()) / batch / 1048576.0, tp.doubleValue() / 1048576.0,
                    tb.doubleValue() / 1048576.0, (ip.doubleValue() - ib.doubleValue()) / batch / 1048576.0);
        return s;
    }

    private static String sec(Object v) {
        return v instanceof Number n ? String.format("%.4f", n.doubleValue()) : "n/a";
    }

    private static String versions(Map<String, Object> py) {
        StringBuilder sb = new StringBuilder("torch " + py.get("torch"));
        for (String k : List.of("timm", "spikingjelly"))
            if (py.containsKey(k)) sb.append(", ").append(k).append(' ').append(py.get(k));
        if (py.containsKey("stand_ins")) sb.append(", stand-ins for ").append(py.get("stand_ins"));
        return sb.toString();
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
