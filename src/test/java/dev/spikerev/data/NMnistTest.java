package dev.spikerev.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.testutil.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NMnistTest {
    @TempDir Path root;

    private static final int P = 34 * 34;

    private static float at(float[] f, int t, int c, int row, int col) {
        return f[((t * 2 + c) * 34 + row) * 34 + col];
    }

    @Test
    void binaryFormatIsBigEndian40Bit() throws IOException {
        byte[] raw = {5, 9, (byte) 0x81, 0x02, 0x03};
        List<NMnist.Event> ev = NMnist.decode(raw, Path.of("x.bin"));
        assertEquals(new NMnist.Event(5, 9, 1, 0x010203), ev.get(0));
        assertArrayEquals(raw, NMnist.encode(ev));
    }

    @Test
    void unstabilisedBinningFollowsTheReferenceRules() {
        int T = 5, W = 3000;
        List<NMnist.Event> ev = List.of(
                new NMnist.Event(2, 7, 0, 0),       // t = 0: dropped
                new NMnist.Event(2, 7, 0, 1),       // t = 1 -> bin 0
                new NMnist.Event(2, 7, 0, 3000),    // t = 1 -> bin 0 (duplicate collapses)
                new NMnist.Event(2, 7, 0, 3001),    // t = 2 -> bin 1
                new NMnist.Event(4, 1, 1, 9000),    // polarity 1, t = 3 -> bin 2, channel 1
                new NMnist.Event(4, 1, 1, 12001),   // t = 5 >= T: stops this channel
                new NMnist.Event(4, 1, 1, 6001),    // t = 3 but after the break: ignored
                new NMnist.Event(0, 0, 0, 12000),   // t = 4 = T-1 -> bin 3 (the highest bin that can be set)
                new NMnist.Event(40, 3, 0, 3000));  // x > 34: dropped
        float[] f = NMnist.bin(NMnist.channelTimes(ev, W, false), T);
        assertEquals(T * 2 * P, f.length);
        assertEquals(1f, at(f, 0, 0, 2, 7)); // row = x, col = y (reference layout)
        assertEquals(1f, at(f, 1, 0, 2, 7));
        assertEquals(1f, at(f, 2, 1, 4, 1));
        assertEquals(1f, at(f, 3, 0, 0, 0));
        float sum = 0;
        for (float v : f) sum += v;
        assertEquals(4f, sum);
        // the last bin can never be set
        for (int i = (T - 1) * 2 * P; i < f.length; i++) assertEquals(0f, f[i]);
        // same result through the reference text format
        String text = NMnist.toText(NMnist.channelTimes(ev, W, false));
        assertTrue(text.startsWith("1\t4\n"), text); // channel (x=1,y=1) -> 1, time ceil(12000/3000) = 4
        assertArrayEquals(f, NMnist.binText(text, T));
    }

    @Test
    void stabilisationShiftsLikeOrchardsScript() {
        // ts = 105000: x -= 3.5, y -= 7 (1-based x = 11, y = 21 -> round(7.5) = 8, 14) -> row 7, col 13
        // ts = 210000: x -= 7, y back to 0 shift -> x 11 -> 4, y 21 -> 21
        // ts = 315000: x back to 0 shift
        List<NMnist.Event> ev = List.of(new NMnist.Event(10, 20, 0, 105000), new NMnist.Event(10, 20, 0, 210000),
                new NMnist.Event(10, 20, 0, 315000), new NMnist.Event(0, 0, 0, 200000));
        int[][] ct = NMnist.channelTimes(ev, 3000, true);
        assertArrayEquals(new int[] {35}, ct[7 * 34 + 13]);
        assertArrayEquals(new int[] {70}, ct[3 * 34 + 20]);
        assertArrayEquals(new int[] {105}, ct[10 * 34 + 20]);
        int n = 0;
        for (int[] c : ct) if (c != null) n += c.length;
        assertEquals(3, n); // the event at the corner moved out of the sensor and was dropped
    }

    @Test
    void datasetReadsTrainFolders() throws IOException {
        for (int d = 0; d <= 9; d++) Files.createDirectories(root.resolve("Train/" + d));
        Files.write(root.resolve("Train/3/00001.bin"), NMnist.encode(List.of(new NMnist.Event(1, 2, 1, 5000))));
        Files.write(root.resolve("Train/7/00002.bin"), NMnist.encode(List.of(new NMnist.Event(3, 4, 0, 10))));
        NMnist ds = NMnist.load(root, true, 4, 3000, false);
        assertEquals(2, ds.size());
        Sample s = ds.get(0);
        assertEquals(3, s.label());
        assertArrayEquals(new int[] {4, 2, 34, 34}, s.shape());
        assertEquals(1f, at(s.f32(), 1, 1, 1, 2));
        assertEquals(7, ds.get(1).label());
        assertEquals(1f, at(ds.get(1).f32(), 0, 0, 3, 4));
        // cropped to the model's 32x32 (rows/cols 1..32)
        Sample c = Transforms.crop(1, 1, 32, 32).apply(s, null);
        assertArrayEquals(new int[] {4, 2, 32, 32}, c.shape());
        assertEquals(1f, c.f32()[((1 * 2 + 1) * 32 + 0) * 32 + 1]);
        // truncated file
        Path bad = root.resolve("Train/7/00003.bin");
        Files.write(bad, new byte[] {1, 2, 3});
        NMnist ds2 = NMnist.load(root, true, 4);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ds2.get(2));
        TestData.assertOneLineNaming(e, bad);
    }

    /** Cross-check against the MPIS reference loader output stored in the golden fixture (io.pt). */
    @Test
    void textBinningMatchesReferenceFixture() throws IOException {
        Path io = Fixtures.of("mpis", "neuro_nmnist_small", "io.pt");
        Assumptions.assumeTrue(Files.isRegularFile(io), "fixture io.pt missing");
        // storage keys from io.pt's data.pkl: input_raw -> data/2 (float32 [2,2,34,34,6]),
        // event_texts {"0" -> data/3, "1" -> data/4} (uint8 ASCII)
        try (ZipFile z = new ZipFile(io.toFile())) {
            byte[] raw = z.getInputStream(z.getEntry("io/data/2")).readAllBytes();
            assertEquals(2 * 2 * 34 * 34 * 6 * 4, raw.length);
            ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            int T = 6;
            for (int b = 0; b < 2; b++) {
                String text = new String(z.getInputStream(z.getEntry("io/data/" + (3 + b))).readAllBytes(),
                        StandardCharsets.US_ASCII);
                float[] mine = NMnist.binText(text, T); // [T, 2, 34, 34]
                int ones = 0;
                for (int c = 0; c < 2; c++) for (int r = 0; r < 34; r++) for (int q = 0; q < 34; q++) {
                    for (int t = 0; t < T; t++) {
                        float ref = bb.getFloat(4 * ((((b * 2 + c) * 34 + r) * 34 + q) * T + t));
                        assertEquals(ref, mine[((t * 2 + c) * 34 + r) * 34 + q], "b" + b + " c" + c + " r" + r
                                + " q" + q + " t" + t);
                        if (ref != 0) ones++;
                    }
                }
                assertTrue(ones > 50, "fixture sample has too few events: " + ones);
            }
        }
    }
}
