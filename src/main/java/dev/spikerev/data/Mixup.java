package dev.spikerev.data;

import java.util.SplittableRandom;

/**
 * Batch-level mixup / cutmix with label smoothing, following timm's {@code Mixup} in {@code mode='batch'}.
 *
 * <p>Per batch: with probability {@code prob}, pick cutmix (with probability {@code switchProb} when both alphas are
 * positive) or mixup, and draw {@code lam ~ Beta(alpha, alpha)} of the chosen kind; otherwise {@code lam = 1}. Row
 * {@code i} is mixed with row {@code B-1-i} (timm's {@code x.flip(0)}): mixup {@code x = lam x + (1-lam) x_flip};
 * cutmix pastes the box {@code cut = int(H sqrt(1-lam)) x int(W sqrt(1-lam))} centred at a uniform
 * {@code (cy, cx) in [0,H) x [0,W)}, clipped to the image, from {@code x_flip}, and (timm {@code correct_lam}) resets
 * {@code lam = 1 - box area / (H W)}. Soft targets: {@code lam * onehot(y) + (1-lam) * onehot(y_flip)} with
 * {@code onehot} using {@code on = 1 - smoothing + smoothing/K}, {@code off = smoothing/K}. Soft targets are always
 * produced (so smoothing alone works with both alphas 0). Not implemented: timm's {@code elem}/{@code pair} modes and
 * {@code cutmix_minmax}. timm asserts an even batch size; here an odd middle row mixes with itself.
 */
public final class Mixup implements BatchTransform {
    private final double mixupAlpha;
    private final double cutmixAlpha;
    private final double prob;
    private final double switchProb;
    private final double smoothing;

    /** timm defaults are {@code (0.8, 1.0, 1.0, 0.5, 0.1)}. */
    public Mixup(double mixupAlpha, double cutmixAlpha, double prob, double switchProb, double smoothing) {
        this.mixupAlpha = mixupAlpha;
        this.cutmixAlpha = cutmixAlpha;
        this.prob = prob;
        this.switchProb = switchProb;
        this.smoothing = smoothing;
    }

    /** Label smoothing only (no mixing). */
    public static Mixup smoothingOnly(double smoothing) {
        return new Mixup(0, 0, 0, 0, smoothing);
    }

    /** The parameters drawn for one batch: {@code lam}, cutmix flag and box {@code [yl, yh, xl, xh]} (or null). */
    public record Params(double lam, boolean cutmix, int[] box) {}

    /** Draws the batch parameters for an image of {@code h x w}. */
    public Params draw(SplittableRandom rng, int h, int w) {
        double lam = 1;
        boolean cut = false;
        boolean enabled = mixupAlpha > 0 || cutmixAlpha > 0;
        if (enabled && rng.nextDouble() < prob) {
            if (mixupAlpha > 0 && cutmixAlpha > 0) {
                cut = rng.nextDouble() < switchProb;
                lam = beta(rng, cut ? cutmixAlpha : mixupAlpha);
            } else if (mixupAlpha > 0) {
                lam = beta(rng, mixupAlpha);
            } else {
                cut = true;
                lam = beta(rng, cutmixAlpha);
            }
        }
        if (!cut || lam == 1) return new Params(lam, false, null);
        double ratio = Math.sqrt(1 - lam);
        int ch = (int) (h * ratio), cw = (int) (w * ratio);
        int cy = rng.nextInt(h), cx = rng.nextInt(w);
        int yl = clip(cy - ch / 2, h), yh = clip(cy + ch / 2, h), xl = clip(cx - cw / 2, w), xh = clip(cx + cw / 2, w);
        lam = 1 - (double) (yh - yl) * (xh - xl) / ((double) h * w);
        return new Params(lam, true, new int[] {yl, yh, xl, xh});
    }

    private static int clip(int v, int hi) {
        return Math.max(0, Math.min(hi, v));
    }

    @Override
    public HostBatch apply(HostBatch b, SplittableRandom rng) {
        int n = b.size();
        int h = (int) b.shape[b.shape.length - 2], w = (int) b.shape[b.shape.length - 1];
        Params p = draw(rng, h, w);
        int row = b.rowSize();
        float[] x = b.input;
        if (p.lam() != 1 && n > 0) {
            float[] src = x.clone();
            float lam = (float) p.lam();
            for (int i = 0; i < n; i++) {
                int j = n - 1 - i;
                if (p.cutmix()) {
                    int[] bx = p.box();
                    int planes = row / (h * w);
                    for (int pl = 0; pl < planes; pl++) {
                        for (int y = bx[0]; y < bx[1]; y++) {
                            int off = pl * h * w + y * w;
                            System.arraycopy(src, j * row + off + bx[2], x, i * row + off + bx[2], bx[3] - bx[2]);
                        }
                    }
                } else {
                    for (int k = 0; k < row; k++) x[i * row + k] = src[i * row + k] * lam + src[j * row + k] * (1 - lam);
                }
            }
        }
        int kc = b.numClasses;
        float off = (float) (smoothing / kc), on = (float) (1 - smoothing + smoothing / kc);
        float[] soft = new float[n * kc];
        for (int i = 0; i < n; i++) {
            int y1 = (int) b.target[i], y2 = (int) b.target[n - 1 - i];
            for (int k = 0; k < kc; k++) {
                float a1 = k == y1 ? on : off, a2 = k == y2 ? on : off;
                soft[i * kc + k] = (float) (a1 * p.lam() + a2 * (1 - p.lam()));
            }
        }
        b.soft = soft;
        return b;
    }

    /** A Beta(a, a) draw via two gamma variates. */
    static double beta(SplittableRandom rng, double a) {
        double x = gamma(rng, a), y = gamma(rng, a);
        return x / (x + y);
    }

    /** Marsaglia-Tsang gamma(shape, 1), with the {@code U^(1/a)} boost for shape < 1. */
    static double gamma(SplittableRandom rng, double a) {
        if (a < 1) return gamma(rng, a + 1) * Math.pow(1.0 - rng.nextDouble(), 1 / a);
        double d = a - 1.0 / 3, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double z, v;
            do {
                double u1 = 1.0 - rng.nextDouble(), u2 = rng.nextDouble();
                z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
                v = 1 + c * z;
            } while (v <= 0);
            v = v * v * v;
            double u = 1.0 - rng.nextDouble();
            if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
        }
    }
}
