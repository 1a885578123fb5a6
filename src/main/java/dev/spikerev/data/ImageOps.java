package dev.spikerev.data;

import java.util.function.IntUnaryOperator;

/** PIL-like pixel operations on CHW unsigned-byte images, used by {@link RandAugment}. */
final class ImageOps {
    private ImageOps() {}

    static byte[] lut(byte[] a, IntUnaryOperator f) {
        byte[] t = new byte[256];
        for (int v = 0; v < 256; v++) t[v] = (byte) f.applyAsInt(v);
        byte[] o = new byte[a.length];
        for (int i = 0; i < a.length; i++) o[i] = t[a[i] & 0xff];
        return o;
    }

    /**
     * PIL {@code Image.blend(degenerate, img, factor)}: {@code d + factor (img - d)} in C float (PIL takes the factor
     * as a float), clipped, truncated.
     */
    static byte[] blend(byte[] d, byte[] img, double factor) {
        byte[] o = new byte[img.length];
        float alpha = (float) factor;
        for (int i = 0; i < o.length; i++) {
            int dv = d[i] & 0xff;
            float v = dv + alpha * ((img[i] & 0xff) - dv);
            o[i] = (byte) (int) Math.max(0, Math.min(255, v));
        }
        return o;
    }

    /** PIL "L" conversion: {@code (R*299 + G*587 + B*114) / 1000} rounded (ITU-R 601-2 luma). */
    static int[] luma(byte[] a, int c, int plane) {
        int[] l = new int[plane];
        for (int i = 0; i < plane; i++) {
            if (c < 3) {
                l[i] = a[i] & 0xff;
            } else {
                l[i] = ((a[i] & 0xff) * 19595 + (a[plane + i] & 0xff) * 38470 + (a[2 * plane + i] & 0xff) * 7471
                        + 0x8000) >> 16;
            }
        }
        return l;
    }

    static byte[] color(byte[] a, int c, int plane, double factor) {
        int[] l = luma(a, c, plane);
        byte[] d = new byte[a.length];
        for (int ch = 0; ch < c; ch++) for (int i = 0; i < plane; i++) d[ch * plane + i] = (byte) l[i];
        return blend(d, a, factor);
    }

    static byte[] contrast(byte[] a, int c, int plane, double factor) {
        int[] l = luma(a, c, plane);
        long sum = 0;
        for (int v : l) sum += v;
        int mean = (int) (sum / (double) plane + 0.5);
        byte[] d = new byte[a.length];
        java.util.Arrays.fill(d, (byte) mean);
        return blend(d, a, factor);
    }

    /** PIL SMOOTH filter (3x3, centre 5, others 1, /13); border pixels are copied. */
    static byte[] smooth(byte[] a, int c, int h, int w) {
        byte[] o = a.clone();
        for (int ch = 0; ch < c; ch++) {
            int b = ch * h * w;
            for (int y = 1; y < h - 1; y++) {
                for (int x = 1; x < w - 1; x++) {
                    int s = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        for (int dx = -1; dx <= 1; dx++) s += (a[b + (y + dy) * w + x + dx] & 0xff) * (dx == 0 && dy == 0 ? 5 : 1);
                    }
                    o[b + y * w + x] = (byte) ((s + 6) / 13);
                }
            }
        }
        return o;
    }

    static byte[] autoContrast(byte[] a, int c, int plane) {
        byte[] o = new byte[a.length];
        for (int ch = 0; ch < c; ch++) {
            int lo = 255, hi = 0;
            for (int i = 0; i < plane; i++) {
                int v = a[ch * plane + i] & 0xff;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            for (int i = 0; i < plane; i++) {
                int v = a[ch * plane + i] & 0xff;
                if (hi <= lo) {
                    o[ch * plane + i] = (byte) v;
                } else {
                    double scale = 255.0 / (hi - lo), offset = -lo * scale;
                    o[ch * plane + i] = (byte) Math.max(0, Math.min(255, (int) (v * scale + offset)));
                }
            }
        }
        return o;
    }

    /** PIL {@code ImageOps.equalize} per channel. */
    static byte[] equalize(byte[] a, int c, int plane) {
        byte[] o = new byte[a.length];
        for (int ch = 0; ch < c; ch++) {
            int[] hist = new int[256];
            for (int i = 0; i < plane; i++) hist[a[ch * plane + i] & 0xff]++;
            int last = 255;
            while (last > 0 && hist[last] == 0) last--;
            int step = (plane - hist[last]) / 255;
            int[] lut = new int[256];
            if (step == 0) {
                for (int v = 0; v < 256; v++) lut[v] = v;
            } else {
                int n = step / 2;
                for (int v = 0; v < 256; v++) {
                    lut[v] = Math.min(255, n / step);
                    n += hist[v];
                }
            }
            for (int i = 0; i < plane; i++) o[ch * plane + i] = (byte) lut[a[ch * plane + i] & 0xff];
        }
        return o;
    }

    /** PIL {@code rotate(deg)} (counter-clockwise about the centre, same size). */
    static byte[] rotate(byte[] a, int c, int h, int w, double deg, int[] fill) {
        double ang = -Math.toRadians(deg);
        double[] m = {Math.cos(ang), Math.sin(ang), 0, -Math.sin(ang), Math.cos(ang), 0};
        double cx = w / 2.0, cy = h / 2.0;
        m[2] = m[0] * -cx + m[1] * -cy + cx;
        m[5] = m[3] * -cx + m[4] * -cy + cy;
        return affine(a, c, h, w, m, fill);
    }

    /**
     * PIL {@code transform(AFFINE, m)}: output pixel centre {@code (x+.5, y+.5)} samples input at
     * {@code (m0 X + m1 Y + m2, m3 X + m4 Y + m5)}, bilinear, {@code fill} outside.
     */
    static byte[] affine(byte[] a, int c, int h, int w, double[] m, int[] fill) {
        byte[] o = new byte[a.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double X = x + 0.5, Y = y + 0.5;
                double sx = m[0] * X + m[1] * Y + m[2] - 0.5, sy = m[3] * X + m[4] * Y + m[5] - 0.5;
                int x0 = (int) Math.floor(sx), y0 = (int) Math.floor(sy);
                double fx = sx - x0, fy = sy - y0;
                boolean outside = sx < -0.5 || sy < -0.5 || sx > w - 0.5 || sy > h - 0.5;
                for (int ch = 0; ch < c; ch++) {
                    int fv = fill[Math.min(ch, fill.length - 1)];
                    double v;
                    if (outside) {
                        v = fv;
                    } else {
                        int b = ch * h * w;
                        double p00 = px(a, b, w, h, x0, y0, fv), p01 = px(a, b, w, h, x0 + 1, y0, fv);
                        double p10 = px(a, b, w, h, x0, y0 + 1, fv), p11 = px(a, b, w, h, x0 + 1, y0 + 1, fv);
                        v = (1 - fy) * ((1 - fx) * p00 + fx * p01) + fy * ((1 - fx) * p10 + fx * p11);
                    }
                    o[ch * h * w + y * w + x] = (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
                }
            }
        }
        return o;
    }

    private static double px(byte[] a, int b, int w, int h, int x, int y, int fill) {
        // clamp-to-edge inside the half-pixel border, like PIL's bilinear sampler
        x = Math.max(0, Math.min(w - 1, x));
        y = Math.max(0, Math.min(h - 1, y));
        return a[b + y * w + x] & 0xff;
    }
}
