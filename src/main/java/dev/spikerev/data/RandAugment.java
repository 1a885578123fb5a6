package dev.spikerev.data;

import java.util.SplittableRandom;

/**
 * RandAugment with timm's {@code rand-m9-mstd0.5-inc1} semantics on RGB byte samples {@code [3, H, W]}
 * (grayscale {@code [1, H, W]} works too; colour ops then act on the single channel).
 *
 * <p>Per sample: {@code numLayers} (2) ops are drawn uniformly with replacement from timm's "increasing" list
 * (AutoContrast, Equalize, Invert, Rotate, PosterizeIncreasing, SolarizeIncreasing, SolarizeAdd, ColorIncreasing,
 * ContrastIncreasing, BrightnessIncreasing, SharpnessIncreasing, ShearX, ShearY, TranslateXRel, TranslateYRel); each
 * is applied with probability 0.5 at magnitude {@code m ~ N(9, 0.5)} clipped to [0, 10], with timm's level
 * functions (rotate 30*m/10 deg, shear 0.3*m/10, translate 0.45*m/10 of the size, enhance factor 1 +- 0.9*m/10,
 * posterize to {@code 4 - int(4*m/10)} bits, solarize threshold {@code 256 - int(256*m/10)}, solarize-add
 * {@code int(110*m/10)}), and a random sign where timm has one.
 *
 * <p>Deviations from timm/PIL: geometric ops always use bilinear sampling (timm picks bilinear or bicubic at random)
 * and fill with {@code fill} (timm: the dataset mean); blends truncate like PIL but edge handling of the sharpness
 * filter and sub-pixel details of PIL's affine sampler are only approximated; the random stream is ours, not
 * Python's.
 */
public final class RandAugment implements Transform {
    private static final String[] OPS = {"AutoContrast", "Equalize", "Invert", "Rotate", "PosterizeIncreasing",
        "SolarizeIncreasing", "SolarizeAdd", "ColorIncreasing", "ContrastIncreasing", "BrightnessIncreasing",
        "SharpnessIncreasing", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"};

    private final int numLayers;
    private final double magnitude;
    private final double magnitudeStd;
    private final double prob;
    private final int[] fill;

    /** timm {@code rand-m9-mstd0.5-inc1}, fill = ImageNet mean (124, 116, 104). */
    public static RandAugment timmDefault() {
        return new RandAugment(2, 9, 0.5, 0.5, new int[] {124, 116, 104});
    }

    /** {@code numLayers} ops, magnitude mean/std (0..10 scale), per-op probability, fill colour per channel. */
    public RandAugment(int numLayers, double magnitude, double magnitudeStd, double prob, int[] fill) {
        this.numLayers = numLayers;
        this.magnitude = magnitude;
        this.magnitudeStd = magnitudeStd;
        this.prob = prob;
        this.fill = fill.clone();
    }

    /** Names of the op list, in draw order. */
    public static String[] ops() {
        return OPS.clone();
    }

    @Override
    public Sample apply(Sample s, SplittableRandom rng) {
        if (!s.isBytes()) throw new IllegalArgumentException("RandAugment works on byte images; put it before toFloat()");
        byte[] img = s.u8();
        for (int l = 0; l < numLayers; l++) {
            int op = rng.nextInt(OPS.length);
            if (prob < 1.0 && rng.nextDouble() > prob) continue;
            double m = magnitude;
            if (magnitudeStd > 0) m = magnitude + magnitudeStd * gaussian(rng);
            m = Math.max(0, Math.min(10, m));
            img = apply(OPS[op], img, s.channels(), s.height(), s.width(), m, rng.nextBoolean() ? -1 : 1);
        }
        return new Sample(img, null, s.shape(), s.label());
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Applies one named op at magnitude {@code m} (0..10) with sign {@code sign} (+1/-1) to a CHW byte image. */
    public byte[] apply(String op, byte[] a, int c, int h, int w, double m, int sign) {
        double f = m / 10.0;
        switch (op) {
            case "AutoContrast": return ImageOps.autoContrast(a, c, h * w);
            case "Equalize": return ImageOps.equalize(a, c, h * w);
            case "Invert": return ImageOps.lut(a, v -> 255 - v);
            case "PosterizeIncreasing": {
                int bits = 4 - (int) (f * 4);
                if (bits >= 8) return a;
                int mask = ~((1 << (8 - bits)) - 1) & 0xff;
                return ImageOps.lut(a, v -> v & mask);
            }
            case "SolarizeIncreasing": {
                int th = 256 - (int) (f * 256);
                return ImageOps.lut(a, v -> v >= th ? 255 - v : v);
            }
            case "SolarizeAdd": {
                int add = (int) (f * 110);
                return ImageOps.lut(a, v -> v < 128 ? Math.min(255, v + add) : v);
            }
            case "ColorIncreasing": return ImageOps.color(a, c, h * w, 1 + sign * f * 0.9);
            case "ContrastIncreasing": return ImageOps.contrast(a, c, h * w, 1 + sign * f * 0.9);
            case "BrightnessIncreasing": return ImageOps.blend(new byte[a.length], a, 1 + sign * f * 0.9);
            case "SharpnessIncreasing": return ImageOps.blend(ImageOps.smooth(a, c, h, w), a, 1 + sign * f * 0.9);
            case "Rotate": return ImageOps.rotate(a, c, h, w, sign * f * 30, fill);
            case "ShearX": return ImageOps.affine(a, c, h, w, new double[] {1, sign * f * 0.3, 0, 0, 1, 0}, fill);
            case "ShearY": return ImageOps.affine(a, c, h, w, new double[] {1, 0, 0, sign * f * 0.3, 1, 0}, fill);
            case "TranslateXRel":
                return ImageOps.affine(a, c, h, w, new double[] {1, 0, sign * f * 0.45 * w, 0, 1, 0}, fill);
            case "TranslateYRel":
                return ImageOps.affine(a, c, h, w, new double[] {1, 0, 0, 0, 1, sign * f * 0.45 * h}, fill);
            default: throw new IllegalArgumentException("unknown RandAugment op " + op);
        }
    }
}
