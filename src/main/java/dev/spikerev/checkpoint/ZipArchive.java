package dev.spikerev.checkpoint;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A strict, bounded reader for the zip container of {@code torch.save} files (our own code on the JDK's
 * {@link Inflater} and {@link CRC32}; {@code java.util.zip.ZipFile} was not used because it neither
 * exposes local header offsets nor checks CRCs or declared sizes, which the hostile-input guarantees need).
 *
 * <p>Checks: end record and ZIP64 records consistent with the file size; central directory bounded;
 * every local header matches its central entry (signature, method, name); data lies before the
 * central directory; STORED sizes agree; DEFLATED declared sizes plausible for their compressed size and
 * within {@link Limits#maxDeflatedBytes()}; inflating stops at the declared size; every record's CRC-32
 * is verified after reading. Encrypted or split archives and other compression methods are refused.
 */
final class ZipArchive implements Closeable {

    /** Random-access bytes (a file or an array). */
    interface Source extends Closeable {
        long size();
        /** Reads exactly {@code len} bytes at {@code pos}. */
        void readFully(long pos, byte[] b, int off, int len) throws IOException;
    }

    static final class FileSource implements Source {
        private final FileChannel ch;
        private final long size;
        FileSource(Path p) throws IOException {
            ch = FileChannel.open(p, StandardOpenOption.READ);
            size = ch.size();
        }
        @Override public long size() { return size; }
        @Override public void readFully(long pos, byte[] b, int off, int len) throws IOException {
            ByteBuffer bb = ByteBuffer.wrap(b, off, len);
            while (bb.hasRemaining()) {
                int n = ch.read(bb, pos + bb.position() - off);
                if (n < 0) throw new EOFException("unexpected end of file");
            }
        }
        @Override public void close() throws IOException { ch.close(); }
    }

    static final class ArraySource implements Source {
        private final byte[] a;
        ArraySource(byte[] a) { this.a = a; }
        @Override public long size() { return a.length; }
        @Override public void readFully(long pos, byte[] b, int off, int len) throws IOException {
            if (pos < 0 || pos + len > a.length) throw new EOFException("unexpected end of data");
            System.arraycopy(a, (int) pos, b, off, len);
        }
        @Override public void close() {}
    }

    /** One record of the archive. */
    static final class Entry {
        final String name;
        final int method;          // 0 STORED, 8 DEFLATED
        final long crc;
        final long compressedSize;
        final long size;
        final long localHeaderOffset;
        long dataOffset = -1;      // resolved lazily from the local header
        boolean hasDescriptor;     // a data descriptor follows the data

        Entry(String name, int method, long crc, long compressedSize, long size, long localHeaderOffset) {
            this.name = name; this.method = method; this.crc = crc;
            this.compressedSize = compressedSize; this.size = size; this.localHeaderOffset = localHeaderOffset;
        }
    }

    private static final int LOC_SIG = 0x04034b50, CEN_SIG = 0x02014b50, END_SIG = 0x06054b50;
    private static final int ZIP64_END_SIG = 0x06064b50, ZIP64_LOC_SIG = 0x07064b50;
    /** Deflate cannot expand more than ~1032:1; anything claiming more is lying. */
    private static final long MAX_DEFLATE_RATIO = 1100;

    private final Source src;
    private final Limits limits;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private long centralDirOffset;
    private long deflatedBudget;

    ZipArchive(Source src, Limits limits) throws IOException {
        this.src = src;
        this.limits = limits;
        this.deflatedBudget = limits.maxDeflatedBytes();
        readCentralDirectory();
    }

    Collection<Entry> entries() { return Collections.unmodifiableCollection(entries.values()); }

    Entry entry(String name) { return entries.get(name); }

    @Override public void close() throws IOException { src.close(); }

    private static CheckpointFormatException bad(String msg) { return new CheckpointFormatException(msg); }

    private void readCentralDirectory() throws IOException {
        long size = src.size();
        if (size < 22) throw bad("not a zip archive (file is only " + size + " bytes)");
        int tailLen = (int) Math.min(size, 22 + 65535);
        byte[] tail = new byte[tailLen];
        src.readFully(size - tailLen, tail, 0, tailLen);
        int end = -1;
        for (int i = tailLen - 22; i >= 0; i--) {
            if (le32(tail, i) == END_SIG && i + 22 + le16(tail, i + 20) == tailLen) { end = i; break; }
        }
        if (end < 0) throw bad("zip end-of-central-directory record not found (truncated or not a zip file)");
        long endPos = size - tailLen + end;
        int disk = le16(tail, end + 4), cdDisk = le16(tail, end + 6);
        long nDisk = le16(tail, end + 8), nTotal = le16(tail, end + 10);
        long cdSize = le32u(tail, end + 12), cdOffset = le32u(tail, end + 16);
        long cdLimit = endPos;
        if (nTotal == 0xFFFF || cdSize == 0xFFFFFFFFL || cdOffset == 0xFFFFFFFFL || nDisk == 0xFFFF) {
            if (endPos < 20) throw bad("ZIP64 locator missing");
            byte[] loc = new byte[20];
            src.readFully(endPos - 20, loc, 0, 20);
            if (le32(loc, 0) != ZIP64_LOC_SIG) throw bad("ZIP64 end locator missing or damaged");
            long z64 = le64(loc, 8);
            if (z64 < 0 || z64 + 56 > endPos - 20) throw bad("ZIP64 end record offset out of range: " + z64);
            byte[] rec = new byte[56];
            src.readFully(z64, rec, 0, 56);
            if (le32(rec, 0) != ZIP64_END_SIG) throw bad("ZIP64 end record damaged");
            disk = (int) le32u(rec, 16); cdDisk = (int) le32u(rec, 20);
            nDisk = le64(rec, 24); nTotal = le64(rec, 32); cdSize = le64(rec, 40); cdOffset = le64(rec, 48);
            cdLimit = z64;
        }
        if (disk != 0 || cdDisk != 0 || nDisk != nTotal) throw bad("split (multi-disk) zip archives are not supported");
        if (nTotal < 0 || nTotal > limits.maxZipEntries())
            throw bad("zip declares " + nTotal + " records (limit " + limits.maxZipEntries() + ")");
        if (cdSize < 0 || cdOffset < 0 || cdSize > limits.maxCentralDirectoryBytes() || cdOffset + cdSize > cdLimit)
            throw bad("zip central directory out of range (offset " + cdOffset + ", size " + cdSize
                    + ", file size " + size + ")");
        if (nTotal * 46 > cdSize) throw bad("zip central directory too small for " + nTotal + " records");
        centralDirOffset = cdOffset;
        byte[] cd = new byte[(int) cdSize];
        src.readFully(cdOffset, cd, 0, cd.length);
        int p = 0;
        for (long i = 0; i < nTotal; i++) {
            if (p + 46 > cd.length || le32(cd, p) != CEN_SIG) throw bad("zip central directory record " + i + " damaged");
            int flags = le16(cd, p + 8), method = le16(cd, p + 10);
            long crc = le32u(cd, p + 16), csize = le32u(cd, p + 20), usize = le32u(cd, p + 24);
            int nameLen = le16(cd, p + 28), extraLen = le16(cd, p + 30), commentLen = le16(cd, p + 32);
            int diskStart = le16(cd, p + 34);
            long lho = le32u(cd, p + 42);
            int nameOff = p + 46, extraOff = nameOff + nameLen, next = extraOff + extraLen + commentLen;
            if (next > cd.length) throw bad("zip central directory record " + i + " overruns the directory");
            String name = decodeName(cd, nameOff, nameLen);
            // ZIP64 extended information: present fields are those whose 32-bit value is 0xFFFFFFFF
            for (int q = extraOff; q + 4 <= extraOff + extraLen; ) {
                int id = le16(cd, q), len = le16(cd, q + 2);
                if (q + 4 + len > extraOff + extraLen) throw bad("zip extra field of '" + name + "' overruns its record");
                if (id == 1) {
                    int r = q + 4, rEnd = q + 4 + len;
                    if (usize == 0xFFFFFFFFL) { if (r + 8 > rEnd) throw bad("ZIP64 field of '" + name + "' too short"); usize = le64(cd, r); r += 8; }
                    if (csize == 0xFFFFFFFFL) { if (r + 8 > rEnd) throw bad("ZIP64 field of '" + name + "' too short"); csize = le64(cd, r); r += 8; }
                    if (lho == 0xFFFFFFFFL) { if (r + 8 > rEnd) throw bad("ZIP64 field of '" + name + "' too short"); lho = le64(cd, r); r += 8; }
                    if (diskStart == 0xFFFF) { if (r + 4 > rEnd) throw bad("ZIP64 field of '" + name + "' too short"); diskStart = (int) le32u(cd, r); }
                }
                q += 4 + len;
            }
            if ((flags & 1) != 0) throw bad("zip record '" + name + "' is encrypted");
            if (method != 0 && method != 8) throw bad("zip record '" + name + "' uses unsupported compression method " + method);
            if (diskStart != 0) throw bad("zip record '" + name + "' is on another disk");
            if (usize < 0 || csize < 0 || lho < 0) throw bad("zip record '" + name + "' has sizes beyond 2^63");
            if (lho + 30 > cdOffset || csize > cdOffset - lho - 30)
                throw bad("zip record '" + name + "' lies outside the data area (offset " + lho + ", " + csize + " bytes)");
            if (method == 0 && csize != usize)
                throw bad("stored zip record '" + name + "' has compressed size " + csize + " != size " + usize);
            if (method == 8 && usize > csize * MAX_DEFLATE_RATIO + 1024)
                throw bad("zip record '" + name + "' declares " + usize + " bytes from " + csize
                        + " compressed bytes (zip bomb?)");
            if (entries.put(name, new Entry(name, method, crc, csize, usize, lho)) != null)
                throw bad("zip archive has two records named '" + name + "'");
            p = next;
        }
        if (p != cd.length)
            throw bad("zip central directory has " + (cd.length - p) + " bytes after its " + nTotal + " declared records");
    }

    private static String decodeName(byte[] b, int off, int len) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b, off, len)).toString();
        } catch (CharacterCodingException e) {
            throw bad("zip record name is not valid UTF-8");
        }
    }

    private long dataOffset(Entry e) throws IOException {
        if (e.dataOffset >= 0) return e.dataOffset;
        byte[] h = new byte[30];
        src.readFully(e.localHeaderOffset, h, 0, 30);
        if (le32(h, 0) != LOC_SIG) throw bad("zip local header of '" + e.name + "' damaged (bad signature)");
        int flags = le16(h, 6), method = le16(h, 8);
        int nameLen = le16(h, 26), extraLen = le16(h, 28);
        if (method != e.method) throw bad("zip local header of '" + e.name + "' disagrees on the compression method");
        if ((flags & 1) != 0) throw bad("zip record '" + e.name + "' is encrypted");
        // With a data descriptor (bit 3, as PyTorch writes) the local fields may be zero; otherwise they must agree.
        boolean dd = (flags & 8) != 0;
        long lcrc = le32u(h, 14), lcsize = le32u(h, 18), lusize = le32u(h, 22);
        if (lcrc != e.crc && !(dd && lcrc == 0)) throw bad("zip local header of '" + e.name + "' disagrees on the CRC");
        if ((lcsize != 0xFFFFFFFFL && lcsize != e.compressedSize && !(dd && lcsize == 0))
                || (lusize != 0xFFFFFFFFL && lusize != e.size && !(dd && lusize == 0)))
            throw bad("zip local header of '" + e.name + "' disagrees on the sizes");
        e.hasDescriptor = dd;
        byte[] name = new byte[nameLen];
        src.readFully(e.localHeaderOffset + 30, name, 0, nameLen);
        if (!new String(name, StandardCharsets.UTF_8).equals(e.name))
            throw bad("zip local header name does not match central directory record '" + e.name + "'");
        long off = e.localHeaderOffset + 30 + nameLen + extraLen;
        if (off > centralDirOffset || e.compressedSize > centralDirOffset - off)
            throw bad("zip record '" + e.name + "' data overruns the central directory");
        e.dataOffset = off;
        return off;
    }

    /** Receives the uncompressed bytes of a record in order. */
    interface Sink { void accept(byte[] buf, int len); }

    /**
     * Streams the whole record into {@code sink} in chunks, checking the declared size and the CRC.
     * Never produces more than {@link Entry#size} bytes.
     */
    void read(Entry e, Sink sink) throws IOException {
        long off = dataOffset(e);
        CRC32 crc = new CRC32();
        byte[] buf = new byte[(int) Math.min(1 << 20, Math.max(e.size, 1))];
        if (e.method == 0) {
            long done = 0;
            while (done < e.size) {
                int n = (int) Math.min(buf.length, e.size - done);
                src.readFully(off + done, buf, 0, n);
                crc.update(buf, 0, n);
                sink.accept(buf, n);
                done += n;
            }
        } else {
            if (e.size > deflatedBudget)
                throw bad("zip record '" + e.name + "' would inflate past the limit of " + limits.maxDeflatedBytes()
                        + " bytes of compressed records (zip bomb?)");
            deflatedBudget -= e.size;
            Inflater inf = new Inflater(true);
            try {
                byte[] in = new byte[(int) Math.min(64 << 10, Math.max(e.compressedSize, 1))];
                long readIn = 0, produced = 0;
                while (true) {
                    if (inf.needsInput()) {
                        if (readIn >= e.compressedSize) break;
                        int n = (int) Math.min(in.length, e.compressedSize - readIn);
                        src.readFully(off + readIn, in, 0, n);
                        readIn += n;
                        inf.setInput(in, 0, n);
                    }
                    // Room for one byte beyond the declared size, to detect an overlong stream.
                    int want = (int) Math.min(buf.length, e.size - produced + 1);
                    int n = inf.inflate(buf, 0, want);
                    if (n > 0) {
                        if (produced + n > e.size)
                            throw bad("zip record '" + e.name + "' inflates past its declared size of " + e.size + " bytes (zip bomb?)");
                        crc.update(buf, 0, n);
                        sink.accept(buf, n);
                        produced += n;
                    }
                    if (inf.finished()) break;
                    if (n == 0 && inf.needsDictionary()) throw bad("zip record '" + e.name + "' needs a preset dictionary");
                    if (n == 0 && !inf.needsInput()) throw bad("zip record '" + e.name + "': deflate stream stalled");
                }
                if (!inf.finished()) throw bad("zip record '" + e.name + "': deflate stream truncated");
                if (produced != e.size)
                    throw bad("zip record '" + e.name + "' inflated to " + produced + " bytes, declared " + e.size);
            } catch (DataFormatException ex) {
                throw bad("zip record '" + e.name + "': corrupt deflate data (" + ex.getMessage() + ")");
            } finally {
                inf.end();
            }
        }
        if (crc.getValue() != e.crc)
            throw bad("zip record '" + e.name + "' fails its CRC-32 check (file damaged)");
        if (e.hasDescriptor) checkDescriptor(e, off + e.compressedSize);
    }

    /** The data descriptor after a record: [signature] crc, compressed size, size (4 or 8 bytes each). */
    private void checkDescriptor(Entry e, long at) throws IOException {
        long avail = centralDirOffset - at;
        byte[] d = new byte[(int) Math.max(0, Math.min(24, avail))];
        src.readFully(at, d, 0, d.length);
        int p = d.length >= 4 && le32(d, 0) == 0x08074b50 ? 4 : 0;
        boolean wide = e.size >= 0xFFFFFFFFL || e.compressedSize >= 0xFFFFFFFFL;
        int need = p + (wide ? 20 : 12);
        if (d.length < need) throw bad("zip data descriptor of '" + e.name + "' missing");
        long crc = le32u(d, p);
        long cs = wide ? le64(d, p + 4) : le32u(d, p + 4), us = wide ? le64(d, p + 12) : le32u(d, p + 8);
        if (crc != e.crc || cs != e.compressedSize || us != e.size)
            throw bad("zip data descriptor of '" + e.name + "' disagrees with the central directory");
    }

    /** Reads a whole small record (at most {@code max} bytes) into an array. */
    byte[] readBytes(Entry e, long max) throws IOException {
        if (e.size > max) throw bad("zip record '" + e.name + "' is " + e.size + " bytes (limit " + max + ")");
        byte[] out = new byte[(int) e.size];
        int[] pos = {0};
        read(e, (b, n) -> { System.arraycopy(b, 0, out, pos[0], n); pos[0] += n; });
        return out;
    }

    static int le16(byte[] b, int i) { return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8; }
    static int le32(byte[] b, int i) { return le16(b, i) | le16(b, i + 2) << 16; }
    static long le32u(byte[] b, int i) { return le32(b, i) & 0xFFFFFFFFL; }
    static long le64(byte[] b, int i) { return le32u(b, i) | le32u(b, i + 4) << 32; }
}
