package dev.spikerev.data;

/**
 * Per-sample transforms over {@code [..., C, H, W]} samples (leading dims such as {@code T} are treated as extra
 * channels for the geometric ones). Each keeps the sample's storage type (bytes stay bytes) except
 * {@link #toFloat()} and {@link #normalize}, which produce floats. Random ones draw from the loader's per-sample
 * {@code rng}, so a given (seed, epoch, index) always gives the same result.
 */
public final class Transforms {
    private Transforms() {}

    /** torchvision {@code ToTensor}: bytes to floats in [0, 1] (floats pass through). */
    public static Transform toFloat() {
        return (s, rng) -> s.isBytes() ? Sample.ofFloats(s.floats(), s.label(), s.shape()) : s;
    }

    /** Zero padding by {@code p} on all four sides (e.g. {@code pad(2)}: MNIST 28x28 to 32x32). */
    public static Transform pad(int p) {
        return pad(p, p, p, p);
    }

    /** Zero padding (torchvision {@code Pad} with fill 0). */
    public static Transform pad(int top, int bottom, int left, int right) {
        return (s, rng) -> window(s, -top, -left, s.height() + top + bottom, s.width() + left + right);
    }

    /** Fixed crop of {@code h x w} at ({@code top}, {@code left}); out-of-range pixels are zero. */
    public static Transform crop(int top, int left, int h, int w) {
        return (s, rng) -> window(s, top, left, h, w);
    }

    /** torchvision {@code CenterCrop}: offsets {@code round((H-h)/2)} with Python's half-to-even rounding. */
    public static Transform centerCrop(int h, int w) {
        return (s, rng) -> window(s, (int) Math.rint((s.height() - h) / 2.0), (int) Math.rint((s.width() - w) / 2.0),
                h, w);
    }

    /**
     * torchvision {@code RandomCrop(size, padding)} with zero fill: pad by {@code padding}, then a uniformly random
     * {@code size x size} window ({@code top = rng.nextInt(H + 2p - size + 1)}, then {@code left} likewise).
     */
    public static Transform randomCrop(int size, int padding) {
        return (s, rng) -> {
            int top = rng.nextInt(s.height() + 2 * padding - size + 1);
            int left = rng.nextInt(s.width() + 2 * padding - size + 1);
            return window(s, top - padding, left - padding, size, size);
        };
    }

    /** torchvision {@code RandomHorizontalFlip(p)}: flips when {@code rng.nextDouble() < p}. */
    public static Transform horizontalFlip(double p) {
        return (s, rng) -> rng.nextDouble() < p ? flip(s) : s;
    }

    /** Mirror along the width axis. */
    public static Sample flip(Sample s) {
        int w = s.width(), rows = s.numel() / w;
        if (s.isBytes()) {
            byte[] a = s.u8(), o = new byte[a.length];
            for (int r = 0; r < rows; r++) for (int x = 0; x < w; x++) o[r * w + x] = a[r * w + w - 1 - x];
            return new Sample(o, null, s.shape(), s.label());
        }
        float[] a = s.f32(), o = new float[a.length];
        for (int r = 0; r < rows; r++) for (int x = 0; x < w; x++) o[r * w + x] = a[r * w + w - 1 - x];
        return new Sample(null, o, s.shape(), s.label());
    }

    /**
     * torchvision {@code Normalize}: {@code (v - mean[c]) / std[c]} per channel (bytes are first scaled to [0, 1]).
     * One value broadcasts to all channels.
     */
    public static Transform normalize(float[] mean, float[] std) {
        return (s, rng) -> {
            float[] a = s.floats(), o = new float[a.length];
            int c = s.channels(), hw = s.height() * s.width();
            if ((mean.length != 1 && mean.length != c) || mean.length != std.length) {
                throw new IllegalArgumentException("normalize: " + mean.length + " means / " + std.length
                        + " stds for " + c + " channels");
            }
            for (int i = 0; i < a.length; i++) {
                int ch = (i / hw) % c;
                int k = mean.length == 1 ? 0 : ch;
                o[i] = (a[i] - mean[k]) / std[k];
            }
            return Sample.ofFloats(o, s.label(), s.shape());
        };
    }

    /**
     * Bilinear resize to {@code h x w} with half-pixel centres (PyTorch {@code interpolate(bilinear,
     * align_corners=False, antialias=False)}); bytes are rounded and clamped. Unlike PIL, no antialiasing is done
     * when shrinking.
     */
    public static Transform resize(int h, int w) {
        return (s, rng) -> resizeTo(s, h, w);
    }

    /** torchvision {@code Resize(size)}: the shorter side becomes {@code size}, aspect kept (long side truncated). */
    public static Transform resizeShorter(int size) {
        return (s, rng) -> {
            int h = s.height(), w = s.width();
            if (h <= w) return resizeTo(s, size, (int) ((long) size * w / h));
            return resizeTo(s, (int) ((long) size * h / w), size);
        };
    }

    static Sample resizeTo(Sample s, int oh, int ow) {
        int h = s.height(), w = s.width(), planes = s.numel() / (h * w);
        if (oh == h && ow == w) return s;
        float[] a = s.floats();
        float scale = s.isBytes() ? 255f : 1f;
        float[] o = new float[planes * oh * ow];
        for (int p = 0; p < planes; p++) {
            for (int y = 0; y < oh; y++) {
                double sy = Math.max(0, (y + 0.5) * h / oh - 0.5);
                int y0 = Math.min((int) sy, h - 1), y1 = Math.min(y0 + 1, h - 1);
                double fy = sy - y0;
                for (int x = 0; x < ow; x++) {
                    double sx = Math.max(0, (x + 0.5) * w / ow - 0.5);
                    int x0 = Math.min((int) sx, w - 1), x1 = Math.min(x0 + 1, w - 1);
                    double fx = sx - x0;
                    int b = p * h * w;
                    double v = (1 - fy) * ((1 - fx) * a[b + y0 * w + x0] + fx * a[b + y0 * w + x1])
                            + fy * ((1 - fx) * a[b + y1 * w + x0] + fx * a[b + y1 * w + x1]);
                    o[(p * oh + y) * ow + x] = (float) v * scale;
                }
            }
        }
        int[] shape = s.shape().clone();
        shape[shape.length - 2] = oh;
        shape[shape.length - 1] = ow;
        if (!s.isBytes()) return new Sample(null, o, shape, s.label());
        byte[] ob = new byte[o.length];
        for (int i = 0; i < o.length; i++) ob[i] = (byte) Math.max(0, Math.min(255, Math.round(o[i])));
        return new Sample(ob, null, shape, s.label());
    }

    /** The {@code h x w} window at ({@code top}, {@code left}) of every plane; outside pixels are zero. */
    static Sample window(Sample s, int top, int left, int h, int w) {
        int sh = s.height(), sw = s.width(), planes = s.numel() / (sh * sw);
        if (h <= 0 || w <= 0) throw new IllegalArgumentException("crop size " + h + "x" + w + " must be positive");
        int[] shape = s.shape().clone();
        shape[shape.length - 2] = h;
        shape[shape.length - 1] = w;
        int y0 = Math.max(0, -top), y1 = Math.min(h, sh - top);
        int x0 = Math.max(0, -left), x1 = Math.min(w, sw - left);
        if (s.isBytes()) {
            byte[] a = s.u8(), o = new byte[planes * h * w];
            for (int p = 0; p < planes; p++) {
                for (int y = y0; y < y1; y++) {
                    if (x1 > x0) System.arraycopy(a, (p * sh + y + top) * sw + x0 + left, o, (p * h + y) * w + x0, x1 - x0);
                }
            }
            return new Sample(o, null, shape, s.label());
        }
        float[] a = s.f32(), o = new float[planes * h * w];
        for (int p = 0; p < planes; p++) {
            for (int y = y0; y < y1; y++) {
                if (x1 > x0) System.arraycopy(a, (p * sh + y + top) * sw + x0 + left, o, (p * h + y) * w + x0, x1 - x0);
            }
        }
        return new Sample(null, o, shape, s.label());
    }

    /** CIFAR training recipe of the references: RandomCrop(32, 4), flip 0.5, ToTensor, Normalize(mean, std). */
    public static Transform cifarTrain(float[] mean, float[] std) {
        return Transform.compose(randomCrop(32, 4), horizontalFlip(0.5), toFloat(), normalize(mean, std));
    }
}
