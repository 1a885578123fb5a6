package dev.spikerev.models.trevsnn;

import java.util.Arrays;
import java.util.Map;

/**
 * Constructor arguments of the reference {@code FullNet} (names as in the reference and in fixtures' meta.json).
 * Factories {@link #tiny}, {@link #small}, {@link #tinyDvs} give the upstream configurations.
 */
public record TRevSNNConfig(long[] channels, long[] layers, int numSubnet, int kernelSize, int numClasses,
                            double dropPath, boolean saveMemory, boolean interSupv, boolean dvs, int inChans,
                            int imgSize) {

    public TRevSNNConfig {
        if (channels == null || channels.length != 4)
            throw new IllegalArgumentException("t-revsnn: channels must have 4 entries, found "
                    + (channels == null ? "none" : Arrays.toString(channels)));
        for (long c : channels) if (c <= 0) throw new IllegalArgumentException("t-revsnn: channels must be positive, found " + Arrays.toString(channels));
        if (numSubnet <= 0) throw new IllegalArgumentException("t-revsnn: num_subnet must be >= 1, found " + numSubnet);
        if (interSupv && !dvs && numSubnet % 4 != 0)
            throw new IllegalArgumentException("t-revsnn: num_subnet must be a multiple of 4 with inter_supv (4 heads every num_subnet/4 columns), found " + numSubnet);
        if (kernelSize <= 0 || kernelSize % 2 == 0)
            throw new IllegalArgumentException("t-revsnn: kernel_size must be odd and positive, found " + kernelSize);
        if (numClasses <= 0) throw new IllegalArgumentException("t-revsnn: num_classes must be >= 1, found " + numClasses);
        if (imgSize > 0 && imgSize % 16 != 0)
            throw new IllegalArgumentException("t-revsnn: img_size must be a multiple of 16 (stem /4, two more /2 levels), found " + imgSize);
        if (dvs && interSupv)
            throw new IllegalArgumentException("t-revsnn: dvs=true needs inter_supv=false (the reference's DVS forward has a single SpikeClassifier head)");
    }

    public static TRevSNNConfig tiny(int numClasses, int kernelSize, boolean saveMemory) {
        return new TRevSNNConfig(new long[]{64, 128, 256, 384}, new long[]{1, 1, 1, 1}, 4, kernelSize, numClasses,
                0.0, saveMemory, true, false, 3, 224);
    }

    public static TRevSNNConfig small(int numClasses, int kernelSize, boolean saveMemory) {
        return new TRevSNNConfig(new long[]{96, 192, 384, 512}, new long[]{1, 1, 1, 1}, 4, kernelSize, numClasses,
                0.0, saveMemory, true, false, 3, 224);
    }

    /** Architecture only: upstream cannot train it (spec Q2); build.py forces inter_supv=false. */
    public static TRevSNNConfig tinyDvs(int numClasses, int kernelSize, boolean saveMemory) {
        return new TRevSNNConfig(new long[]{32, 64, 128, 256}, new long[]{1, 1, 1, 1}, 8, kernelSize, numClasses,
                0.0, saveMemory, false, true, 2, 128);
    }

    public static TRevSNNConfig named(String name, int numClasses, int kernelSize, boolean saveMemory) {
        switch (name) {
            case "tiny": return tiny(numClasses, kernelSize, saveMemory);
            case "small": return small(numClasses, kernelSize, saveMemory);
            case "tiny_dvs": return tinyDvs(numClasses, kernelSize, saveMemory);
            default: throw new IllegalArgumentException("t-revsnn: unknown model '" + name + "' (allowed: tiny, small, tiny_dvs)");
        }
    }

    /** From a fixture's {@code meta.json} "constructor" object (reference argument names). */
    public static TRevSNNConfig fromConstructor(Map<String, Object> c) {
        return new TRevSNNConfig(longs(c.get("channels")), c.containsKey("layers") ? longs(c.get("layers")) : new long[]{1, 1, 1, 1},
                num(c, "num_subnet", 4).intValue(), num(c, "kernel_size", 3).intValue(), num(c, "num_classes", 1000).intValue(),
                num(c, "drop_path", 0.0).doubleValue(), bool(c, "save_memory", true), bool(c, "inter_supv", true),
                bool(c, "dvs", false), num(c, "in_chans", 3).intValue(), num(c, "img_size", 0).intValue());
    }

    private static long[] longs(Object o) {
        if (!(o instanceof java.util.List<?> l)) throw new IllegalArgumentException("t-revsnn: expected a list, found " + o);
        return l.stream().mapToLong(v -> ((Number) v).longValue()).toArray();
    }

    private static Number num(Map<String, Object> c, String k, Number dflt) {
        Object v = c.get(k);
        if (v == null) return dflt;
        if (!(v instanceof Number n)) throw new IllegalArgumentException("t-revsnn: '" + k + "' must be a number, found " + v);
        return n;
    }

    private static boolean bool(Map<String, Object> c, String k, boolean dflt) {
        Object v = c.get(k);
        if (v == null) return dflt;
        if (!(v instanceof Boolean b)) throw new IllegalArgumentException("t-revsnn: '" + k + "' must be true/false, found " + v);
        return b;
    }
}
