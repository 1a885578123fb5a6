package dev.spikerev.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.spikerev.tensor.Natives;
import dev.spikerev.testutil.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Damaged and hostile files, generated here byte by byte: each must end in one
 * {@link CheckpointFormatException} with a message, quickly and without exhausting memory
 * (surefire runs with -Xmx4g).
 */
class CheckpointHostileInputTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static byte[] good;       // a small Java-written checkpoint
    private static byte[] torchMade;  // a PyTorch-written state_dict (fixture)

    @BeforeAll
    static void files() throws IOException {
        Natives.init();
        Path f = Files.createTempFile("hostile-base", ".pth");
        try (PointerScope scope = new PointerScope()) {
            Map<String, Object> v = new LinkedHashMap<>();
            PyOrderedDict sd = new PyOrderedDict();
            sd.put("w", org.bytedeco.pytorch.global.torch.randn(3, 4));
            sd.put("b", org.bytedeco.pytorch.global.torch.randn(4));
            v.put("model", sd);
            v.put("epoch", 3L);
            TorchFile.save(f, v);
            good = Files.readAllBytes(f);
        } finally {
            Files.deleteIfExists(f);
        }
        torchMade = Files.readAllBytes(Fixtures.of("revsnn", "revsresnet_dvs_tiny", "model.pth"));
    }

    // ---- case runner -----------------------------------------------------------------------------

    private static DynamicTest mustFail(String name, byte[] file, String expectInMessage) {
        return dynamicTest(name, () -> assertTimeoutPreemptively(LIMIT, () -> {
            CheckpointFormatException e;
            try (PointerScope scope = new PointerScope()) {
                e = assertThrows(CheckpointFormatException.class, () -> TorchFile.load(file), name);
            }
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "empty message");
            if (expectInMessage != null)
                assertTrue(e.getMessage().contains(expectInMessage), "message '" + e.getMessage() + "' lacks '" + expectInMessage + "'");
        }));
    }

    // ---- building blocks: hand-written pickles in a zip made by java.util.zip (independent of our writer) --

    /** A pickle written opcode by opcode. */
    static final class P {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        P op(int... ops) { for (int o : ops) b.write(o); return this; }
        P raw(byte[] x) { b.writeBytes(x); return this; }
        P str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            op('X'); le32(u.length); return raw(u);
        }
        P le32(long v) { return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array()); }
        P le64(long v) { return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); }
        P integer(long v) {
            if (v >= 0 && v < 256) return op('K', (int) v);
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) { op('J'); return le32(v); }
            op(0x8a, 8); return le64(v);
        }
        P global(String module, String name) {
            op('c'); return raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        P proto() { return op(0x80, 2); }
        P longs(long... v) { op('('); for (long x : v) integer(x); return op('t'); }
        /** _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict()) */
        P tensor(String type, String key, long numel, long offset, long[] size, long[] stride) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            op('(').str("storage").global("torch", type).str(key).str("cpu").integer(numel).op('t', 'Q');
            integer(offset).longs(size).longs(stride).op(0x89);
            global("collections", "OrderedDict").op(')', 'R');
            return op('t', 'R');
        }
        byte[] bytes() { return b.toByteArray(); }
        byte[] stop() { op('.'); return bytes(); }
    }

    static byte[] zip(Map<String, byte[]> records, boolean deflate) {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bo)) {
            for (Map.Entry<String, byte[]> e : records.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                if (!deflate) {
                    ze.setMethod(ZipEntry.STORED);
                    CRC32 c = new CRC32();
                    c.update(e.getValue());
                    ze.setCrc(c.getValue());
                    ze.setSize(e.getValue().length);
                    ze.setCompressedSize(e.getValue().length);
                }
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bo.toByteArray();
    }

    /** A torch-like archive with the given data.pkl and storages. */
    static byte[] archive(byte[] pickle, Map<String, byte[]> storages) {
        Map<String, byte[]> r = new LinkedHashMap<>();
        r.put("archive/data.pkl", pickle);
        r.put("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        storages.forEach((k, v) -> r.put("archive/data/" + k, v));
        r.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        return zip(r, false);
    }

    static byte[] archive(byte[] pickle) { return archive(pickle, Map.of()); }

    // ---- sanity: the building blocks make loadable files --------------------------------------------

    @Test
    void handWrittenValidFilesLoad() {
        try (PointerScope scope = new PointerScope()) {
            byte[] pkl = new P().proto().op('}').str("t").tensor("FloatStorage", "0", 4, 1, new long[] {3}, new long[] {1}).op('s').stop();
            Map<?, ?> m = (Map<?, ?>) TorchFile.load(archive(pkl, Map.of("0", new byte[16])));
            assertEquals("float32[3]", TensorInfo.describe((org.bytedeco.pytorch.Tensor) m.get("t")));
            assertTrue(TorchFile.load(good) instanceof Map);
            assertTrue(TorchFile.load(torchMade) instanceof PyOrderedDict);
        }
    }

    // ---- 1. truncations ----------------------------------------------------------------------------

    @TestFactory
    List<DynamicTest> truncatedFiles() {
        List<DynamicTest> t = new ArrayList<>();
        for (byte[] src : List.of(good, torchMade)) {
            String which = src == good ? "java" : "torch";
            Set<Integer> cuts = new java.util.TreeSet<>(List.of(0, 1, 3, 4, 29, 30, 31, src.length - 1, src.length - 2,
                    src.length - 21, src.length - 22, src.length - 23));
            for (int i = 1; i < 40; i++) cuts.add((int) ((long) src.length * i / 40));
            for (int cut : cuts)
                t.add(mustFail(which + " truncated to " + cut + " bytes", java.util.Arrays.copyOf(src, cut), null));
        }
        return t;
    }

    // ---- 2. bit flips in zip headers (fields whose damage must be detected) -----------------------------

    record Field(String label, int offset, int length) {}

    /** The meaningful header fields of every record of a zip file (not timestamps, versions or attributes). */
    static List<Field> headerFields(byte[] z) {
        List<Field> f = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
        int end = z.length - 22;
        f.add(new Field("EOCD signature", end, 4));
        f.add(new Field("EOCD record count", end + 10, 2));
        f.add(new Field("EOCD directory size", end + 12, 4));
        f.add(new Field("EOCD directory offset", end + 16, 4));
        f.add(new Field("EOCD comment length", end + 20, 2));
        int p = b.getInt(end + 16), cenEnd = p + b.getInt(end + 12);
        String[] cen = {"signature", "method", "crc", "compressed size", "size", "name length", "local offset", "name"};
        int[][] cenAt = {{0, 4}, {10, 2}, {16, 4}, {20, 4}, {24, 4}, {28, 2}, {42, 4}, {46, 0}};
        String[] loc = {"signature", "method", "crc", "compressed size", "size", "name length", "name"};
        int[][] locAt = {{0, 4}, {8, 2}, {14, 4}, {18, 4}, {22, 4}, {26, 2}, {30, 0}};
        while (p < cenEnd) {
            int nameLen = b.getShort(p + 28) & 0xffff, extraLen = b.getShort(p + 30) & 0xffff, cl = b.getShort(p + 32) & 0xffff;
            int lo = b.getInt(p + 42);
            String name = new String(z, p + 46, nameLen, StandardCharsets.UTF_8);
            for (int i = 0; i < cen.length; i++)
                f.add(new Field("central " + cen[i] + " of " + name, p + cenAt[i][0], cenAt[i][1] == 0 ? nameLen : cenAt[i][1]));
            for (int i = 0; i < loc.length; i++)
                f.add(new Field("local " + loc[i] + " of " + name, lo + locAt[i][0],
                        locAt[i][1] == 0 ? b.getShort(lo + 26) & 0xffff : locAt[i][1]));
            p += 46 + nameLen + extraLen + cl;
        }
        return f;
    }

    @TestFactory
    List<DynamicTest> bitFlipsInZipHeaders() {
        List<DynamicTest> t = new ArrayList<>();
        Random rnd = new Random(1);
        for (byte[] src : List.of(good, torchMade)) {
            List<Field> fields = headerFields(src);
            for (int i = 0; i < fields.size(); i++) {
                Field fld = fields.get(i);
                if (src == torchMade && i % 4 != 0) continue; // the fixture has many records: sample them
                byte[] bad = src.clone();
                // numbers: flip in the most significant byte, so the damaged value can never equal the true one
                // by chance (e.g. a zero size that a data descriptor allows, turned into the real size 8)
                boolean number = fld.label().matches(".*(size|crc|offset|count|length).*");
                int at = number ? fld.offset() + fld.length() - 1 : fld.offset() + rnd.nextInt(fld.length());
                int bit = rnd.nextInt(8);
                bad[at] ^= (byte) (1 << bit);
                t.add(mustFail((src == good ? "java " : "torch ") + fld.label() + ": bit " + bit + " of byte " + at, bad, null));
            }
        }
        return t;
    }

    @TestFactory
    List<DynamicTest> bitFlipsInStoredData() {
        // data.pkl and the storages are covered by CRC-32: any flip there is detected
        List<DynamicTest> t = new ArrayList<>();
        Random rnd = new Random(2);
        int dataEnd = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getInt(good.length - 22 + 16);
        for (int i = 0; i < 30; i++) {
            byte[] bad = good.clone();
            int at;
            do { at = rnd.nextInt(dataEnd); } while (inHeader(good, at));
            bad[at] ^= (byte) (1 << rnd.nextInt(8));
            t.add(mustFail("data bit flip at " + at, bad, "CRC"));
        }
        return t;
    }

    private static boolean inHeader(byte[] z, int at) {
        ByteBuffer b = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
        int p = b.getInt(z.length - 22 + 16);
        while (p < z.length - 22) {
            int nameLen = b.getShort(p + 28) & 0xffff, extraLen = b.getShort(p + 30) & 0xffff, cl = b.getShort(p + 32) & 0xffff;
            int loc = b.getInt(p + 42);
            int locEnd = loc + 30 + (b.getShort(loc + 26) & 0xffff) + (b.getShort(loc + 28) & 0xffff);
            if (at >= loc && at < locEnd) return true;
            p += 46 + nameLen + extraLen + cl;
        }
        return false;
    }

    @Test
    void randomBitFlipsAnywhereGiveAFormatErrorOrTheSameContent() {
        // A flip in a field nobody reads (a timestamp, a version, padding) is harmless; anything else is detected.
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            List<String> expected;
            try (PointerScope scope = new PointerScope()) { expected = CanonicalDump.dump(TorchFile.load(good)); }
            Random rnd = new Random(3);
            int detected = 0;
            for (int i = 0; i < 150; i++) {
                byte[] bad = good.clone();
                bad[rnd.nextInt(bad.length)] ^= (byte) (1 << rnd.nextInt(8));
                try (PointerScope scope = new PointerScope()) {
                    Object v = TorchFile.load(bad);
                    assertEquals(expected, CanonicalDump.dump(v), "an undetected flip must not change the content");
                } catch (CheckpointFormatException e) {
                    detected++;
                    assertFalse(e.getMessage().isBlank());
                }
            }
            assertTrue(detected > 100, "most flips must be detected, got " + detected);
        });
    }

    // ---- 3. hostile pickles ------------------------------------------------------------------------------

    private static final Set<Integer> SUPPORTED = Set.of(0x80, 0x95, (int) '.', (int) '}', (int) ']', (int) ')', 0x8f,
            (int) '(', (int) 's', (int) 'u', (int) 'a', (int) 'e', 0x90, 0x91, 0x85, 0x86, 0x87, (int) 't', (int) 'X', 0x8c,
            0x8d, (int) 'B', (int) 'C', 0x8e, (int) 'J', (int) 'K', (int) 'M', 0x8a, 0x8b, (int) 'G', 0x88, 0x89, (int) 'N',
            (int) 'c', 0x93, (int) 'R', 0x81, (int) 'b', (int) 'Q', (int) 'q', (int) 'r', 0x94, (int) 'h', (int) 'j',
            (int) '0', (int) '2', (int) '1');

    @TestFactory
    List<DynamicTest> unknownOpcodes() {
        List<DynamicTest> t = new ArrayList<>();
        for (int op = 0; op < 256; op++) {
            if (SUPPORTED.contains(op)) continue;
            t.add(mustFail(String.format("opcode 0x%02x", op), archive(new P().proto().op('N', op, 0, 0, 0, 0).stop()),
                    String.format("0x%02x", op)));
        }
        return t;
    }

    @TestFactory
    List<DynamicTest> forbiddenGlobals() {
        List<DynamicTest> t = new ArrayList<>();
        String[][] globals = {{"os", "system"}, {"posix", "system"}, {"nt", "system"}, {"builtins", "eval"},
                {"__builtin__", "eval"}, {"builtins", "exec"}, {"builtins", "getattr"}, {"builtins", "__import__"},
                {"builtins", "open"}, {"builtins", "compile"}, {"subprocess", "Popen"}, {"subprocess", "check_output"},
                {"torch.serialization", "load"}, {"torch._utils", "_rebuild_tensor"}, {"numpy.core.multiarray", "_reconstruct"},
                {"copy_reg", "_reconstructor"}, {"pickle", "loads"}, {"shutil", "rmtree"}, {"webbrowser", "open"},
                {"torch", "load"}, {"torch.storage", "UntypedStorage"}, {"collections", "defaultdict"}, {"builtins", "type"}};
        for (String[] g : globals) {
            String shown = (g[0].equals("__builtin__") ? "builtins" : g[0].equals("copy_reg") ? "copyreg" : g[0]) + "." + g[1];
            byte[] pkl = new P().proto().global(g[0], g[1]).str("echo pwned").op(0x85, 'R').stop();
            t.add(mustFail("GLOBAL " + shown, archive(pkl), "refusing global '" + shown + "'"));
            byte[] stack = new P().proto().str(g[0]).str(g[1]).op(0x93).str("x").op(0x85, 'R').stop();
            t.add(mustFail("STACK_GLOBAL " + shown, archive(stack), "refusing global '" + shown + "'"));
        }
        // allow-listed names that may only be values, never called
        t.add(mustFail("calling builtins.input", archive(new P().proto().global("__builtin__", "input").op(')', 'R').stop()), "builtins.input"));
        t.add(mustFail("calling a storage class", archive(new P().proto().global("torch", "FloatStorage").op(')', 'R').stop()), "torch.FloatStorage"));
        t.add(mustFail("calling a dtype", archive(new P().proto().global("torch", "float32").op(')', 'R').stop()), "torch.float32"));
        t.add(mustFail("global with a newline trick", archive(new P().proto().op('c').raw("os\nsystem\n".getBytes()).op(')', 'R').stop()), "os.system"));
        t.add(mustFail("global name with odd bytes", archive(new P().proto().op('c').raw("o s\nsys tem\n".getBytes()).stop()), "GLOBAL"));
        t.add(mustFail("unterminated global", archive(new P().proto().op('c').raw("x".repeat(1000).getBytes()).stop()), "GLOBAL"));
        return t;
    }

    @TestFactory
    List<DynamicTest> malformedPickles() {
        List<DynamicTest> t = new ArrayList<>();
        t.add(mustFail("empty data.pkl", archive(new byte[0]), "STOP"));
        t.add(mustFail("no STOP", archive(new P().proto().op('N').bytes()), "STOP"));
        t.add(mustFail("STOP on empty stack", archive(new P().proto().stop()), null));
        t.add(mustFail("SETITEM underflow", archive(new P().proto().op('s').stop()), "underflow"));
        t.add(mustFail("APPENDS without MARK", archive(new P().proto().op(']', 'e').stop()), "MARK"));
        t.add(mustFail("pop below MARK", archive(new P().proto().op('}', '(', 's').stop()), "underflow"));
        t.add(mustFail("SETITEMS odd", archive(new P().proto().op('}', '(', 'N', 'u').stop()), "odd"));
        t.add(mustFail("BINGET unknown", archive(new P().proto().op('h', 7).stop()), "memo"));
        t.add(mustFail("LONG_BINGET huge", archive(new P().proto().op('j').le32(0xFFFFFFF0L).stop()), "memo"));
        t.add(mustFail("SETITEM on list", archive(new P().proto().op(']', 'N', 'N', 's').stop()), "SETITEM"));
        t.add(mustFail("APPEND on dict", archive(new P().proto().op('}', 'N', 'a').stop()), "APPEND"));
        t.add(mustFail("APPEND on tuple", archive(new P().proto().op(')', 'N', 'a').stop()), "APPEND"));
        t.add(mustFail("BUILD on dict", archive(new P().proto().op('}', '}', 'b').stop()), "BUILD"));
        t.add(mustFail("BUILD on str", archive(new P().proto().str("x").op('}', 'b').stop()), "BUILD"));
        t.add(mustFail("REDUCE non-tuple args", archive(new P().proto().global("collections", "OrderedDict").op(']', 'R').stop()), "tuple"));
        t.add(mustFail("REDUCE on str", archive(new P().proto().str("os.system").op(')', 'R').stop()), "REDUCE"));
        t.add(mustFail("NEWOBJ on dict", archive(new P().proto().op('}', ')', 0x81).stop()), "NEWOBJ"));
        t.add(mustFail("BINUNICODE 4 GB", archive(new P().proto().op('X').le32(0xFFFFFFFFL).raw(new byte[10]).stop()), "truncated"));
        t.add(mustFail("BINUNICODE8 2^62", archive(new P().proto().op(0x8d).le64(1L << 62).stop()), "truncated"));
        t.add(mustFail("BINUNICODE8 negative", archive(new P().proto().op(0x8d).le64(-5).stop()), "negative"));
        t.add(mustFail("BINBYTES 4 GB", archive(new P().proto().op('B').le32(0xFFFFFFFFL).stop()), "truncated"));
        t.add(mustFail("LONG4 huge", archive(new P().proto().op(0x8b).le32(1 << 30).stop()), "integer"));
        t.add(mustFail("invalid UTF-8", archive(new P().proto().op('X').le32(2).op(0xc3, 0x28).stop()), "UTF-8"));
        t.add(mustFail("list as dict key", archive(new P().proto().op('}', ']', 'N', 's').stop()), "key"));
        t.add(mustFail("dict in tuple key", archive(new P().proto().op('}', '}', 0x85, 'N', 's').stop()), "key"));
        t.add(mustFail("unsupported protocol", archive(new P().op(0x80, 9, 'N', '.').bytes()), "protocol"));
        t.add(mustFail("negative FRAME", archive(new P().proto().op(0x95).le64(-1).op('N').stop()), "FRAME"));
        t.add(mustFail("persistent id not a storage", archive(new P().proto().str("module").op('Q').stop()), "persistent id"));
        t.add(mustFail("bare storage", archive(new P().proto().op('(').str("storage").global("torch", "FloatStorage")
                .str("0").str("cpu").integer(1).op('t', 'Q').stop(), Map.of("0", new byte[4])), "storage"));
        t.add(mustFail("OrderedDict of junk", archive(new P().proto().global("collections", "OrderedDict").op(']', 'N', 'a', 0x85, 'R').stop()), "pairs"));
        t.add(mustFail("numpy scalar size mismatch", archive(new P().proto().global("numpy.core.multiarray", "scalar")
                .global("numpy", "dtype").str("f8").op(0x89, 0x88, 0x87, 'R')
                .global("_codecs", "encode").str("abc").str("latin1").op(0x86, 'R').op(0x86, 'R').stop()), "numpy"));
        t.add(mustFail("codecs with unknown encoding", archive(new P().proto().global("_codecs", "encode").str("x").str("rot13").op(0x86, 'R').stop()), "encoding"));
        t.add(mustFail("torch.Size of strings", archive(new P().proto().global("torch", "Size").op('(').str("a").op('t', 0x85, 'R').stop()), "torch.Size"));
        return t;
    }

    @TestFactory
    List<DynamicTest> resourceExhaustion() {
        List<DynamicTest> t = new ArrayList<>();
        P deep = new P().proto();
        for (int i = 0; i < 5000; i++) deep.op(']');
        for (int i = 0; i < 4999; i++) deep.op('a');
        t.add(mustFail("lists nested 5000 deep", archive(deep.stop()), "nested"));
        P deepDict = new P().proto().op('}');
        for (int i = 0; i < 3000; i++) deepDict.op('K', 1, '}');
        for (int i = 0; i < 3000; i++) deepDict.op('s');
        t.add(mustFail("dicts nested 3000 deep", archive(deepDict.stop()), "nested"));
        P tuples = new P().proto().op(')');
        for (int i = 0; i < 200; i++) tuples.op(0x85);
        t.add(mustFail("tuples nested 200 deep", archive(tuples.stop()), "nested"));
        P marks = new P().proto();
        for (int i = 0; i < (1 << 21); i++) marks.op('(');
        t.add(mustFail("2M MARKs", archive(marks.op('N').stop()), "MARK"));
        P stack = new P().proto();
        for (int i = 0; i < (1 << 21); i++) stack.op('N');
        t.add(mustFail("2M values on the stack", archive(stack.stop()), "stack"));
        P memo = new P().proto().op('N');
        for (int i = 0; i < 4_300_000; i++) memo.op('r').le32(i);
        t.add(mustFail("4.3M memo entries", archive(memo.stop()), "memo"));
        t.add(mustFail("self-containing list", archive(new P().proto().op(']', 'q', 0, 'h', 0, 'a').stop()), "cycle"));
        t.add(mustFail("dict containing itself", archive(new P().proto().op('}', 'q', 0, 'K', 1, 'h', 0, 's').stop()), "cycle"));
        return t;
    }

    // ---- 4. tensors whose storage does not cover the view -------------------------------------------------

    @TestFactory
    List<DynamicTest> badTensors() {
        List<DynamicTest> t = new ArrayList<>();
        Map<String, byte[]> s16 = Map.of("0", new byte[16]);
        Object[][] cases = {
                {"view past storage end", "FloatStorage", 4L, 0L, new long[] {5}, new long[] {1}, s16, "reaches element"},
                {"offset past end", "FloatStorage", 4L, 2L, new long[] {3}, new long[] {1}, s16, "reaches element"},
                {"stride past end", "FloatStorage", 4L, 0L, new long[] {2, 2}, new long[] {3, 1}, s16, "reaches element"},
                {"negative size", "FloatStorage", 4L, 0L, new long[] {-1}, new long[] {1}, s16, "negative"},
                {"negative stride", "FloatStorage", 4L, 3L, new long[] {2}, new long[] {-1}, s16, "negative"},
                {"negative offset", "FloatStorage", 4L, -1L, new long[] {1}, new long[] {1}, s16, "negative"},
                {"size overflow", "FloatStorage", 4L, 0L, new long[] {1L << 62, 1L << 62}, new long[] {1, 1}, s16, "overflow"},
                {"extent overflow", "FloatStorage", 4L, 0L, new long[] {3}, new long[] {Long.MAX_VALUE}, s16, "overflow"},
                {"huge declared numel", "FloatStorage", 1L << 60, 0L, new long[] {4}, new long[] {1}, s16, "record has"},
                {"declared numel overflows bytes", "DoubleStorage", 1L << 61, 0L, new long[] {4}, new long[] {1}, s16, "overflows"},
                {"numel beyond record", "DoubleStorage", 4L, 0L, new long[] {4}, new long[] {1}, s16, "record has"},
                {"missing storage record", "FloatStorage", 4L, 0L, new long[] {4}, new long[] {1}, Map.of(), "missing"},
                {"empty view offset beyond", "FloatStorage", 4L, 9L, new long[] {0}, new long[] {1}, s16, "beyond"},
                {"rank mismatch", "FloatStorage", 4L, 0L, new long[] {2, 2}, new long[] {1}, s16, "strides"},
                {"100 dims", "FloatStorage", 4L, 0L, new long[100], new long[100], s16, "dimensions"},
                {"complex storage", "ComplexFloatStorage", 2L, 0L, new long[] {2}, new long[] {1}, s16, "refusing global"},
        };
        for (Object[] c : cases) {
            byte[] pkl = new P().proto().tensor((String) c[1], "0", (Long) c[2], (Long) c[3], (long[]) c[4], (long[]) c[5]).stop();
            @SuppressWarnings("unchecked") Map<String, byte[]> st = (Map<String, byte[]>) c[6];
            t.add(mustFail((String) c[0], archive(pkl, st), (String) c[7]));
        }
        t.add(mustFail("storage key with a path", archive(new P().proto().tensor("FloatStorage", "../../etc/passwd", 1, 0,
                new long[] {1}, new long[] {1}).stop()), "storage key"));
        t.add(mustFail("offset is a string", archive(new P().proto().global("torch._utils", "_rebuild_tensor_v2").op('(')
                .op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).op('t', 'Q')
                .str("0").longs(4).longs(1).op(0x89, '}', 't', 'R').stop(), s16), "offset"));
        t.add(mustFail("backward hooks", archive(new P().proto().global("torch._utils", "_rebuild_tensor_v2").op('(')
                .op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).op('t', 'Q')
                .integer(0).longs(4).longs(1).op(0x89).op('}', 'K', 1, 'N', 's').op('t', 'R').stop(), s16), "hooks"));
        t.add(mustFail("wrong argument count", archive(new P().proto().global("torch._utils", "_rebuild_tensor_v2")
                .op('(', 'N', 't', 'R').stop()), "arguments"));
        return t;
    }

    // ---- 5. zip bombs and container tricks ---------------------------------------------------------------

    /** Raw deflate data that inflates to {@code mb} MiB of zeros, built without compressing it all. */
    static byte[] zerosDeflated(int mb) {
        Deflater d = new Deflater(9, true);
        d.setInput(new byte[1 << 20]);
        byte[] buf = new byte[1 << 16];
        int n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
        byte[] chunk = java.util.Arrays.copyOf(buf, n);
        d.end();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (int i = 0; i < mb; i++) o.writeBytes(chunk);
        o.write(0x03); o.write(0x00); // final, empty fixed-Huffman block
        return o.toByteArray();
    }

    /** A one-record zip with a hand-made central directory (declared sizes and CRC chosen freely). */
    static byte[] rawZip(String name, int method, byte[] data, long declaredSize, long crc) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        boolean z64 = declaredSize >= 0xFFFFFFFFL;
        ByteBuffer b = ByteBuffer.allocate(30 + n.length + data.length + 46 + n.length + (z64 ? 12 : 0) + 22)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) method).putInt(0).putInt((int) crc)
                .putInt(data.length).putInt((int) (z64 ? 0xFFFFFFFFL : declaredSize)).putShort((short) n.length).putShort((short) 0)
                .put(n).put(data);
        int cen = b.position();
        b.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) method).putInt(0)
                .putInt((int) crc).putInt(data.length).putInt((int) (z64 ? 0xFFFFFFFFL : declaredSize))
                .putShort((short) n.length).putShort((short) (z64 ? 12 : 0)).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putInt(0).putInt(0).put(n);
        if (z64) b.putShort((short) 1).putShort((short) 8).putLong(declaredSize);
        int cenLen = b.position() - cen;
        b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) 1).putShort((short) 1)
                .putInt(cenLen).putInt(cen).putShort((short) 0);
        return b.array();
    }

    @TestFactory
    List<DynamicTest> zipBombsAndContainerTricks() {
        List<DynamicTest> t = new ArrayList<>();
        byte[] zeros2g = zerosDeflated(2048);
        t.add(mustFail("small record inflating to 2 GiB", rawZip("archive/data.pkl", 8, zeros2g, 1000, 0), "declared size"));
        t.add(mustFail("record declaring 3 GB from 1 KB", rawZip("archive/data.pkl", 8, new byte[1024], 3_000_000_000L, 0), "zip bomb"));
        t.add(mustFail("record declaring 2^40 bytes (ZIP64)", rawZip("archive/data.pkl", 8, new byte[1024], 1L << 40, 0), "zip bomb"));
        t.add(mustFail("data.pkl above the pickle limit", rawZip("archive/data.pkl", 8, zeros2g, 2048L << 20, 0), "limit"));
        t.add(mustFail("stored record with wrong size", rawZip("archive/data.pkl", 0, new P().proto().op('N').stop(), 1000, 0), "size"));
        t.add(mustFail("unknown compression method", rawZip("archive/data.pkl", 12, new byte[10], 10, 0), "method"));
        byte[] pkl = new P().proto().op('N').stop();
        CRC32 c = new CRC32();
        c.update(pkl);
        t.add(mustFail("wrong CRC", rawZip("archive/data.pkl", 0, pkl, pkl.length, c.getValue() ^ 1), "CRC"));
        // a storage record that inflates past its declared size
        byte[] store = new P().proto().tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1}).stop();
        Map<String, byte[]> recs = new LinkedHashMap<>();
        recs.put("archive/data.pkl", store);
        recs.put("archive/data/0", new byte[8]);
        t.add(mustFail("deflated zip with a storage shorter than the view", zip(recs, true), "record has"));
        t.add(mustFail("no data.pkl", zip(Map.of("archive/other.pkl", pkl), false), "data.pkl"));
        Map<String, byte[]> two = new LinkedHashMap<>();
        two.put("a/data.pkl", pkl);
        two.put("b/data.pkl", pkl);
        t.add(mustFail("two data.pkl", zip(two, false), "two data.pkl"));
        Map<String, byte[]> script = new LinkedHashMap<>();
        script.put("archive/data.pkl", pkl);
        script.put("archive/constants.pkl", pkl);
        t.add(mustFail("TorchScript archive", zip(script, false), "TorchScript"));
        Map<String, byte[]> big = new LinkedHashMap<>();
        big.put("archive/data.pkl", pkl);
        big.put("archive/byteorder", "big".getBytes());
        t.add(mustFail("big-endian", zip(big, false), "byte order"));
        byte[] manyEntries = good.clone();
        ByteBuffer.wrap(manyEntries).order(ByteOrder.LITTLE_ENDIAN).putShort(manyEntries.length - 22 + 10, (short) 60000)
                .putShort(manyEntries.length - 22 + 8, (short) 60000);
        t.add(mustFail("EOCD claims 60000 records", manyEntries, "records"));
        byte[] comment = java.util.Arrays.copyOf(good, good.length + 5);
        t.add(mustFail("trailing garbage", comment, "end-of-central-directory"));
        return t;
    }

    // ---- 6. not a torch.save zip at all ---------------------------------------------------------------------

    @TestFactory
    List<DynamicTest> legacyAndForeignFiles() {
        List<DynamicTest> t = new ArrayList<>();
        t.add(mustFail("legacy pickle format", new P().proto().op('}').stop(), "torch.save(torch.load('old.pth'), 'new.pth')"));
        byte[] tar = new byte[1024];
        System.arraycopy("ustar".getBytes(), 0, tar, 257, 5);
        t.add(mustFail("legacy tar format", tar, "legacy tar"));
        t.add(mustFail("empty file", new byte[0], "empty"));
        t.add(mustFail("text file", "hello world, this is not a checkpoint".getBytes(), "not a torch.save"));
        byte[] noise = new byte[4096];
        new Random(5).nextBytes(noise);
        noise[0] = 'P'; noise[1] = 'K'; noise[2] = 3; noise[3] = 4;
        t.add(mustFail("random bytes behind a zip magic", noise, "end-of-central-directory"));
        return t;
    }
}
