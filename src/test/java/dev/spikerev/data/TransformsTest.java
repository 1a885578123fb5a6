package dev.spikerev.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TransformsTest {
    /** 2 channels of 3x4, value = c*100 + y*10 + x. */
    private static Sample grid() {
        byte[] b = new byte[24];
        for (int c = 0; c < 2; c++) for (int y = 0; y < 3; y++) for (int x = 0; x < 4; x++) b[c * 12 + y * 4 + x] = (byte) (c * 100 + y * 10 + x);
        return Sample.ofBytes(b, 1, 2, 3, 4);
    }

    private static int v(Sample s, int c, int y, int x) {
        return s.u8()[(c * s.height() + y) * s.width() + x] & 0xff;
    }

    @Test
    void padCropAndCenterCrop() {
        Sample p = Transforms.pad(2).apply(grid(), null);
        assertArrayEquals(new int[] {2, 7, 8}, p.shape());
        assertEquals(0, v(p, 0, 0, 0));
        assertEquals(123, v(p, 1, 4, 5)); // (y=2, x=3) of channel 1 moved by 2
        assertEquals(0, v(p, 1, 6, 7));
        Sample c = Transforms.crop(1, 2, 2, 3).apply(grid(), null);
        assertArrayEquals(new int[] {2, 2, 3}, c.shape());
        assertEquals(12, v(c, 0, 0, 0));
        assertEquals(0, v(c, 0, 1, 2)); // x = 4 is outside: zero fill
        Sample cc = Transforms.centerCrop(1, 2).apply(grid(), null);
        assertEquals(11, v(cc, 0, 0, 0)); // top = round(1.0) = 1, left = round(1.0) = 1
        // MNIST 28 -> 32
        Sample m = Transforms.pad(2).apply(Sample.ofBytes(new byte[784], 0, 1, 28, 28), null);
        assertArrayEquals(new int[] {1, 32, 32}, m.shape());
    }

    @Test
    void randomCropIsAPaddedWindowAndDeterministic() {
        Sample s = grid();
        Set<String> seen = new HashSet<>();
        for (int seed = 0; seed < 200; seed++) {
            Sample a = Transforms.randomCrop(3, 1).apply(s, new SplittableRandom(seed));
            Sample b = Transforms.randomCrop(3, 1).apply(s, new SplittableRandom(seed));
            assertArrayEquals(a.u8(), b.u8());
            assertArrayEquals(new int[] {2, 3, 3}, a.shape());
            // recover the offset: find where pixel (0,0) of the crop came from
            SplittableRandom r = new SplittableRandom(seed);
            int top = r.nextInt(3 + 2 - 3 + 1) - 1, left = r.nextInt(4 + 2 - 3 + 1) - 1;
            seen.add(top + "," + left);
            for (int y = 0; y < 3; y++) for (int x = 0; x < 3; x++) {
                int sy = y + top, sx = x + left;
                int want = sy < 0 || sy >= 3 || sx < 0 || sx >= 4 ? 0 : 100 + sy * 10 + sx;
                assertEquals(want, v(a, 1, y, x));
            }
        }
        assertEquals(3 * 4, seen.size()); // every offset occurs
    }

    @Test
    void flipNormalizeToFloatResize() {
        Sample f = Transforms.flip(grid());
        assertEquals(3, v(f, 0, 0, 0));
        assertEquals(120, v(f, 1, 2, 3));
        int flips = 0;
        for (int seed = 0; seed < 1000; seed++) {
            if (v(Transforms.horizontalFlip(0.5).apply(grid(), new SplittableRandom(seed)), 0, 0, 0) == 3) flips++;
        }
        assertTrue(flips > 400 && flips < 600, "flips " + flips);
        Sample n = Transforms.normalize(new float[] {0.5f, 0.25f}, new float[] {0.5f, 2f}).apply(grid(), null);
        assertEquals((23 / 255f - 0.5f) / 0.5f, n.f32()[11], 1e-7f);
        assertEquals((111 / 255f - 0.25f) / 2f, n.f32()[12 + 5], 1e-7f);
        assertEquals(10 / 255f, Transforms.toFloat().apply(grid(), null).f32()[4], 0f);
        // bilinear 2x upscale of [0, 10] along x: half-pixel centres give 0, 2.5, 7.5, 10
        Sample line = Sample.ofFloats(new float[] {0, 10}, 0, 1, 1, 2);
        assertArrayEquals(new float[] {0, 2.5f, 7.5f, 10}, Transforms.resize(1, 4).apply(line, null).f32(), 1e-6f);
        Sample same = Transforms.resize(3, 4).apply(grid(), null);
        assertArrayEquals(grid().u8(), same.u8());
    }

    @Test
    void randAugmentOpsOnHandMadeImages() {
        RandAugment ra = RandAugment.timmDefault();
        byte[] img = new byte[] {0, 50, (byte) 100, (byte) 200}; // 1 channel 2x2
        assertArrayEquals(new byte[] {(byte) 255, (byte) 205, (byte) 155, 55}, ra.apply("Invert", img, 1, 2, 2, 9, 1));
        // solarize threshold 256 - int(0.5*256) = 128: only 200 flips to 55
        assertArrayEquals(new byte[] {0, 50, 100, 55}, ra.apply("SolarizeIncreasing", img, 1, 2, 2, 5, 1));
        // posterize: 4 - int(0.5 * 4) = 2 bits kept -> mask 0xC0
        assertArrayEquals(new byte[] {0, 0, 64, (byte) 192}, ra.apply("PosterizeIncreasing", img, 1, 2, 2, 5, 1));
        // solarize-add int(0.5*110) = 55 below 128
        assertArrayEquals(new byte[] {55, 105, (byte) 155, (byte) 200}, ra.apply("SolarizeAdd", img, 1, 2, 2, 5, 1));
        // autocontrast stretches 0..200 to 0..255
        byte[] ac = ra.apply("AutoContrast", img, 1, 2, 2, 0, 1);
        assertEquals(0, ac[0]);
        assertEquals(127, ac[2] & 0xff); // PIL: int(100 * 1.275) = 127
        assertEquals(254, ac[3] & 0xff); // PIL: int(200 * (255.0 / 200)) = int(254.99999999999997)
        // brightness factor 1 + 0.9*m/10 with sign -1 at m = 10 -> 0.1
        assertArrayEquals(new byte[] {0, 5, 10, 20}, ra.apply("BrightnessIncreasing", img, 1, 2, 2, 10, -1));
        // translate x by 0.45*m/10*w = 2 px (m = 10/0.45*... use w = 20)
        byte[] row = new byte[20];
        for (int i = 0; i < 20; i++) row[i] = (byte) (i * 10);
        RandAugment zeroFill = new RandAugment(2, 9, 0.5, 0.5, new int[] {0});
        byte[] t = zeroFill.apply("TranslateXRel", row, 1, 1, 20, 10 * 2 / (0.45 * 20), 1);
        for (int i = 0; i < 18; i++) assertEquals((i + 2) * 10, t[i] & 0xff, "x=" + i);
        assertEquals(0, t[19]);
        // rotate by 0 and shear by 0 are the identity
        assertArrayEquals(row, zeroFill.apply("Rotate", row, 1, 1, 20, 0, 1));
        assertArrayEquals(row, zeroFill.apply("ShearX", row, 1, 1, 20, 0, 1));
        // equalize (PIL): too few pixels (step = (4 - 2) // 255 = 0) is the identity; 512 pixels spread to extremes
        assertArrayEquals(new byte[] {10, 10, 20, 20}, ra.apply("Equalize", new byte[] {10, 10, 20, 20}, 1, 2, 2, 0, 1));
        byte[] two = new byte[512];
        java.util.Arrays.fill(two, 0, 256, (byte) 10);
        java.util.Arrays.fill(two, 256, 512, (byte) 20);
        byte[] eq = ra.apply("Equalize", two, 1, 16, 32, 0, 1);
        assertEquals(0, eq[0]);
        assertEquals(255, eq[511] & 0xff);
    }

    @Test
    void randAugmentIsDeterministicPerSeed() {
        byte[] px = new byte[3 * 16 * 16];
        for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 37);
        Sample s = Sample.ofBytes(px, 2, 3, 16, 16);
        int changed = 0;
        for (int seed = 0; seed < 50; seed++) {
            Sample a = RandAugment.timmDefault().apply(s, new SplittableRandom(seed));
            assertArrayEquals(a.u8(), RandAugment.timmDefault().apply(s, new SplittableRandom(seed)).u8());
            if (!java.util.Arrays.equals(a.u8(), px)) changed++;
            assertEquals(2, a.label());
        }
        assertTrue(changed > 15, "changed " + changed); // P(no op applied) = 0.25, and some ops are no-ops here
        assertArrayEquals(new int[] {3, 16, 16}, RandAugment.timmDefault().apply(s, new SplittableRandom(1)).shape());
    }

    private static HostBatch batch(int n, int h, int w, int classes) {
        float[] x = new float[n * h * w];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(x, i * h * w, (i + 1) * h * w, i);
            y[i] = i % classes;
        }
        return new HostBatch(x, new long[] {n, 1, h, w}, y, null, classes, new int[n]);
    }

    @Test
    void mixupBlendsReversedRowsAndMixesSoftTargets() {
        Mixup mix = new Mixup(0.8, 0, 1, 0.5, 0.1);
        HostBatch b = mix.apply(batch(4, 2, 2, 3), new SplittableRandom(3));
        double lam = mix.draw(new SplittableRandom(3), 2, 2).lam();
        assertTrue(lam > 0 && lam < 1);
        // row 0 mixes with row 3
        assertEquals((float) (0 * lam + 3 * (1 - lam)), b.input[0], 1e-5f);
        assertEquals((float) (1 * lam + 2 * (1 - lam)), b.input[4], 1e-5f);
        // targets: row 0 has y = 0, partner row 3 has y = 0 too; row 1 (y=1) with row 2 (y=2)
        float off = 0.1f / 3, on = 1 - 0.1f + off;
        assertEquals(on, b.soft[0], 1e-6f);
        assertEquals((float) (on * lam + off * (1 - lam)), b.soft[3 + 1], 1e-6f);
        assertEquals((float) (off * lam + on * (1 - lam)), b.soft[3 + 2], 1e-6f);
        for (int i = 0; i < 4; i++) {
            float sum = 0;
            for (int k = 0; k < 3; k++) sum += b.soft[i * 3 + k];
            assertEquals(1f, sum, 1e-6f);
        }
        // Beta(0.8, 0.8) mean 0.5
        double mean = 0;
        SplittableRandom r = new SplittableRandom(0);
        for (int i = 0; i < 20000; i++) mean += Mixup.beta(r, 0.8);
        assertEquals(0.5, mean / 20000, 0.01);
    }

    @Test
    void cutmixPastesABoxAndCorrectsLambda() {
        Mixup cut = new Mixup(0, 1.0, 1, 0.5, 0);
        for (int seed = 0; seed < 20; seed++) {
            Mixup.Params p = cut.draw(new SplittableRandom(seed), 8, 8);
            HostBatch b = cut.apply(batch(2, 8, 8, 2), new SplittableRandom(seed));
            int[] box = p.box();
            int area = box == null ? 0 : (box[1] - box[0]) * (box[3] - box[2]);
            assertEquals(1 - area / 64.0, p.lam(), 1e-12);
            int fromOther = 0;
            for (int k = 0; k < 64; k++) if (b.input[k] == 1f) fromOther++;
            assertEquals(area, fromOther);
            assertEquals((float) p.lam(), b.soft[0], 1e-6f);
        }
    }
}
