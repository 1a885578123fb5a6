package dev.spikerev.bench;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.models.FamilyModel;
import dev.spikerev.models.ModelFamilies;
import dev.spikerev.models.mpis.MpisConfig;
import dev.spikerev.models.mpis.MpisModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * Activation memory of one training step, measured on the host (CPU) as RSS deltas (see {@link MemoryProbe}):
 * <ul>
 *   <li>{@code held}: RSS after forward + loss minus RSS before: everything the step keeps for backward (saved
 *   activations, reversible tapes, outputs);</li>
 *   <li>{@code peak}: peak RSS during forward + backward minus RSS before.</li>
 * </ul>
 * Each row takes the minimum over {@code reps} steps after one warm-up step (which allocates the gradients), so
 * allocator noise and gradients are not counted. Run with {@code MALLOC_MMAP_THRESHOLD_=65536} (the launcher sets it).
 */
public final class MemoryBench {
    /** One measured configuration. */
    public record Row(String variant, String axis, long value, long batch, long heldBytes, long peakBytes) {
        public double heldPerImage() { return heldBytes / (double) batch; }

        public double peakPerImage() { return peakBytes / (double) batch; }
    }

    private MemoryBench() {}

    /**
     * Measures {@code model} on a random batch of {@code inputShape} with {@code classes} labels.
     */
    public static Row measure(String variant, String axis, long value, Map<String, Object> meta, long[] inputShape,
                              long classes, int reps) {
        FamilyModel m = ModelFamilies.get(String.valueOf(meta.get("family"))).build(meta);
        m.module().train(true);
        manual_seed(0);
        Tensor x = randn(inputShape);
        Tensor y = randint(classes, new long[]{inputShape[0]}, new TensorOptions(ScalarType.Long));
        return measure(variant, axis, value, m, x, y, reps);
    }

    /** Measures {@code m} (switched to training mode) on the batch {@code x}, labels {@code y}: minimum over {@code reps}. */
    public static Row measure(String variant, String axis, long value, FamilyModel m, Tensor x, Tensor y, int reps) {
        long[][] r = steps(m, x, y, reps);
        return new Row(variant, axis, value, x.size(0), java.util.Arrays.stream(r[0]).min().getAsLong(),
                java.util.Arrays.stream(r[1]).min().getAsLong());
    }

    /** {@code [held[], peak[]]} of {@code reps} training steps after one warm-up step (which allocates the .grad tensors). */
    static long[][] steps(FamilyModel m, Tensor x, Tensor y, int reps) {
        m.module().train(true);
        long[] held = new long[reps], peak = new long[reps];
        for (int r = 0; r <= reps; r++) {
            System.gc();
            long before = MemoryProbe.rss();
            MemoryProbe.resetPeak();
            long h;
            try (PointerScope s = new PointerScope()) {
                Tensor[] lo = m.forwardLoss(x, y);
                h = MemoryProbe.rss() - before;
                m.backward(lo[1]);
            }
            long p = MemoryProbe.peakRss() - before;
            if (r == 0) continue; // warm-up: allocates .grad tensors
            held[r - 1] = h;
            peak[r - 1] = p;
        }
        return new long[][]{held, peak};
    }

    private static long median(long[] v) {
        long[] c = v.clone();
        java.util.Arrays.sort(c);
        return c[(c.length - 1) / 2];
    }

    /** T-RevSNN rows: reversible and plain, for each subnet count (channels of {@code model}: tiny|small|c0,c1,c2,c3). */
    public static List<Row> trevsnn(String model, int img, int batch, int[] subnets, int kernel, int classes, int reps) {
        List<Row> rows = new ArrayList<>();
        for (boolean rev : new boolean[]{true, false}) {
            for (int s : subnets) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("channels", channels(model));
                c.put("num_subnet", s);
                c.put("kernel_size", kernel);
                c.put("num_classes", classes);
                c.put("save_memory", rev);
                c.put("img_size", img);
                Map<String, Object> meta = Map.of("family", "t-revsnn", "constructor", c);
                rows.add(measure(rev ? "reversible" : "plain", "subnets", s, meta, new long[]{batch, 3, img, img}, classes, reps));
            }
        }
        return rows;
    }

    /**
     * RevSNN rows (CIFAR shape {@code [batch, 3, img, img]}): reversible and plain (BPTT, same layers) for each depth at
     * {@code depthT} time steps (axis {@code depth}), then for each T at depth {@code tDepth} (axis {@code T}).
     * {@code model} {@code revsresnet}: depth = the variant number 21, 37 or 109 (planes 64,128,256,448);
     * {@code revsformer}: depth = number of reversible blocks (embed {@code embed}, {@code heads} heads).
     */
    public static List<Row> revsnn(String model, int img, int batch, int[] depths, int depthT, int[] ts, int tDepth,
                                   int embed, int heads, Integer classes, int reps) {
        boolean resnet = model.equals("revsresnet");
        if (!resnet && !model.equals("revsformer"))
            throw new IllegalArgumentException("--model must be revsresnet or revsformer for revsnn, found '" + model + "'");
        int nc = classes != null ? classes : resnet ? 100 : 10;
        List<Row> rows = new ArrayList<>();
        for (boolean rev : new boolean[]{true, false}) {
            for (int d : depths)
                rows.add(measure(rev ? "reversible" : "plain", "depth", d, revsnnMeta(resnet, d, depthT, embed, heads, nc, rev),
                        new long[]{batch, 3, img, img}, nc, reps));
            for (int t : ts)
                rows.add(measure(rev ? "reversible" : "plain", "T", t, revsnnMeta(resnet, tDepth, t, embed, heads, nc, rev),
                        new long[]{batch, 3, img, img}, nc, reps));
        }
        return rows;
    }

    static Map<String, Object> revsnnMeta(boolean resnet, int depth, int t, int embed, int heads, int classes, boolean rev) {
        Map<String, Object> c = new LinkedHashMap<>();
        if (resnet) {
            c.put("cls", "RevSResNet");
            c.put("layers", switch (depth) {
                case 21 -> List.of(1, 1, 1, 1);
                case 37 -> List.of(1, 2, 3, 2);
                case 109 -> List.of(2, 4, 16, 4);
                default -> throw new IllegalArgumentException("revsresnet depth must be 21, 37 or 109, found " + depth);
            });
            c.put("planes", List.of(64, 128, 256, 448));
        } else {
            c.put("cls", "rev_vit_snn");
            c.put("embed_dims", embed);
            c.put("num_heads", heads);
            c.put("depths", depth);
        }
        c.put("num_classes", classes);
        c.put("T", t);
        c.put("reversible", rev);
        return Map.of("family", "revsnn", "constructor", c);
    }

    static List<Integer> channels(String model) {
        switch (model) {
            case "tiny": return List.of(64, 128, 256, 384);
            case "small": return List.of(96, 192, 384, 512);
            default:
                try {
                    List<Integer> ch = new ArrayList<>();
                    for (String p : model.split(",")) ch.add(Integer.parseInt(p.trim()));
                    if (ch.size() != 4) throw new NumberFormatException();
                    return ch;
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--model must be tiny, small or four channel counts like 16,32,48,64, found '" + model + "'");
                }
        }
    }

    // ------------------------------------------------------------------------------------------------------ MPIS

    /** MPIS model presets for {@code --model}: repo defaults and small widths. */
    public static final List<String> MPIS_MODELS = List.of("cifar-fixture", "cifar-small", "cifar10", "cifar100", "nmnist-fixture",
            "nmnist-small", "nmnist");

    /**
     * The MPIS network of a preset at {@code T} time steps (repo-default switches, dropout 0.2 as the scripts use):
     * {@code cifar-small} static 32/64/64/128, {@code cifar10}/{@code cifar100} the repo's 128/256/512/1024,
     * {@code nmnist-small} neuro 8/8/16, {@code nmnist} the repo's 32/32/64. Fusion width = the layer width
     * (the reference hard-codes 256 / 32, equal at the repo defaults).
     */
    public static MpisConfig mpisConfig(String model, int t) {
        return mpisPreset(model).withTimeStep(t);
    }

    /**
     * The preset of {@code model} at its own T: the repo defaults (cifar10/cifar100 T 1, nmnist T 30), the public
     * fixture sizes {@code cifar-fixture} (static 8/16/16/24, T 4, dropout 0) and {@code nmnist-fixture} (neuro 8/8/16,
     * T 6, dropout 0), and the mid-size {@code cifar-small} / {@code nmnist-small} (T 1 / 30).
     */
    public static MpisConfig mpisPreset(String model) {
        MpisConfig c;
        switch (model) {
            case "cifar-fixture": {
                MpisConfig d = MpisConfig.cifar(10);
                c = new MpisConfig(d.kind(), 3, 8, 16, 16, 24, 10, 3, 2, 1, false, 3, 4, 4, 0.0, d.threshold(), 4,
                        d.vth(), d.leaky(), "broy", 16, new int[]{3, 32, 32}, d.options());
                break;
            }
            case "nmnist-fixture": {
                MpisConfig d = MpisConfig.nmnist();
                c = new MpisConfig(d.kind(), 2, 8, 8, 16, 0, 10, 3, 2, 1, false, 3, 8, 8, 0.0, d.threshold(), 6,
                        d.vth(), d.leaky(), "broy", 8, null, d.options());
                break;
            }
            case "cifar10": c = MpisConfig.cifar(10); break;
            case "cifar100": c = MpisConfig.cifar(100); break;
            case "nmnist": c = MpisConfig.nmnist(); break;
            case "cifar-small": {
                MpisConfig d = MpisConfig.cifar(10);
                c = new MpisConfig(d.kind(), 3, 32, 64, 64, 128, 10, 3, 2, 1, false, 3, 4, 4, d.dropout(), d.threshold(), 1,
                        d.vth(), d.leaky(), "broy", 64, new int[]{3, 32, 32}, d.options());
                break;
            }
            case "nmnist-small": {
                MpisConfig d = MpisConfig.nmnist();
                c = new MpisConfig(d.kind(), 2, 8, 8, 16, 0, 10, 3, 2, 1, false, 3, 8, 8, d.dropout(), d.threshold(), 30,
                        d.vth(), d.leaky(), "broy", 8, null, d.options());
                break;
            }
            default:
                throw new IllegalArgumentException("--model for mpis must be one of " + MPIS_MODELS + ", found '" + model + "'");
        }
        return c;
    }

    /**
     * One MPIS row in this JVM: {@code variant} one-step | implicit (the port's two gradient modes; every simulation
     * step executed, as the reference does) or bptt ({@link MpisModel#bptt}, rectangular surrogate of width vth),
     * batch {@code batch} of random input (static: N(0,1) images; neuro: Bernoulli(0.2) events {@code [B,2,32,32,T]}).
     * Median over {@code reps} steps after a warm-up step (RSS deltas scatter in both directions; the minimum that the
     * t-revsnn rows use picks the under-counts).
     */
    public static Row mpisRow(String model, String variant, int t, int batch, int reps) {
        MpisConfig c = mpisConfig(model, t);
        c = c.withOptions(c.options().withSimulateAllSteps(true)); // memory with the reference's whole simulation
        FamilyModel m;
        switch (variant) {
            case "one-step": m = new MpisModel(c.withOptions(c.options().withGradient(MpisConfig.Gradient.ONE_STEP))); break;
            case "implicit": m = new MpisModel(c.withOptions(c.options().withGradient(MpisConfig.Gradient.IMPLICIT))); break;
            case "bptt": m = MpisModel.bptt(c, new Surrogate.Rectangular(c.vth())); break;
            default: throw new IllegalArgumentException("mpis variant must be one-step, implicit or bptt, found '" + variant + "'");
        }
        manual_seed(0);
        boolean neuro = c.kind() == MpisConfig.Kind.NEURO;
        Tensor x = neuro ? rand(new long[]{batch, c.cIn(), c.hHidden() * 4L, c.wHidden() * 4L, t}).lt(new Scalar(0.2)).to(ScalarType.Float)
                : randn(batch, c.cIn(), c.hHidden() * 8L, c.wHidden() * 8L);
        Tensor y = randint(c.numClasses(), new long[]{batch}, new TensorOptions(ScalarType.Long));
        long[][] r = steps(m, x, y, reps);
        return new Row(variant, "T", t, batch, median(r[0]), median(r[1]));
    }

    /**
     * MPIS rows: for each T, each gradient mode in {@code gradients} (one-step, implicit) and, for T ≤ {@code bpttMaxT},
     * the BPTT comparison. With {@code childJvm} every row runs in a fresh JVM (same classpath, {@code
     * MALLOC_MMAP_THRESHOLD_=65536}): in one long-lived JVM, memory freed by an earlier row stays in the process (glibc
     * arena holes, JIT/heap growth) and later rows reuse it without touching RSS, so their deltas under-count
     * (measured: a second row in the same JVM can read tens of MB low); a fresh process per row makes the numbers
     * independent of the row order. The child runs a fixed pre-touched serial-GC heap and only the C1 JIT, so heap
     * growth/uncommit and compiler arenas do not move RSS during a step.
     */
    public static List<Row> mpis(String model, int batch, int[] ts, List<String> gradients, int bpttMaxT, int reps,
                                 int threads, boolean childJvm, java.io.PrintWriter log) {
        mpisConfig(model, ts.length == 0 ? 1 : ts[0]);                      // validate the preset early
        List<String[]> plan = new ArrayList<>();
        for (String g : gradients) for (int t : ts) plan.add(new String[]{g, Integer.toString(t)});
        for (int t : ts) if (t <= bpttMaxT) plan.add(new String[]{"bptt", Integer.toString(t)});
        List<Row> rows = new ArrayList<>();
        for (String[] p : plan) {
            int t = Integer.parseInt(p[1]);
            Row r = childJvm ? childRow(model, p[0], t, batch, reps, threads) : mpisRow(model, p[0], t, batch, reps);
            if (log != null) {
                log.printf("  measured %-8s T=%-3d held %.3f MiB/img%n", r.variant(), t, r.heldPerImage() / 1048576.0);
                log.flush();
            }
            rows.add(r);
        }
        return rows;
    }

    private static Row childRow(String model, String variant, int t, int batch, int reps, int threads) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
            if (a.startsWith("-Dorg.bytedeco")) cmd.add(a);
        // a fixed, pre-touched serial-GC heap and C1 only: the JVM's own memory does not move during a step
        cmd.addAll(List.of("-XX:+UseSerialGC", "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-XX:TieredStopAtLevel=1"));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MemoryBench.class.getName(), "mpis-row", model, variant,
                Integer.toString(t), Integer.toString(batch), Integer.toString(reps), Integer.toString(threads)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("MALLOC_MMAP_THRESHOLD_", "65536");
        try {
            Process proc = pb.start();
            String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int rc = proc.waitFor();
            for (String l : out.split("\n"))
                if (l.startsWith("ROW ")) {
                    String[] f = l.trim().split(" ");
                    return new Row(variant, "T", t, batch, Long.parseLong(f[1]), Long.parseLong(f[2]));
                }
            throw new IllegalStateException("bench memory: the child JVM for " + variant + " T=" + t + " exited " + rc
                    + " without a measurement:\n" + out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Child-JVM entry: {@code mpis-row MODEL VARIANT T BATCH REPS THREADS} prints {@code ROW held peak} (bytes). */
    public static void main(String[] args) {
        if (args.length != 7 || !args[0].equals("mpis-row")) {
            System.err.println("usage: MemoryBench mpis-row MODEL VARIANT T BATCH REPS THREADS");
            System.exit(2);
        }
        dev.spikerev.tensor.Natives.setThreads(Integer.parseInt(args[6]));
        Row r = mpisRow(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        System.out.println("ROW " + r.heldBytes() + " " + r.peakBytes());
        System.out.flush();
        System.exit(0);
    }
}
