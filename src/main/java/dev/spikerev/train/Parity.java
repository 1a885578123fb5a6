package dev.spikerev.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.Checkpoints;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.models.FamilyModel.ParityGroup;
import dev.spikerev.models.ModelFamilies;
import dev.spikerev.models.ModelFamily;
import dev.spikerev.nn.StateDictIO;
import dev.spikerev.tensor.Devices;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Numerical parity of a model family against a golden fixture directory (layout: shared/fixtures/README.md):
 * {@code meta.json}, {@code model.pth}, {@code io.pt}, {@code checkpoint.pth}. Builds the model from
 * {@code meta.constructor}, loads {@code model.pth} strictly, then compares, group by group, with meta.json's
 * tolerances (element-wise {@code |a - b| <= atol + rtol * |b|}, never loosened; {@code noise_limited} keys, and the
 * quantities listed under {@code noise_limited.quantities}, at the atol meta.json gives for them):
 * <ol>
 *   <li>{@code logits_eval} (eval mode), {@code logits_train}, {@code loss}, {@code grads} (one backward),
 *       {@code buffers_after_train_forward} where present;</li>
 *   <li>from a fresh copy of {@code model.pth}: {@code meta.steps} optimizer steps on the same batch with the
 *       reference optimizer, then {@code step_losses}, {@code after_steps}, {@code logits_eval_after_steps};</li>
 *   <li>{@code checkpoint.pth}'s model weights against our weights after the steps;</li>
 *   <li>the family's own groups ({@link FamilyModel#extraGroups}).</li>
 * </ol>
 * With a device ({@code spikerev parity --device cuda:N}) every model is moved there after loading {@code model.pth},
 * the fixture's inputs (and the {@code io.pt} tensors the family's own groups read) are copied there, and results
 * are read back to the CPU for the comparison; the tolerances stay meta.json's.
 */
public final class Parity {
    /** One compared group. */
    public record Line(String name, double maxAbsDiff, double atol, double rtol, boolean pass, String detail) {
        public String format() {
            return String.format("%-34s max_abs_diff %-11.4e atol %-8.1e rtol %-8.1e %s%s", name, maxAbsDiff, atol, rtol,
                    pass ? "PASS" : "FAIL", detail.isEmpty() ? "" : "  (" + detail + ")");
        }
    }

    private final Path dir;
    private final Map<String, Object> meta;
    private final Map<String, Object> io;
    private final Map<String, Tensor> initial;
    private final List<Line> lines = new ArrayList<>();
    private final PrintWriter out;
    private final Set<String> noiseKeys = new TreeSet<>();
    private double noiseAtol = 0;
    /** Where the models run; null = the CPU (nothing is moved). */
    private final Device device;

    @SuppressWarnings("unchecked")
    private Parity(Path dir, PrintWriter out, Device device) {
        this.dir = dir;
        this.out = out;
        this.device = device;
        for (String f : List.of("meta.json", "model.pth", "io.pt"))
            if (!Files.isRegularFile(dir.resolve(f)))
                throw new IllegalArgumentException("parity fixture " + dir + ": missing " + f);
        try {
            meta = new ObjectMapper().readValue(dir.resolve("meta.json").toFile(), Map.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("parity fixture " + dir + ": meta.json is not valid JSON: " + e.getMessage().split("\n")[0]);
        }
        initial = StateDicts.tensors(TorchFile.load(dir.resolve("model.pth")), "model.pth");
        Object loaded = TorchFile.load(dir.resolve("io.pt"));
        if (!(loaded instanceof Map)) throw new IllegalArgumentException("parity fixture " + dir + ": io.pt is not a dict");
        io = (Map<String, Object>) loaded;
        if (meta.get("noise_limited") instanceof Map<?, ?> nl) {
            if (nl.get("keys") instanceof List<?> ks) ks.forEach(k -> noiseKeys.add(String.valueOf(k)));
            if (nl.get("atol") instanceof Number n) noiseAtol = n.doubleValue();
        }
    }

    /** Runs every group, printing one line per group and {@code parity: P/N passed}; returns the lines. */
    public static List<Line> run(Path dir, PrintWriter out, Path writeCheckpoint) {
        return run(dir, out, writeCheckpoint, null);
    }

    /** {@link #run(Path, PrintWriter, Path)} with the models on {@code device} (null: CPU). */
    public static List<Line> run(Path dir, PrintWriter out, Path writeCheckpoint, Device device) {
        try (PointerScope scope = new PointerScope()) {
            Parity p = new Parity(dir, out, device);
            p.runAll(writeCheckpoint);
            long passed = p.lines.stream().filter(Line::pass).count();
            out.println("parity: " + passed + "/" + p.lines.size() + " passed");
            out.flush();
            return p.lines;
        }
    }

    @SuppressWarnings("unchecked")
    private void runAll(Path writeCheckpoint) {
        String familyName = String.valueOf(meta.get("family"));
        ModelFamily family = ModelFamilies.get(familyName);
        Tensor input = Devices.to(tensor("input"), device);
        Tensor target = Devices.to(tensor("target"), device);

        // 1. from model.pth: eval logits, train logits, loss, grads
        FamilyModel m = load(family);
        m.module().train(false);
        try (NoGradGuard ng = new NoGradGuard()) {
            compare("logits_eval", Map.of("logits_eval", m.predict(input)), Map.of("logits_eval", tensor("logits_eval")));
        }
        Tensor[] lossOut = m.forwardLoss(input, target);
        compare("logits_train", Map.of("logits_train", lossOut[0]), Map.of("logits_train", tensor("logits_train")));
        compare("loss", Map.of("loss", lossOut[1]), Map.of("loss", tensor("loss")));
        m.backward(lossOut[1]);
        if (io.get("grads") instanceof Map) {
            Map<String, Tensor> expected = StateDicts.tensors(io.get("grads"), "io.pt grads");
            Map<String, Tensor> actual = new LinkedHashMap<>();
            Map<String, Tensor> params = dev.spikerev.nn.StateDictIO.namedParameters(m.module());
            for (String k : expected.keySet()) {
                Tensor p = params.get(k);
                if (p != null && p.grad().defined()) actual.put(k, new Tensor(p.grad()));
            }
            compare("grads", actual, expected);
        }
        if (io.get("buffers_after_train_forward") instanceof Map)
            compare("buffers_after_train_forward", StateDictIO.stateDict(m.module()),
                    StateDicts.tensors(io.get("buffers_after_train_forward"), "io.pt buffers_after_train_forward"));
        FamilyModel fresh = load(family);
        for (ParityGroup g : fresh.extraGroups(device == null ? io : (Map<String, Object>) onDevice(io), meta)) compare(g);

        // 2. K optimizer steps from a fresh model.pth
        FamilyModel s = load(family);
        int steps = meta.get("steps") instanceof Number n ? n.intValue() : 0;
        if (steps > 0 && meta.get("optimizer") instanceof Map) {
            FamilyModel.Stepper opt = s.optimizer((Map<String, Object>) meta.get("optimizer"));
            List<Double> losses = new ArrayList<>();
            for (int i = 0; i < steps; i++) {
                try (PointerScope step = new PointerScope()) {
                    Tensor[] lo = s.forwardLoss(input, target);
                    losses.add(lo[1].item_double());
                    opt.zeroGrad();
                    s.backward(lo[1]);
                    opt.step();
                }
            }
            if (io.get("step_losses") instanceof Tensor sl) {
                double[] arr = losses.stream().mapToDouble(Double::doubleValue).toArray();
                compare("step_losses", Map.of("step_losses", Tensor.create(arr).to(sl.scalar_type())), Map.of("step_losses", sl));
            }
            Map<String, Tensor> after = StateDictIO.stateDict(s.module());
            if (io.get("after_steps") instanceof Map)
                compare("after_steps", after, StateDicts.tensors(io.get("after_steps"), "io.pt after_steps"));
            if (io.get("logits_eval_after_steps") instanceof Tensor expected) {
                s.module().train(false);
                try (NoGradGuard ng = new NoGradGuard()) {
                    compare("logits_eval_after_steps", Map.of("logits_eval_after_steps", s.predict(input)),
                            Map.of("logits_eval_after_steps", expected));
                }
            }
            Path ckpt = dir.resolve("checkpoint.pth");
            if (Files.isRegularFile(ckpt)) {
                Map<String, Tensor> fileModel = new LinkedHashMap<>();
                Checkpoints.extractStateDict(TorchFile.load(ckpt), null, stripPrefixFor(ckpt))
                        .forEach((k, v) -> fileModel.put(String.valueOf(k), (Tensor) v));
                compare("checkpoint.model", after, fileModel, "after_steps");
            }
            if (writeCheckpoint != null) {
                TorchFile.saveStateDict(writeCheckpoint, after);
                out.println("wrote " + writeCheckpoint + " (state_dict after " + steps + " steps, " + after.size() + " entries)");
            }
        } else if (writeCheckpoint != null) {
            TorchFile.saveStateDict(writeCheckpoint, StateDictIO.stateDict(s.module()));
        }
    }

    /** A model built from meta.json, loaded with model.pth, on the parity device. */
    private FamilyModel load(ModelFamily family) {
        FamilyModel m = family.build(meta);
        StateDictIO.loadStateDict(m.module(), initial, true);
        Devices.to(m.module(), device);
        return m;
    }

    /** io.pt's value with every tensor (also inside maps and lists) copied to the parity device. */
    private Object onDevice(Object v) {
        if (v instanceof Tensor t) return Devices.to(t, device);
        if (v instanceof Map<?, ?> mp) {
            Map<Object, Object> c = new LinkedHashMap<>();
            mp.forEach((k, x) -> c.put(k, onDevice(x)));
            return c;
        }
        if (v instanceof List<?> l) return l.stream().map(this::onDevice).toList();
        return v;
    }

    /** DataParallel-saved checkpoints carry {@code module.}; strip it when every key has it. */
    private static String stripPrefixFor(Path ckpt) {
        Object loaded = TorchFile.load(ckpt);
        try {
            Map<?, ?> sd = Checkpoints.extractStateDict(loaded, null, null);
            return !sd.isEmpty() && sd.keySet().stream().allMatch(k -> String.valueOf(k).startsWith("module.")) ? "module." : null;
        } catch (RuntimeException e) {
            return null;
        }
    }


    private Tensor tensor(String key) {
        Object v = io.get(key);
        if (!(v instanceof Tensor t)) throw new IllegalArgumentException("parity fixture " + dir + ": io.pt has no tensor '" + key + "'");
        return t;
    }

    private void compare(ParityGroup g) {
        compareWith(g.name(), g.actual(), g.expected(), g.atol(), g.rtol());
    }

    private void compare(String name, Map<String, Tensor> actual, Map<String, Tensor> expected) {
        compare(name, actual, expected, name);
    }

    @SuppressWarnings("unchecked")
    private void compare(String name, Map<String, Tensor> actual, Map<String, Tensor> expected, String tolKey) {
        double atol = num(meta, "atol", 1e-4), rtol = num(meta, "rtol", 1e-4);
        if (meta.get("tolerances") instanceof Map<?, ?> tol && tol.get(tolKey) instanceof Map<?, ?> t) {
            atol = num((Map<String, Object>) t, "atol", atol);
            rtol = num((Map<String, Object>) t, "rtol", rtol);
        }
        // a quantity that depends on noise-limited keys (meta.json noise_limited.quantities) gets the atol given there
        if (meta.get("noise_limited") instanceof Map<?, ?> nl && nl.get("quantities") instanceof Map<?, ?> q
                && q.get(name) instanceof Number qa && qa.doubleValue() > atol)
            atol = qa.doubleValue();
        compareWith(name, actual, expected, atol, rtol);
    }

    private void compareWith(String name, Map<String, Tensor> actual, Map<String, Tensor> expected, double atol, double rtol) {
        double worst = 0;
        String worstKey = "";
        List<String> problems = new ArrayList<>();
        int noise = 0;
        double worstExact = 0;
        String worstExactKey = "";
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor a = actual.get(e.getKey());
            if (a == null) { problems.add("missing " + e.getKey()); continue; }
            Tensor b = e.getValue();
            if (!java.util.Arrays.equals(a.sizes().vec().get(), b.sizes().vec().get())) { problems.add("shape " + e.getKey()); continue; }
            double keyAtol = atol;
            if (noiseApplies(name) && noiseKeys.contains(e.getKey()) && noiseAtol > atol) { keyAtol = noiseAtol; noise++; }
            Tensor ad = a.detach().cpu().to(ScalarType.Double), bd = b.detach().cpu().to(ScalarType.Double);
            Tensor diff = ad.sub(bd).abs();
            double d = diff.numel() == 0 ? 0 : diff.max().item_double();
            if (Double.isNaN(d)) d = Double.POSITIVE_INFINITY;
            boolean ok = diff.numel() == 0 || diff.le(bd.abs().mul(new org.bytedeco.pytorch.Scalar(rtol)).add(new org.bytedeco.pytorch.Scalar(keyAtol))).all().item_bool();
            if (!ok) problems.add(e.getKey());
            if (d > worst) { worst = d; worstKey = e.getKey(); }
            if (keyAtol == atol && d > worstExact) { worstExact = d; worstExactKey = e.getKey(); }
        }
        StringBuilder detail = new StringBuilder(expected.size() + " tensors");
        if (expected.size() > 1 && !worstKey.isEmpty()) detail.append(", worst ").append(worstKey);
        if (noise > 0) detail.append(", ").append(noise).append(" noise-limited keys at atol ").append(noiseAtol)
                .append(String.format(", others max %.4e (%s)", worstExact, worstExactKey));
        if (!problems.isEmpty()) detail.append(", failing: ").append(String.join(" ", problems.subList(0, Math.min(5, problems.size()))))
                .append(problems.size() > 5 ? " +" + (problems.size() - 5) + " more" : "");
        Line l = new Line(name, worst, atol, rtol, problems.isEmpty() && !expected.isEmpty(), detail.toString());
        lines.add(l);
        out.println(l.format());
        out.flush();
    }

    /** noise_limited keys get their looser atol only after optimizer steps (and in the quantities meta.json lists). */
    private boolean noiseApplies(String group) {
        if (group.equals("after_steps") || group.equals("checkpoint.model")) return true;
        return meta.get("noise_limited") instanceof Map<?, ?> nl && nl.get("quantities") instanceof Map<?, ?> q && q.containsKey(group);
    }

    private static double num(Map<String, Object> m, String k, double d) {
        return m.get(k) instanceof Number n ? n.doubleValue() : d;
    }
}
