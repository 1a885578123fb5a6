package dev.spikerev.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Storage;
import org.bytedeco.pytorch.Tensor;

/**
 * The writer behind {@link TorchFile#save}: a protocol-2 pickler for the value mapping of {@link TorchFile}
 * plus the STORED zip container ({@code archive/data.pkl}, {@code archive/byteorder}, {@code archive/data/<n>},
 * {@code archive/version}). Tensors become {@code torch._utils._rebuild_tensor_v2(persistent storage, offset,
 * size, stride, False, OrderedDict())}; storages are found by their data pointer, so views of one libtorch
 * storage are written once and stay views. Only globals on the reader's allowlist are ever emitted.
 */
final class TorchWriter {
    private static final int BATCH = 1000;
    private static final int MAX_DEPTH = 1000;

    /** One storage record to write. {@code owner} keeps the memory alive until it is written. */
    private record StorageOut(String key, DType dtype, Tensor owner, Storage storage, long nbytes) {}

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Map<String, Integer> globalMemo = new HashMap<>();
    private final IdentityHashMap<Object, Integer> objectMemo = new IdentityHashMap<>();
    private int memoNext;
    private final List<StorageOut> storages = new ArrayList<>();
    private final Map<Long, StorageOut> storageByAddress = new HashMap<>();
    /** Device storage (data pointer) -&gt; a CPU copy of all of it, so device views of one storage stay views on disk. */
    private final Map<Long, Tensor> hostCopies = new HashMap<>();
    private final Deque<String> path = new ArrayDeque<>();

    private TorchWriter() {}

    static void write(Path file, Object value) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN)
            throw new UnsupportedOperationException("writing checkpoints needs a little-endian machine");
        Path dir = file.toAbsolutePath().getParent();
        try (PointerScope scope = new PointerScope()) {
            TorchWriter w = new TorchWriter();
            byte[] pkl = w.pickle(value);
            Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    ZipWriter zip = new ZipWriter(ch);
                    zip.add("archive/data.pkl", pkl);
                    zip.add("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
                    for (StorageOut s : w.storages) {
                        BytePointer p = s.nbytes == 0 ? new BytePointer() : new BytePointer(s.storage.data());
                        zip.add("archive/data/" + s.key, p, s.nbytes);
                    }
                    zip.add("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
                    zip.finish();
                    ch.force(true);
                }
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    private byte[] pickle(Object value) {
        op(0x80); op(2); // PROTO 2
        value(value, 0);
        op('.');
        return out.toByteArray();
    }

    // ---- values ------------------------------------------------------------------------------------

    private IllegalArgumentException unsupported(String what) {
        String at = path.isEmpty() ? "the top level" : String.join("", path);
        return new IllegalArgumentException("cannot save " + what + " at " + at);
    }

    private void value(Object v, int depth) {
        if (depth > MAX_DEPTH) throw unsupported("values nested deeper than " + MAX_DEPTH + " levels (or a cycle through a tuple)");
        if (v == null) op('N');
        else if (v instanceof Boolean b) op(b ? 0x88 : 0x89);
        else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) integer(((Number) v).longValue());
        else if (v instanceof BigInteger b) bigInteger(b);
        else if (v instanceof Double || v instanceof Float) { op('G'); out.writeBytes(ByteBuffer.allocate(8).putDouble(((Number) v).doubleValue()).array()); }
        else if (v instanceof String s) string(s);
        else if (v instanceof byte[] b) bytes(b);
        else if (v instanceof Tensor t) tensor(t);
        else if (v instanceof PyTuple t) tuple(t.items(), depth);
        else if (v instanceof Map<?, ?> m) map(m, depth);
        else if (v instanceof List<?> l) list(l, depth);
        else if (v instanceof Set<?> s) set(s, depth);
        else if (v instanceof PyObject o) object(o, depth);
        else throw unsupported("a " + v.getClass().getName());
    }

    private void integer(long v) {
        if (v >= 0 && v < 256) { op('K'); op((int) v); }
        else if (v >= 0 && v < 65536) { op('M'); op((int) (v & 0xff)); op((int) (v >>> 8)); }
        else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) { op('J'); le32((int) v); }
        else bigInteger(BigInteger.valueOf(v));
    }

    private void bigInteger(BigInteger b) {
        if (b.bitLength() < 32) { integer(b.longValue()); return; }
        byte[] be = b.toByteArray(); // minimal two's complement, big-endian
        if (be.length > 255) throw unsupported("an integer of " + be.length + " bytes (limit 255)");
        op(0x8a); op(be.length); // LONG1
        for (int i = be.length - 1; i >= 0; i--) op(be[i] & 0xff);
    }

    private void string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X'); // BINUNICODE (torch's weights-only unpickler knows no SHORT_BINUNICODE)
        le32(b.length);
        out.writeBytes(b);
    }

    /** Protocol 2 has no bytes opcode: Python writes {@code _codecs.encode(latin-1 text, 'latin1')}, so do we. */
    private void bytes(byte[] b) {
        global("_codecs", "encode");
        char[] c = new char[b.length];
        for (int i = 0; i < b.length; i++) c[i] = (char) (b[i] & 0xff);
        string(new String(c));
        string("latin1");
        op(0x86); // TUPLE2
        op('R');
    }

    private void global(String module, String name) {
        if (!PickleGlobals.allowed(module, name))
            throw unsupported("global '" + module + "." + name + "' (not on the reader's allowlist)");
        String key = module + "\n" + name;
        Integer m = globalMemo.get(key);
        if (m != null) { get(m); return; }
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        globalMemo.put(key, put());
    }

    private void tuple(List<?> items, int depth) {
        if (items.isEmpty()) { op(')'); return; }
        if (items.size() > 3) op('(');
        for (int i = 0; i < items.size(); i++) {
            path.addLast("[" + i + "]");
            value(items.get(i), depth + 1);
            path.removeLast();
        }
        op(switch (items.size()) { case 1 -> 0x85; case 2 -> 0x86; case 3 -> 0x87; default -> 't'; });
    }

    private boolean memoized(Object o) {
        Integer m = objectMemo.get(o);
        if (m == null) return false;
        get(m);
        return true;
    }

    private void map(Map<?, ?> m, int depth) {
        if (memoized(m)) return;
        if (m instanceof PyOrderedDict) {
            global("collections", "OrderedDict");
            op(')');
            op('R');
        } else op('}');
        objectMemo.put(m, put());
        items(m, depth);
        if (m instanceof PyOrderedDict d && !d.attributes().isEmpty()) {
            op('}');
            put();
            items(d.attributes(), depth);
            op('b'); // BUILD: sets the attributes (e.g. _metadata)
        }
    }

    private void items(Map<?, ?> m, int depth) {
        Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
        while (it.hasNext()) {
            op('(');
            for (int n = 0; n < BATCH && it.hasNext(); n++) {
                Map.Entry<?, ?> e = it.next();
                Object k = e.getKey();
                if (!(k == null || k instanceof String || k instanceof Number || k instanceof Boolean
                        || k instanceof PyTuple || (k instanceof PyObject o && o.isReference())))
                    throw unsupported("a dict key of type " + k.getClass().getName());
                path.addLast(k instanceof String s ? (path.isEmpty() ? s : "." + s) : "[" + k + "]");
                value(k, depth + 1);
                value(e.getValue(), depth + 1);
                path.removeLast();
            }
            op('u'); // SETITEMS
        }
    }

    private void list(List<?> l, int depth) {
        if (memoized(l)) return;
        op(']');
        objectMemo.put(l, put());
        appends(l, depth);
    }

    private void appends(Iterable<?> l, int depth) {
        Iterator<?> it = l.iterator();
        int i = 0;
        while (it.hasNext()) {
            op('(');
            for (int n = 0; n < BATCH && it.hasNext(); n++, i++) {
                path.addLast("[" + i + "]");
                value(it.next(), depth + 1);
                path.removeLast();
            }
            op('e'); // APPENDS
        }
    }

    private void set(Set<?> s, int depth) {
        if (memoized(s)) return;
        global("builtins", "set");
        op(']');
        put();
        appends(s, depth);
        op(0x85);
        op('R');
        objectMemo.put(s, put());
    }

    private void object(PyObject o, int depth) {
        if (o.isReference()) { global(o.module(), o.name()); return; }
        if (memoized(o)) return;
        String q = o.qualifiedName();
        global(o.module(), o.name());
        if (q.equals("collections.Counter")) {
            map(new java.util.LinkedHashMap<>(o.items()), depth + 1);
            op(0x85);
            op('R');
        } else {
            tuple(o.args().items(), depth + 1);
            op(q.equals("argparse.Namespace") || q.equals("yacs.config.CfgNode") ? 0x81 : 'R'); // NEWOBJ : REDUCE
            if (!o.items().isEmpty()) items(o.items(), depth + 1);
        }
        objectMemo.put(o, put());
        if (o.state() != null) {
            value(o.state(), depth + 1);
            op('b');
        }
    }

    private void tensor(Tensor t) {
        if (t == null || t.isNull() || !t.defined()) throw unsupported("an undefined tensor");
        DType dt = DType.of(t.scalar_type());
        if (dt == null) throw unsupported("a tensor of dtype " + t.scalar_type());
        if (t.is_sparse() || t.is_mkldnn() || t.is_quantized()) throw unsupported("a sparse/mkldnn/quantized tensor");
        Tensor src = t;
        boolean own = false;
        if (!t.is_cpu()) {                                            // written from a CPU copy (loads on any machine)
            if (t.is_neg() || t.is_conj()) { src = t.detach().cpu(); own = true; }
            else src = hostView(t);
        }
        if (src.is_neg() || src.is_conj()) { src = src.clone(); own = true; }
        Storage st = src.storage();
        long nbytes = st.nbytes();
        StorageOut so = null;
        long address = nbytes == 0 ? 0 : st.data().address();
        if (!own && nbytes > 0) so = storageByAddress.get(address);
        if (so != null) {
            if (so.dtype != dt)
                throw unsupported("a " + dt.pythonName + " tensor viewing the same storage as a " + so.dtype.pythonName
                        + " tensor (torch.save refuses this too)");
            if (so.nbytes != nbytes) throw unsupported("tensors over overlapping but different storages");
        } else {
            if (nbytes % dt.size != 0) throw unsupported("a storage of " + nbytes + " bytes for " + dt.pythonName);
            so = new StorageOut(Integer.toString(storages.size()), dt, src, st, nbytes);
            storages.add(so);
            if (!own && nbytes > 0) storageByAddress.put(address, so);
        }
        global("torch._utils", "_rebuild_tensor_v2");
        op('(');
        // persistent id ('storage', torch.<X>Storage, key, 'cpu', numel)
        op('(');
        string("storage");
        global("torch", dt.storageClass);
        string(so.key);
        string("cpu");
        integer(nbytes / dt.size);
        op('t');
        op('Q'); // BINPERSID
        integer(src.storage_offset());
        longTuple(TensorInfo.shape(src));
        longTuple(TensorInfo.strides(src));
        op(0x89); // requires_grad False (state dicts hold detached tensors)
        global("collections", "OrderedDict");
        op(')');
        op('R'); // backward hooks: OrderedDict()
        op('t');
        op('R');
    }

    /**
     * A CPU view equal to device tensor {@code t}: the whole device storage is copied once per writer, and {@code t}'s
     * offset, sizes and strides are applied to the copy, so aliased device tensors (shared weights) share one storage
     * in the file, as {@code torch.save} of CUDA tensors gives.
     */
    private Tensor hostView(Tensor t) {
        Storage st = t.storage();
        long nbytes = st.nbytes(), esize = t.element_size();
        if (nbytes == 0 || nbytes % esize != 0) return t.detach().cpu();
        long address = st.data().address();
        Tensor whole = hostCopies.get(address);
        if (whole == null || whole.scalar_type().value != t.scalar_type().value) {
            Tensor flat = org.bytedeco.pytorch.global.torch.empty(new long[]{0}, t.options(), new org.bytedeco.pytorch.MemoryFormatOptional());
            flat.set_(st, 0, new long[]{nbytes / esize}, 1L);
            whole = flat.detach().cpu();
            if (!hostCopies.containsKey(address)) hostCopies.put(address, whole);
        }
        return whole.as_strided(TensorInfo.shape(t), TensorInfo.strides(t), new org.bytedeco.pytorch.LongOptional(t.storage_offset()));
    }

    private void longTuple(long[] v) {
        if (v.length == 0) { op(')'); return; }
        if (v.length > 3) op('(');
        for (long x : v) integer(x);
        op(switch (v.length) { case 1 -> 0x85; case 2 -> 0x86; case 3 -> 0x87; default -> 't'; });
    }

    // ---- opcodes -----------------------------------------------------------------------------------

    private void op(int b) { out.write(b); }

    private void le32(int v) { out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()); }

    /** Memoizes the top of the stack; returns its index. */
    private int put() {
        int i = memoNext++;
        if (i < 256) { op('q'); op(i); } else { op('r'); le32(i); }
        return i;
    }

    private void get(int i) {
        if (i < 256) { op('h'); op(i); } else { op('j'); le32(i); }
    }
}
