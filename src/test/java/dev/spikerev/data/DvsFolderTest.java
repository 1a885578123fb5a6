package dev.spikerev.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spikerev.testutil.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DVS128 Gesture / CIFAR10-DVS against files written by SpikingJelly itself (fixtures/dvs, made by its
 * make_fixture.py): raw AEDAT 2.0 -> events_np ({@code cifar10_dvs._read_aedat_save_to_np}) -> frames
 * ({@code integrate_events_file_to_frames_file_by_fixed_frames_number}, split by number and by time). spikerev's
 * frames from the raw files and from the event files equal SpikingJelly's frame files exactly.
 */
class DvsFolderTest {
    @TempDir Path tmp;

    static final Path DVS = Fixtures.of("dvs");

    static List<Path> npz(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".npz")).sorted().toList();
        }
    }

    @Test
    void spikingJellyEventFilesAndFramesRead() throws IOException {
        Path ev = DVS.resolve("events_np/airplane/cifar10_airplane_0.npz");
        EventFrames.Events e = EventFrames.readNpz(ev); // t is '>u4', x/y uint32, p int64 in SpikingJelly's file
        EventFrames.Events raw = EventFrames.readCifar10DvsAedat(DVS.resolve("raw/airplane/cifar10_airplane_0.aedat"));
        assertTrue(e.size() > 10);
        assertArrayEquals(raw.t(), e.t());
        assertArrayEquals(raw.x(), e.x());
        assertArrayEquals(raw.y(), e.y());
        assertArrayEquals(raw.p(), e.p());
        Npy.Array f = Npy.readNpz(DVS.resolve("frames_number_4_split_by_number/airplane/cifar10_airplane_0.npz"), "frames");
        assertEquals("<f8", f.descr());
        assertArrayEquals(new long[]{4, 2, 128, 128}, f.shape());
        double sum = 0;
        for (float v : f.toFloats()) sum += v;
        assertEquals(e.size(), sum); // every event counted once
    }

    @Test
    void integrationEqualsSpikingJellyFramesBitForBit() throws IOException {
        int checked = 0;
        for (EventFrames.SplitBy split : EventFrames.SplitBy.values()) {
            Path framesDir = DVS.resolve("frames_number_4_split_by_" + split.key());
            for (Path fr : npz(framesDir)) {
                Path rel = framesDir.relativize(fr);
                float[] expected = Npy.readNpz(fr, "frames").toFloats();
                float[] fromEvents = EventFrames.integrate(EventFrames.readNpz(DVS.resolve("events_np").resolve(rel)), 4, split, 128, 128, "t");
                String aedat = rel.toString().replace(".npz", ".aedat");
                float[] fromRaw = EventFrames.integrate(EventFrames.readCifar10DvsAedat(DVS.resolve("raw").resolve(aedat)), 4, split, 128, 128, "t");
                assertArrayEquals(expected, fromEvents, rel + " " + split);
                assertArrayEquals(expected, fromRaw, rel + " " + split);
                checked++;
            }
        }
        assertEquals(22, checked);
        // DVS128-Gesture-style int64 event files, 3 frames
        Path gf = DVS.resolve("gesture/frames_number_3_split_by_number");
        for (Path fr : npz(gf)) {
            float[] got = EventFrames.integrate(EventFrames.readNpz(DVS.resolve("gesture/events_np").resolve(gf.relativize(fr))), 3,
                    EventFrames.SplitBy.NUMBER, 128, 128, "t");
            assertArrayEquals(Npy.readNpz(fr, "frames").toFloats(), got, fr.toString());
        }
    }

    @Test
    void gestureUsesDatasetFolderLabelsAndTheOfficialSplit() throws IOException {
        Path root = DVS.resolve("gesture");
        DvsFolder train = DvsFolder.open(root, DvsFolder.Kind.DVS128_GESTURE, true, 3, EventFrames.SplitBy.NUMBER);
        DvsFolder test = DvsFolder.open(root, DvsFolder.Kind.DVS128_GESTURE, false, 3, EventFrames.SplitBy.NUMBER);
        assertEquals(DvsFolder.Source.FRAMES, train.source());
        assertEquals(6, train.size());
        assertEquals(3, test.size());
        assertEquals(11, train.numClasses());
        // folders 0, 1, 10 sorted as strings: '10' is the third class (label 2), as torchvision's DatasetFolder has it
        assertEquals("10", train.file(4).getParent().getFileName().toString());
        assertEquals(2, train.label(4));
        assertEquals("user01_fluorescent_0.npz", train.file(0).getFileName().toString());
        assertEquals("user02_led_0.npz", train.file(1).getFileName().toString());
        Sample s = test.get(2);
        assertArrayEquals(new int[]{3, 2, 128, 128}, s.shape());
        assertEquals(2, s.label());
        assertArrayEquals(Npy.readNpz(test.file(2), "frames").toFloats(), s.f32());
        // 4 frames are not there: the events are integrated instead
        DvsFolder ev = DvsFolder.open(root, DvsFolder.Kind.DVS128_GESTURE, true, 5, EventFrames.SplitBy.NUMBER);
        assertEquals(DvsFolder.Source.EVENTS, ev.source());
        assertArrayEquals(new int[]{5, 2, 128, 128}, ev.get(0).shape());
    }

    /** A CIFAR10-DVS folder of raw files: class A with n copies, class B with m copies of fixture files. */
    Path rawCifar10Dvs(int n, int m) throws IOException {
        Path root = tmp.resolve("c10dvs");
        for (int i = 0; i < n; i++) copy("raw/airplane/cifar10_airplane_" + (i % 4) + ".aedat", root.resolve("extract/airplane/a" + (char) ('a' + i) + ".aedat"));
        for (int i = 0; i < m; i++) copy("raw/bird/cifar10_bird_" + (i % 3) + ".aedat", root.resolve("extract/bird/b" + (char) ('a' + i) + ".aedat"));
        return root;
    }

    static void copy(String fixture, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(DVS.resolve(fixture), to);
    }

    @Test
    void cifar10DvsSplitsEveryClassNinetyTen() throws IOException {
        Path root = rawCifar10Dvs(11, 5);
        DvsFolder train = DvsFolder.open(root, DvsFolder.Kind.CIFAR10_DVS, true, 4, EventFrames.SplitBy.NUMBER);
        DvsFolder test = DvsFolder.open(root, DvsFolder.Kind.CIFAR10_DVS, false, 4, EventFrames.SplitBy.NUMBER);
        assertEquals(DvsFolder.Source.AEDAT, train.source());
        assertEquals(10 + 5, train.size()); // ceil(9.9), ceil(4.5)
        assertEquals(1, test.size());
        assertEquals("ak.aedat", test.file(0).getFileName().toString());
        assertEquals(0, test.label(0));
        assertEquals(1, train.label(14));
        // the raw file of test sample 0 is a copy of cifar10_airplane_2 (index 10 % 4): SpikingJelly's frames of it
        float[] sj = Npy.readNpz(DVS.resolve("frames_number_4_split_by_number/airplane/cifar10_airplane_2.npz"), "frames").toFloats();
        assertArrayEquals(sj, test.get(0).f32());
        // the same through SpikingJelly's frames folder layout (class folders straight under it)
        DvsFolder fr = DvsFolder.open(DVS, DvsFolder.Kind.CIFAR10_DVS, true, 4, EventFrames.SplitBy.TIME);
        assertEquals(DvsFolder.Source.FRAMES, fr.source());
        assertEquals(4 + 4 + 3, fr.size()); // ceil(3.6) = 4, ceil(2.7) = 3: every file trains
        assertThrows(IOException.class, () -> DvsFolder.open(DVS, DvsFolder.Kind.CIFAR10_DVS, false, 4, EventFrames.SplitBy.TIME));
    }

    @Test
    void badFilesAndFoldersGetErrorsNamingThem() throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> DvsFolder.open(tmp.resolve("nothing"), DvsFolder.Kind.DVS128_GESTURE, true, 4, EventFrames.SplitBy.NUMBER));
        assertTrue(e.getMessage().contains("no such folder"), e.getMessage());
        Files.createDirectories(tmp.resolve("empty"));
        e = assertThrows(IOException.class, () -> DvsFolder.open(tmp.resolve("empty"), DvsFolder.Kind.CIFAR10_DVS, true, 4, EventFrames.SplitBy.NUMBER));
        assertTrue(e.getMessage().contains("events_np") && e.getMessage().contains("cifar10-dvs"), e.getMessage());
        // frames of the wrong T
        Path root = tmp.resolve("g");
        copy("gesture/frames_number_3_split_by_number/train/0/user01_fluorescent_0.npz", root.resolve("frames_number_4_split_by_number/train/0/x.npz"));
        DvsFolder d = DvsFolder.open(root, DvsFolder.Kind.DVS128_GESTURE, true, 4, EventFrames.SplitBy.NUMBER);
        UncheckedIOException u = assertThrows(UncheckedIOException.class, () -> d.get(0));
        assertTrue(u.getCause().getMessage().contains("x.npz") && u.getCause().getMessage().contains("[3, 2, 128, 128]"), u.getMessage());
        // not a zip
        Path junk = tmp.resolve("junk.npz");
        Files.writeString(junk, "not a zip");
        e = assertThrows(IOException.class, () -> Npy.readNpz(junk));
        assertTrue(e.getMessage().contains("junk.npz"), e.getMessage());
        // an events file without 'p'
        Path noP = writeNpz(tmp.resolve("nop.npz"), List.of("t", "x", "y"), List.of(npy("<i8", new long[]{1}, le(8, 5L)),
                npy("<i8", new long[]{1}, le(8, 1L)), npy("<i8", new long[]{1}, le(8, 1L))));
        e = assertThrows(IOException.class, () -> EventFrames.readNpz(noP));
        assertTrue(e.getMessage().contains("'p'"), e.getMessage());
        // an event outside the 128x128 sensor (SpikingJelly's bincount would fold it into the next row)
        EventFrames.Events out = new EventFrames.Events(new long[]{0, 1}, new int[]{3, 130}, new int[]{0, 0}, new int[]{1, 1});
        IllegalArgumentException o = assertThrows(IllegalArgumentException.class,
                () -> EventFrames.integrate(out, 1, EventFrames.SplitBy.NUMBER, 128, 128, "file.npz"));
        assertTrue(o.getMessage().contains("file.npz") && o.getMessage().contains("x 130"), o.getMessage());
        // split by time with an empty time span
        EventFrames.Events gap = new EventFrames.Events(new long[]{0, 1, 100}, new int[]{1, 1, 1}, new int[]{1, 1, 1}, new int[]{0, 0, 0});
        assertThrows(IllegalArgumentException.class, () -> EventFrames.integrate(gap, 4, EventFrames.SplitBy.TIME, 128, 128, "gap"));
        // a truncated AEDAT stream
        Path aedat = tmp.resolve("bad.aedat");
        Files.write(aedat, "#!AER-DAT2.0\r\n\u0001\u0002\u0003".getBytes(StandardCharsets.ISO_8859_1));
        e = assertThrows(IOException.class, () -> EventFrames.readCifar10DvsAedat(aedat));
        assertTrue(e.getMessage().contains("bad.aedat"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EventFrames.SplitBy.parse("events"));
    }

    @Test
    void npyHeadersDtypesAndDamage() throws IOException {
        // version 2.0 header, big-endian float32, 2x2
        byte[] f = npy2(">f4", new long[]{2, 2}, be(4, Float.floatToIntBits(1.5f), Float.floatToIntBits(-2f), 0, Float.floatToIntBits(3f)));
        Npy.Array a = Npy.parse(f, "a");
        assertArrayEquals(new float[]{1.5f, -2f, 0f, 3f}, a.toFloats());
        byte[] u = npy("<u2", new long[]{3}, new byte[]{(byte) 0xff, (byte) 0xff, 1, 0, 0, 1});
        assertArrayEquals(new long[]{65535, 1, 256}, Npy.parse(u, "u").toLongs());
        byte[] b = npy("|b1", new long[]{2}, new byte[]{0, 1});
        assertArrayEquals(new long[]{0, 1}, Npy.parse(b, "b").toLongs());
        IOException e = assertThrows(IOException.class, () -> Npy.parse(npy("|O", new long[]{1}, new byte[8]), "obj"));
        assertTrue(e.getMessage().contains("obj") && e.getMessage().contains("'|O'"), e.getMessage());
        e = assertThrows(IOException.class, () -> Npy.parse(npy("<f8", new long[]{4}, new byte[16]), "short"));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        e = assertThrows(IOException.class, () -> Npy.parse("PNG image data here".getBytes(StandardCharsets.US_ASCII), "png"));
        assertTrue(e.getMessage().contains("magic"), e.getMessage());
        String fortran = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }";
        e = assertThrows(IOException.class, () -> Npy.parse(withHeader(1, fortran, new byte[16]), "fo"));
        assertTrue(e.getMessage().contains("Fortran"), e.getMessage());
    }

    // ---- writing real-format .npy / .npz files ----

    static byte[] le(int size, long... v) {
        ByteBuffer bb = ByteBuffer.allocate(size * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) { if (size == 8) bb.putLong(x); else bb.putInt((int) x); }
        return bb.array();
    }

    static byte[] be(int size, int... v) {
        ByteBuffer bb = ByteBuffer.allocate(size * v.length).order(ByteOrder.BIG_ENDIAN);
        for (int x : v) bb.putInt(x);
        return bb.array();
    }

    static String header(String descr, long[] shape) {
        StringBuilder s = new StringBuilder();
        for (long d : shape) s.append(d).append(", ");
        String dims = shape.length == 1 ? shape[0] + "," : s.substring(0, Math.max(0, s.length() - 2));
        return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    }

    static byte[] npy(String descr, long[] shape, byte[] data) { return withHeader(1, header(descr, shape), data); }

    static byte[] npy2(String descr, long[] shape, byte[] data) { return withHeader(2, header(descr, shape), data); }

    static byte[] withHeader(int version, String header, byte[] data) {
        int pre = version == 1 ? 10 : 12;
        StringBuilder h = new StringBuilder(header);
        while ((pre + h.length() + 1) % 64 != 0) h.append(' ');
        h.append('\n');
        byte[] hb = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer bb = ByteBuffer.allocate(pre + hb.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        bb.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) version).put((byte) 0);
        if (version == 1) bb.putShort((short) hb.length); else bb.putInt(hb.length);
        bb.put(hb).put(data);
        return bb.array();
    }

    static Path writeNpz(Path file, List<String> keys, List<byte[]> arrays) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            for (int i = 0; i < keys.size(); i++) {
                z.putNextEntry(new ZipEntry(keys.get(i) + ".npy"));
                z.write(arrays.get(i));
                z.closeEntry();
            }
        }
        return file;
    }

    @Test
    void javaWrittenNpzRoundTrips() throws IOException {
        List<byte[]> arrays = new ArrayList<>();
        arrays.add(npy("<i8", new long[]{3}, le(8, 10, 20, 30)));
        arrays.add(npy("<i4", new long[]{3}, le(4, 0, 127, 5)));
        arrays.add(npy("<i4", new long[]{3}, le(4, 1, 2, 127)));
        arrays.add(npy("|u1", new long[]{3}, new byte[]{0, 1, 1}));
        Path f = writeNpz(tmp.resolve("ev.npz"), List.of("t", "x", "y", "p"), arrays);
        EventFrames.Events e = EventFrames.readNpz(f);
        float[] fr = EventFrames.integrate(e, 1, EventFrames.SplitBy.NUMBER, 128, 128, "ev");
        int plane = 128 * 128;
        assertEquals(1f, fr[1 * 128 + 0]);          // p 0 -> channel 0, y 1, x 0
        assertEquals(1f, fr[plane + 2 * 128 + 127]); // p 1 -> channel 1, y 2, x 127
        assertEquals(1f, fr[plane + 127 * 128 + 5]);
    }
}
