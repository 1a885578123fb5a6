package dev.spikerev.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import org.bytedeco.javacpp.BytePointer;

/**
 * Writes an uncompressed (STORED) zip as torch.save does: each record's data starts on a 64-byte boundary
 * (padding in a local extra field), fixed timestamps, ZIP64 records when sizes, offsets or the record count
 * need them. Native memory is streamed in chunks and the CRC patched into the local header afterwards.
 */
final class ZipWriter {
    private static final int ALIGN = 64;
    private static final long MAX32 = 0xFFFFFFFFL;
    private static final int DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01, as torch writes

    private record Record(byte[] name, long crc, long size, long offset) {}

    private final FileChannel ch;
    private long pos;
    private final List<Record> records = new ArrayList<>();

    ZipWriter(FileChannel ch) { this.ch = ch; }

    void add(String name, byte[] data) throws IOException {
        CRC32 crc = new CRC32();
        crc.update(data);
        long off = writeLocalHeader(name, data.length, crc.getValue());
        write(ByteBuffer.wrap(data));
        records.add(new Record(name.getBytes(StandardCharsets.UTF_8), crc.getValue(), data.length, off));
    }

    /** Adds {@code nbytes} bytes of native memory starting at {@code src}. */
    void add(String name, BytePointer src, long nbytes) throws IOException {
        long off = writeLocalHeader(name, nbytes, 0);
        CRC32 crc = new CRC32();
        byte[] chunk = new byte[(int) Math.min(1 << 20, Math.max(nbytes, 1))];
        long done = 0;
        while (done < nbytes) {
            int n = (int) Math.min(chunk.length, nbytes - done);
            src.position(done).get(chunk, 0, n);
            crc.update(chunk, 0, n);
            write(ByteBuffer.wrap(chunk, 0, n));
            done += n;
        }
        ByteBuffer c = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).flip();
        while (c.hasRemaining()) ch.write(c, off + 14 + c.position());
        records.add(new Record(name.getBytes(StandardCharsets.UTF_8), crc.getValue(), nbytes, off));
    }

    private long writeLocalHeader(String name, long size, long crc) throws IOException {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        boolean z64 = size >= MAX32;
        int z64Len = z64 ? 20 : 0;
        long base = pos + 30 + n.length + z64Len;
        int pad = (int) ((ALIGN - base % ALIGN) % ALIGN);
        if (pad > 0 && pad < 4) pad += ALIGN;
        ByteBuffer h = le(30 + n.length + z64Len + pad);
        h.putInt(0x04034b50).putShort((short) (z64 ? 45 : 20)).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putShort((short) DOS_DATE).putInt((int) crc)
                .putInt((int) (z64 ? MAX32 : size)).putInt((int) (z64 ? MAX32 : size))
                .putShort((short) n.length).putShort((short) (z64Len + pad)).put(n);
        if (z64) h.putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
        if (pad > 0) {
            h.putShort((short) 0x4246).putShort((short) (pad - 4)); // "FB" padding field, as PyTorch uses
            for (int i = 0; i < pad - 4; i++) h.put((byte) 'Z');
        }
        long off = pos;
        write(h.flip());
        return off;
    }

    void finish() throws IOException {
        long cenStart = pos;
        for (Record r : records) {
            boolean bigSize = r.size >= MAX32, bigOff = r.offset >= MAX32;
            int z64Len = (bigSize ? 16 : 0) + (bigOff ? 8 : 0);
            int extra = z64Len > 0 ? 4 + z64Len : 0;
            ByteBuffer c = le(46 + r.name.length + extra);
            c.putInt(0x02014b50).putShort((short) (extra > 0 ? 45 : 20)).putShort((short) (extra > 0 ? 45 : 20))
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) DOS_DATE)
                    .putInt((int) r.crc).putInt((int) (bigSize ? MAX32 : r.size)).putInt((int) (bigSize ? MAX32 : r.size))
                    .putShort((short) r.name.length).putShort((short) extra).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt((int) (bigOff ? MAX32 : r.offset))
                    .put(r.name);
            if (extra > 0) {
                c.putShort((short) 1).putShort((short) z64Len);
                if (bigSize) c.putLong(r.size).putLong(r.size);
                if (bigOff) c.putLong(r.offset);
            }
            write(c.flip());
        }
        long cenSize = pos - cenStart;
        long count = records.size();
        boolean z64 = count >= 0xFFFF || cenStart >= MAX32 || cenSize >= MAX32;
        if (z64) {
            long z64Pos = pos;
            ByteBuffer e = le(56 + 20);
            e.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(count).putLong(count).putLong(cenSize).putLong(cenStart);
            e.putInt(0x07064b50).putInt(0).putLong(z64Pos).putInt(1);
            write(e.flip());
        }
        ByteBuffer end = le(22);
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) (z64 ? 0xFFFF : count)).putShort((short) (z64 ? 0xFFFF : count))
                .putInt((int) (z64 ? MAX32 : cenSize)).putInt((int) (z64 ? MAX32 : cenStart)).putShort((short) 0);
        write(end.flip());
    }

    private static ByteBuffer le(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }

    private void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) pos += ch.write(b, pos);
    }
}
