package dev.spikerev.data;

import java.io.Closeable;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

/**
 * A minimal streaming reader for POSIX ustar / GNU / pax tar archives, enough for npm package tarballs.
 *
 * <p>Supports regular files, directories, GNU long names ({@code L}) and pax {@code path=} records ({@code x});
 * other entry types are returned with their type flag and may be skipped. Header checksums are verified; a bad
 * checksum or a short archive throws an {@link IOException} naming the archive.
 */
public final class Tar implements Closeable {
    /** One archive member. {@code type} is the ustar type flag ({@code '0'} regular file, {@code '5'} directory). */
    public record Entry(String name, long size, char type) {
        /** True for regular files. */
        public boolean isFile() {
            return type == '0' || type == '\0' || type == '7';
        }
    }

    private final InputStream in;
    private final String label;
    private long remaining;
    private long padding;

    /** Reads an uncompressed tar stream; {@code label} names it in error messages. */
    public Tar(InputStream in, String label) {
        this.in = in;
        this.label = label;
    }

    /** Reads a gzip-compressed tar ({@code .tgz}) stream. */
    public static Tar gzip(InputStream in, String label) throws IOException {
        try {
            return new Tar(new GZIPInputStream(in, 1 << 16), label);
        } catch (IOException e) {
            throw new IOException(label + ": not a gzip file (" + e.getMessage() + ")", e);
        }
    }

    /** Advances to the next member (skipping the rest of the current one); {@code null} at the end. */
    public Entry next() throws IOException {
        skipFully(remaining + padding);
        remaining = 0;
        padding = 0;
        String longName = null;
        while (true) {
            byte[] h = new byte[512];
            int got = readBlock(h);
            if (got == 0) return null; // end of stream without the zero blocks: tolerated
            if (got < 512) throw new IOException(label + ": truncated tar header");
            if (isZero(h)) return null;
            verifyChecksum(h);
            char type = (char) h[156];
            long size = parseNumber(h, 124, 12);
            String name = str(h, 0, 100);
            String magic = str(h, 257, 6);
            if (magic.startsWith("ustar")) {
                String prefix = str(h, 345, 155);
                if (!prefix.isEmpty()) name = prefix + "/" + name;
            }
            if (type == 'L' || type == 'x') {
                byte[] data = readData(size);
                if (type == 'L') {
                    longName = new String(data, StandardCharsets.UTF_8).replace("\0", "");
                } else {
                    String p = paxPath(data);
                    if (p != null) longName = p;
                }
                continue;
            }
            if (type == 'g') {
                readData(size);
                continue;
            }
            if (longName != null) name = longName;
            remaining = (type == '5') ? 0 : size;
            padding = (type == '5') ? 0 : (512 - size % 512) % 512;
            return new Entry(name, size, type);
        }
    }

    /** The current member's data; reading past its end returns -1. Do not close it. */
    public InputStream content() {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                if (remaining <= 0) return -1;
                int b = in.read();
                if (b < 0) throw new EOFException(label + ": truncated tar member");
                remaining--;
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (remaining <= 0) return -1;
                int n = in.read(b, off, (int) Math.min(len, remaining));
                if (n < 0) throw new EOFException(label + ": truncated tar member");
                remaining -= n;
                return n;
            }

            @Override
            public void close() {
                // the archive stream stays open
            }
        };
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private byte[] readData(long size) throws IOException {
        if (size > Integer.MAX_VALUE - 1024) throw new IOException(label + ": tar metadata record too large");
        byte[] data = new byte[(int) size];
        int off = 0;
        while (off < data.length) {
            int n = in.read(data, off, data.length - off);
            if (n < 0) throw new EOFException(label + ": truncated tar member");
            off += n;
        }
        skipFully((512 - size % 512) % 512);
        return data;
    }

    private int readBlock(byte[] h) throws IOException {
        int off = 0;
        while (off < h.length) {
            int n = in.read(h, off, h.length - off);
            if (n < 0) break;
            off += n;
        }
        return off;
    }

    private void skipFully(long n) throws IOException {
        byte[] buf = new byte[8192];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) throw new EOFException(label + ": truncated tar member");
            n -= r;
        }
    }

    private void verifyChecksum(byte[] h) throws IOException {
        long stored = parseNumber(h, 148, 8);
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
        if (sum != stored) throw new IOException(label + ": bad tar header checksum (corrupt archive?)");
    }

    private long parseNumber(byte[] h, int off, int len) throws IOException {
        if ((h[off] & 0x80) != 0) { // GNU base-256
            long v = h[off] & 0x7f;
            for (int i = 1; i < len; i++) v = (v << 8) | (h[off + i] & 0xff);
            return v;
        }
        String s = str(h, off, len).trim();
        if (s.isEmpty()) return 0;
        try {
            return Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            throw new IOException(label + ": bad octal number '" + s + "' in tar header");
        }
    }

    private static String paxPath(byte[] data) {
        String s = new String(data, StandardCharsets.UTF_8);
        for (String line : s.split("\n")) {
            int sp = line.indexOf(' ');
            if (sp < 0) continue;
            String kv = line.substring(sp + 1);
            if (kv.startsWith("path=")) return kv.substring(5);
        }
        return null;
    }

    private static String str(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) end++;
        return new String(h, off, end - off, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] h) {
        for (byte b : h) if (b != 0) return false;
        return true;
    }
}
