package dev.spikerev.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The IDX format of MNIST / Fashion-MNIST: bytes {@code 0, 0, type, ndim}, then {@code ndim} big-endian int32
 * dimensions, then the values. Only type {@code 0x08} (unsigned byte) is supported. Files may be gzip-compressed
 * (detected from the content, so {@code .gz} names are optional). Readers check the whole header and the exact file
 * length and fail with a one-line {@link IOException} naming the file.
 */
public final class Idx {
    /** Type byte for unsigned bytes. */
    public static final int UBYTE = 0x08;

    private Idx() {}

    /** A decoded IDX file: dimensions and the row-major unsigned-byte values. */
    public record Array(int[] dims, byte[] data) {}

    /** Reads an unsigned-byte IDX file and checks its rank ({@code expectedDims}; pass -1 to accept any). */
    public static Array read(Path file, int expectedDims) throws IOException {
        byte[] b = readMaybeGzip(file);
        if (b.length < 4) throw new IOException(file + ": not an IDX file (only " + b.length + " bytes)");
        if (b[0] != 0 || b[1] != 0) {
            throw new IOException(file + ": not an IDX file (magic starts with "
                    + String.format("0x%02x%02x", b[0] & 0xff, b[1] & 0xff) + ", expected 0x0000)");
        }
        int type = b[2] & 0xff;
        int nd = b[3] & 0xff;
        if (type != UBYTE) throw new IOException(file + ": IDX value type 0x" + Integer.toHexString(type)
                + " is not supported (expected 0x08 unsigned byte)");
        if (expectedDims >= 0 && nd != expectedDims) {
            throw new IOException(file + ": IDX file has " + nd + " dimensions, expected " + expectedDims
                    + " (magic 0x" + String.format("%08x", ((type << 8) | nd)) + ")");
        }
        int header = 4 + 4 * nd;
        if (b.length < header) throw new IOException(file + ": truncated IDX header (" + b.length + " bytes)");
        int[] dims = new int[nd];
        long n = 1;
        for (int d = 0; d < nd; d++) {
            int o = 4 + 4 * d;
            dims[d] = ((b[o] & 0xff) << 24) | ((b[o + 1] & 0xff) << 16) | ((b[o + 2] & 0xff) << 8) | (b[o + 3] & 0xff);
            if (dims[d] < 0) throw new IOException(file + ": negative IDX dimension " + dims[d]);
            n *= dims[d];
        }
        if (b.length - header != n) {
            throw new IOException(file + ": IDX dims " + Arrays.toString(dims) + " need " + n + " data bytes, found "
                    + (b.length - header) + (b.length - header < n ? " (truncated)" : " (trailing bytes)"));
        }
        return new Array(dims, Arrays.copyOfRange(b, header, b.length));
    }

    /** The bytes of {@code file}, gunzipped if it starts with the gzip magic. */
    public static byte[] readMaybeGzip(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": file not found");
        byte[] raw = Files.readAllBytes(file);
        if (raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b) {
            try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(raw), 1 << 16)) {
                ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 4);
                in.transferTo(out);
                return out.toByteArray();
            } catch (IOException e) {
                throw new IOException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
            }
        }
        return raw;
    }

    /** The encoded bytes of an unsigned-byte IDX array. */
    public static byte[] encode(byte[] data, int... dims) {
        long n = Sample.numel(dims);
        if (n != data.length) throw new IllegalArgumentException("IDX dims " + Arrays.toString(dims) + " need " + n
                + " bytes, found " + data.length);
        byte[] out = new byte[4 + 4 * dims.length + data.length];
        out[2] = (byte) UBYTE;
        out[3] = (byte) dims.length;
        for (int d = 0; d < dims.length; d++) {
            int o = 4 + 4 * d;
            out[o] = (byte) (dims[d] >>> 24);
            out[o + 1] = (byte) (dims[d] >>> 16);
            out[o + 2] = (byte) (dims[d] >>> 8);
            out[o + 3] = (byte) dims[d];
        }
        System.arraycopy(data, 0, out, 4 + 4 * dims.length, data.length);
        return out;
    }

    /** Writes an unsigned-byte IDX file atomically (gzip-compressed if the name ends in {@code .gz}). */
    public static void write(Path file, byte[] data, int... dims) throws IOException {
        byte[] enc = encode(data, dims);
        if (file.getFileName().toString().endsWith(".gz")) {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            try (OutputStream gz = new GZIPOutputStream(bo)) {
                gz.write(enc);
            }
            enc = bo.toByteArray();
        }
        FileUtil.writeAtomic(file, enc);
    }
}
