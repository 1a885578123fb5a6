package dev.spikerev.bench;

import dev.spikerev.models.FamilyModel;
import dev.spikerev.models.ModelFamilies;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
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
        long bestHeld = Long.MAX_VALUE, bestPeak = Long.MAX_VALUE;
        for (int r = 0; r <= reps; r++) {
            System.gc();
            long before = MemoryProbe.rss();
            MemoryProbe.resetPeak();
            long held;
            try (PointerScope s = new PointerScope()) {
                Tensor[] lo = m.forwardLoss(x, y);
                held = MemoryProbe.rss() - before;
                m.backward(lo[1]);
            }
            long peak = MemoryProbe.peakRss() - before;
            if (r == 0) continue; // warm-up: allocates .grad tensors
            bestHeld = Math.min(bestHeld, held);
            bestPeak = Math.min(bestPeak, peak);
        }
        return new Row(variant, axis, value, inputShape[0], bestHeld, bestPeak);
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
}
