package dev.spikerev.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/** Helpers that write small files in the real formats for the data tests. */
final class TestData {
    private TestData() {}

    /** A .tgz with the given members (ustar headers, mode 644). Content may be given as a size-only zero file. */
    static void tgz(Path out, Map<String, byte[]> members) throws IOException {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(out), 1 << 16)) {
            for (var e : members.entrySet()) {
                writeMember(o, e.getKey(), e.getValue().length, '0');
                o.write(e.getValue());
                o.write(new byte[(512 - e.getValue().length % 512) % 512]);
            }
            o.write(new byte[1024]);
        }
    }

    static void writeMember(OutputStream o, String name, long size, char type) throws IOException {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", size));
        put(h, 136, String.format("%011o", 0));
        for (int i = 148; i < 156; i++) h[i] = ' ';
        h[156] = (byte) type;
        put(h, 257, "ustar");
        h[262] = 0;
        put(h, 263, "00");
        long sum = 0;
        for (byte b : h) sum += b & 0xff;
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        h[155] = ' ';
        o.write(h);
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(bo)) {
            o.write(b);
        }
        return bo.toByteArray();
    }

    /** An in-memory dataset of {@code n} samples {@code [c, h, w]} whose pixel j of sample i is {@code i*1000 + j}. */
    static Dataset synthetic(int n, int c, int h, int w, int classes) {
        return new Dataset() {
            @Override public int size() { return n; }
            @Override public Sample get(int i) {
                float[] d = new float[c * h * w];
                for (int j = 0; j < d.length; j++) d[j] = i * 1000 + j;
                return Sample.ofFloats(d, i % classes, c, h, w);
            }
            @Override public int numClasses() { return classes; }
        };
    }

    /** Asserts {@code e}'s message is one line mentioning {@code file}'s name. */
    static void assertOneLineNaming(Throwable e, Path file) {
        String m = e.getMessage();
        org.junit.jupiter.api.Assertions.assertNotNull(m);
        org.junit.jupiter.api.Assertions.assertFalse(m.contains("\n"), "multi-line message: " + m);
        org.junit.jupiter.api.Assertions.assertTrue(m.contains(file.getFileName().toString()),
                "message does not name " + file.getFileName() + ": " + m);
    }
}
