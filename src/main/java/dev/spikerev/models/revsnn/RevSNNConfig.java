package dev.spikerev.models.revsnn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Constructor arguments of the RevSNN models (names as in the reference constructors), plus two port switches:
 * {@code dvs} (the cifar10-dvs / dvs128-gesture model files: event input {@code [B, T, 2, 128, 128]}) and
 * {@code reversible} (true: the reference's reversible sequences; false: the same layers through plain autograd,
 * i.e. BPTT with every activation kept), and one layout switch, {@code channels_last} (RevSResNet on the CPU, default
 * true: its wide stages on large maps run in NHWC order, which oneDNN's convolutions read without a layout change, see
 * {@link RevSResNet#MIN_NHWC_PLANES}; the values are those of the reference's NCHW model up to float rounding).
 *
 * @param model      {@link Model#REVSRESNET} or {@link Model#REVSFORMER}
 * @param layers     RevSResNet blocks per stage (4 stages CIFAR, 3 DVS)
 * @param planes     RevSResNet stream width per stage (the sequence carries 2·planes channels)
 * @param embedDims  RevSFormer D
 * @param numHeads   RevSFormer heads (changes the computation only, not the weights)
 * @param depths     RevSFormer number of reversible blocks
 * @param mlpRatio   RevSFormer MLP hidden = D·ratio
 * @param T          time steps for CIFAR input (DVS models take T from the data)
 * @param channelsLast RevSResNet activations channels-last (NHWC) instead of NCHW
 */
public record RevSNNConfig(Model model, boolean dvs, int[] layers, int[] planes, int numClasses, int T,
                           int embedDims, int numHeads, int depths, double mlpRatio, int inChannels, int imgH, int imgW,
                           boolean reversible, boolean channelsLast) {

    public enum Model { REVSRESNET, REVSFORMER }

    /**
     * Constructor keys: the reference constructors' arguments (RevSResNet, rev_vit_snn; those without a port effect
     * are accepted and ignored), spikerev's switches, and the provenance fields of the fixtures' meta.json.
     */
    static final java.util.Set<String> KEYS = java.util.Set.of(
            "cls", "arch", "block", "layers", "planes", "num_classes", "norm_layer", "T", "enable_amp",
            "img_size_h", "img_size_w", "patch_size", "in_channels", "embed_dims", "num_heads", "mlp_ratios", "qkv_bias",
            "qk_scale", "drop_rate", "attn_drop_rate", "drop_path_rate", "depths", "sr_ratios", "pretrained_cfg",
            "dvs", "reversible", "channels_last", "layout", "reference_dataset_folder", "reference_file");

    public RevSNNConfig {
        if (model == Model.REVSRESNET) {
            int stages = dvs ? 3 : 4;
            if (layers == null || planes == null || layers.length != stages || planes.length != stages)
                throw new IllegalArgumentException("RevSResNet (" + (dvs ? "dvs" : "cifar") + ") needs " + stages
                        + " layers and planes, found " + (layers == null ? 0 : layers.length) + " / " + (planes == null ? 0 : planes.length));
        } else {
            if (embedDims % 8 != 0) throw new IllegalArgumentException("embed_dims must be divisible by 8, found " + embedDims);
            if (embedDims % numHeads != 0) throw new IllegalArgumentException("embed_dims " + embedDims + " must be divisible by num_heads " + numHeads);
            if (depths < 1) throw new IllegalArgumentException("depths must be >= 1, found " + depths);
            if (dvs && (imgH != 128 || imgW != 128))
                throw new IllegalArgumentException("DVS RevSFormer reshapes are hard-coded for 128x128 input (quirk Q9), found " + imgH + "x" + imgW);
        }
        if (T < 1) throw new IllegalArgumentException("T must be >= 1, found " + T);
    }

    /** Published RevSResNet variants: revs_resnet21/37/109 (CIFAR, 100 classes default), revs_resnet24 (DVS). */
    public static RevSNNConfig revsResnet(String name, int numClasses, int T, boolean reversible) {
        int[] arch = {64, 128, 256, 448};
        switch (name.toLowerCase(Locale.ROOT)) {
            case "revs_resnet21": case "revsresnet21": case "21":
                return resnet(false, new int[]{1, 1, 1, 1}, arch, numClasses, T, reversible);
            case "revs_resnet37": case "revsresnet37": case "37":
                return resnet(false, new int[]{1, 2, 3, 2}, arch, numClasses, T, reversible);
            case "revs_resnet109": case "revsresnet109": case "109":
                return resnet(false, new int[]{2, 4, 16, 4}, arch, numClasses, T, reversible);
            case "revs_resnet24": case "revsresnet24": case "24":
                return resnet(true, new int[]{1, 2, 2}, new int[]{16, 32, 48}, numClasses, T, reversible);
            default:
                throw new IllegalArgumentException("unknown RevSResNet '" + name + "'; known: revs_resnet21, revs_resnet37, revs_resnet109, revs_resnet24");
        }
    }

    public static RevSNNConfig resnet(boolean dvs, int[] layers, int[] planes, int numClasses, int T, boolean reversible) {
        return resnet(dvs, layers, planes, numClasses, T, reversible, dvs ? 2 : 3);
    }

    /**
     * As {@link #resnet(boolean, int[], int[], int, int, boolean)} with another number of input channels (the
     * reference hard-codes 3 / 2; e.g. 1 for MNIST is spikerev's extension, its conv1 then differs from the reference's).
     */
    public static RevSNNConfig resnet(boolean dvs, int[] layers, int[] planes, int numClasses, int T, boolean reversible, int inChannels) {
        if (inChannels < 1) throw new IllegalArgumentException("in_channels must be >= 1, found " + inChannels);
        return new RevSNNConfig(Model.REVSRESNET, dvs, layers, planes, numClasses, T, 0, 1, 0, 4, inChannels,
                dvs ? 128 : 32, dvs ? 128 : 32, reversible, true);
    }

    /** RevSFormer-{depths}-{dims}: CIFAR (32x32, 3 channels) or DVS (128x128, 2 channels). */
    public static RevSNNConfig former(boolean dvs, int embedDims, int numHeads, int depths, int numClasses, int T, boolean reversible) {
        return new RevSNNConfig(Model.REVSFORMER, dvs, null, null, numClasses, T, embedDims, numHeads, depths, 4,
                dvs ? 2 : 3, dvs ? 128 : 32, dvs ? 128 : 32, reversible, false);
    }

    /**
     * From a fixture's {@code meta.json}: {@code constructor} (reference argument names; {@code cls} RevSResNet or
     * rev_vit_snn) and the dataset ({@code constructor.reference_dataset_folder} or {@code layout} naming dvs).
     * Optional {@code constructor.reversible} (default true) and, for RevSResNet, {@code in_channels} (default 3 / 2)
     * and {@code channels_last} (default true). Any other key than {@link #KEYS} is an error naming it.
     */
    @SuppressWarnings("unchecked")
    public static RevSNNConfig fromMeta(Map<String, Object> meta) {
        if (!(meta.get("constructor") instanceof Map)) throw new IllegalArgumentException("revsnn: meta.json has no 'constructor' object");
        Map<String, Object> c = (Map<String, Object>) meta.get("constructor");
        for (String k : c.keySet())
            if (!KEYS.contains(k))
                throw new IllegalArgumentException("revsnn: unknown model (constructor) key '" + k + "' (allowed: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ")");
        String cls = String.valueOf(c.getOrDefault("cls", meta.getOrDefault("model", "")));
        String folder = String.valueOf(c.getOrDefault("reference_dataset_folder", ""));
        String layout = String.valueOf(c.getOrDefault("layout", ""));
        boolean dvs = c.get("dvs") instanceof Boolean b ? b
                : folder.contains("dvs") || layout.toLowerCase(Locale.ROOT).startsWith("dvs");
        boolean reversible = bool(c, "reversible", true);
        boolean channelsLast = bool(c, "channels_last", true);
        int T = intOf(c, "T", 4);
        String kind = cls.toLowerCase(Locale.ROOT);
        if (kind.contains("resnet")) {
            return resnet(dvs, ints(c.get("layers")), ints(c.get("planes")), intOf(c, "num_classes", dvs ? 10 : 100), T, reversible,
                    intOf(c, "in_channels", dvs ? 2 : 3)).withChannelsLast(channelsLast);
        }
        if (kind.contains("vit") || kind.contains("former")) {
            int ih = intOf(c, "img_size_h", dvs ? 128 : 32), iw = intOf(c, "img_size_w", dvs ? 128 : 32);
            double ratio = c.get("mlp_ratios") instanceof Number n ? n.doubleValue() : 4.0;
            return new RevSNNConfig(Model.REVSFORMER, dvs, null, null, intOf(c, "num_classes", dvs ? 11 : 10), T,
                    intOf(c, "embed_dims", dvs ? 256 : 384), intOf(c, "num_heads", dvs ? 16 : 12), intOf(c, "depths", 2),
                    ratio, intOf(c, "in_channels", dvs ? 2 : 3), ih, iw, reversible, false);
        }
        throw new IllegalArgumentException("revsnn: constructor.cls must be RevSResNet or rev_vit_snn, found '" + cls + "'");
    }

    public RevSNNConfig withReversible(boolean rev) {
        return new RevSNNConfig(model, dvs, layers, planes, numClasses, T, embedDims, numHeads, depths, mlpRatio, inChannels, imgH, imgW, rev,
                channelsLast);
    }

    /** The same model with NHWC ({@code true}) or NCHW activations; RevSFormer ignores it. */
    public RevSNNConfig withChannelsLast(boolean cl) {
        return new RevSNNConfig(model, dvs, layers, planes, numClasses, T, embedDims, numHeads, depths, mlpRatio, inChannels, imgH, imgW,
                reversible, cl);
    }

    private static boolean bool(Map<String, Object> c, String k, boolean d) {
        Object v = c.get(k);
        if (v == null) return d;
        if (v instanceof Boolean b) return b;
        throw new IllegalArgumentException("revsnn constructor." + k + " must be true or false, found " + v);
    }

    private static int intOf(Map<String, Object> c, String k, int d) {
        Object v = c.get(k);
        if (v == null) return d;
        if (v instanceof Number n) return n.intValue();
        if (v instanceof List<?> l && l.size() == 1 && l.get(0) instanceof Number n) return n.intValue();
        throw new IllegalArgumentException("revsnn constructor." + k + " must be an integer, found " + v);
    }

    private static int[] ints(Object v) {
        if (!(v instanceof List<?> l)) throw new IllegalArgumentException("revsnn: expected a list of integers, found " + v);
        List<Integer> out = new ArrayList<>();
        for (Object o : l) out.add(((Number) o).intValue());
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
