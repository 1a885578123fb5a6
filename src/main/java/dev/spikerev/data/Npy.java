package dev.spikerev.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * NumPy {@code .npy} arrays and {@code .npz} archives (zip of {@code <key>.npy}, stored or deflated as
 * {@code np.savez} / {@code np.savez_compressed} write them), read-only: numeric dtypes of 1 to 8 bytes in either byte
 * order ({@code f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1}), C order (Fortran order only for 0-d/1-d arrays). Object arrays
 * (pickles) are refused. Every malformed file gives an {@link IOException} naming it.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** Largest array accepted (elements): a guard against absurd shapes in a damaged header. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private Npy() {}

    /** One array: its dtype ({@code kind} f/i/u/b, {@code itemSize} bytes), shape, and raw little/big-endian data. */
    public record Array(String descr, char kind, int itemSize, long[] shape, ByteBuffer data) {
        public int size() {
            long n = 1;
            for (long s : shape) n *= s;
            return (int) n;
        }

        /** Element {@code i} as a double (exact for every integer below 2^53). */
        public double getDouble(int i) {
            int at = i * itemSize;
            return switch (kind) {
                case 'f' -> itemSize == 4 ? data.getFloat(at) : data.getDouble(at);
                default -> (double) getLong(i);
            };
        }

        /** Element {@code i} as a long; floats must hold an integer value. */
        public long getLong(int i) {
            int at = i * itemSize;
            switch (kind) {
                case 'f': {
                    double d = getDouble(i);
                    if (d != Math.rint(d)) throw new IllegalStateException("not an integer: " + d);
                    return (long) d;
                }
                case 'b': return data.get(at) != 0 ? 1 : 0;
                case 'i':
                    return switch (itemSize) {
                        case 1 -> data.get(at);
                        case 2 -> data.getShort(at);
                        case 4 -> data.getInt(at);
                        default -> data.getLong(at);
                    };
                default: // 'u'
                    return switch (itemSize) {
                        case 1 -> data.get(at) & 0xffL;
                        case 2 -> data.getShort(at) & 0xffffL;
                        case 4 -> data.getInt(at) & 0xffffffffL;
                        default -> data.getLong(at); // u8 above 2^63 reads negative; event data never gets there
                    };
            }
        }

        /** All elements as floats (C order). */
        public float[] toFloats() {
            float[] out = new float[size()];
            for (int i = 0; i < out.length; i++) out[i] = (float) getDouble(i);
            return out;
        }

        /** All elements as longs (C order). */
        public long[] toLongs() {
            long[] out = new long[size()];
            for (int i = 0; i < out.length; i++) out[i] = getLong(i);
            return out;
        }
    }

    /** Parses one {@code .npy} image; {@code name} is used in error messages. */
    public static Array parse(byte[] b, String name) throws IOException {
        if (b.length < 10) throw new IOException(name + ": not a .npy array (" + b.length + " bytes)");
        for (int i = 0; i < MAGIC.length; i++)
            if (b[i] != MAGIC[i]) throw new IOException(name + ": not a .npy array (no \\x93NUMPY magic)");
        int major = b[6];
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int start;
        if (major == 1) { headerLen = bb.getShort(8) & 0xffff; start = 10; }
        else if (major == 2 || major == 3) {
            if (b.length < 12) throw new IOException(name + ": truncated .npy header");
            headerLen = bb.getInt(8) & 0xffffffffL;
            start = 12;
        } else throw new IOException(name + ": unsupported .npy format version " + major);
        if (start + headerLen > b.length) throw new IOException(name + ": truncated .npy header");
        String header = new String(b, start, (int) headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) throw new IOException(name + ": malformed .npy header: " + header.trim());
        String descr = d.group(1);
        if (descr.length() < 3 || "<>|=".indexOf(descr.charAt(0)) < 0 || "fiub".indexOf(descr.charAt(1)) < 0)
            throw new IOException(name + ": unsupported dtype '" + descr + "' (numeric f/i/u/b only; object arrays are refused)");
        char kind = descr.charAt(1);
        int item;
        try { item = Integer.parseInt(descr.substring(2)); } catch (NumberFormatException e) { item = -1; }
        boolean ok = switch (kind) {
            case 'f' -> item == 4 || item == 8;
            case 'b' -> item == 1;
            default -> item == 1 || item == 2 || item == 4 || item == 8;
        };
        if (!ok) throw new IOException(name + ": unsupported dtype '" + descr + "'");
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            String p = part.trim();
            if (p.isEmpty()) continue;
            try { dims.add(Long.parseLong(p.endsWith("L") ? p.substring(0, p.length() - 1) : p)); }
            catch (NumberFormatException e) { throw new IOException(name + ": malformed shape (" + s.group(1) + ")"); }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long n = 1;
        for (long x : shape) {
            if (x < 0) throw new IOException(name + ": negative dimension in shape (" + s.group(1) + ")");
            n = Math.multiplyExact(n, x);
            if (n > MAX_ELEMENTS) throw new IOException(name + ": array too large (shape (" + s.group(1) + "))");
        }
        if (f.group(1).equals("True") && shape.length > 1)
            throw new IOException(name + ": Fortran-order arrays are not supported (save with C order)");
        long bytes = n * item, off = start + headerLen;
        if (off + bytes > b.length)
            throw new IOException(name + ": truncated data: shape (" + s.group(1) + ") of " + descr + " needs " + bytes
                    + " bytes, file has " + (b.length - off));
        ByteBuffer data = ByteBuffer.wrap(b, (int) off, (int) bytes).slice()
                .order(descr.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        return new Array(descr, kind, item, shape, data);
    }

    /** Every array of an {@code .npz} file, by key (entry name without {@code .npy}), in archive order. */
    public static Map<String, Array> readNpz(Path file) throws IOException {
        Map<String, Array> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> es = zip.entries();
            while (es.hasMoreElements()) {
                ZipEntry e = es.nextElement();
                if (e.isDirectory() || !e.getName().endsWith(".npy")) continue;
                if (e.getSize() > MAX_ELEMENTS) throw new IOException(file + ": entry " + e.getName() + " too large");
                byte[] b;
                try (InputStream in = zip.getInputStream(e)) { b = in.readAllBytes(); }
                String key = e.getName().substring(0, e.getName().length() - 4);
                out.put(key, parse(b, file + "[" + key + "]"));
            }
        } catch (ZipException e) {
            throw new IOException(file + ": not a readable .npz (zip) file: " + e.getMessage());
        }
        return out;
    }

    /** The array {@code key} of an {@code .npz} file. */
    public static Array readNpz(Path file, String key) throws IOException {
        Map<String, Array> all = readNpz(file);
        Array a = all.get(key);
        if (a == null) throw new IOException(file + ": no '" + key + "' array (found " + all.keySet() + ")");
        return a;
    }
}
