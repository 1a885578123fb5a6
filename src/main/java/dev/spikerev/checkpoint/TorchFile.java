package dev.spikerev.checkpoint;

import static org.bytedeco.pytorch.global.torch.empty;

import dev.spikerev.tensor.Natives;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Reads and writes PyTorch {@code torch.save} files (the zip format of torch ≥ 1.6) from Java, without Python.
 *
 * <h2>Value mapping</h2>
 * <table>
 * <tr><th>Python</th><th>Java</th></tr>
 * <tr><td>dict</td><td>{@link java.util.LinkedHashMap} (insertion order kept)</td></tr>
 * <tr><td>collections.OrderedDict</td><td>{@link PyOrderedDict} (a LinkedHashMap)</td></tr>
 * <tr><td>list</td><td>{@link ArrayList}</td></tr>
 * <tr><td>tuple, torch.Size</td><td>{@link PyTuple}</td></tr>
 * <tr><td>str / int / float / bool / None / bytes</td><td>String / Long (BigInteger if larger) / Double / Boolean / null / byte[]</td></tr>
 * <tr><td>set, frozenset</td><td>{@link java.util.LinkedHashSet}</td></tr>
 * <tr><td>tensor, nn.Parameter</td><td>{@link Tensor} on the CPU, with the file's dtype, shape, strides and
 *     storage offset; tensors that share a storage in the file share memory in libtorch
 *     ({@code requires_grad} is not restored)</td></tr>
 * <tr><td>numpy scalar</td><td>Double / Long / Boolean</td></tr>
 * <tr><td>argparse.Namespace, yacs CfgNode, Counter, torch.device, builtins.input, torch.float32 ...</td>
 *     <td>{@link PyObject} (inert record)</td></tr>
 * </table>
 * Writing accepts the same types plus Integer/Short/Byte/Float and any {@link Map}/{@link List}/{@link Set};
 * only a {@link PyOrderedDict} is written as an OrderedDict, every other map as a dict
 * ({@link #saveStateDict} wraps for you).
 *
 * <h2>Errors</h2>
 * Anything wrong with the file's content — damaged zip, hostile pickle, tensor views outside their storage,
 * legacy format — ends in one {@link CheckpointFormatException} whose message starts with the file name.
 * I/O failures (missing file, permissions) are {@link UncheckedIOException}.
 *
 * <h2>Memory</h2>
 * Loaded tensors belong to the caller: if {@code load} runs inside a {@link PointerScope}, they are attached
 * to it (and freed when it closes); otherwise close them or leave them to the GC.
 */
public final class TorchFile {
    private TorchFile() {}

    private static final String LEGACY_HINT = " Convert it with a current PyTorch: "
            + "python -c \"import torch; torch.save(torch.load('old.pth'), 'new.pth')\"";

    /** Loads a torch.save file. */
    public static Object load(Path path) { return load(path, Limits.DEFAULT); }

    public static Object load(Path path, Limits limits) {
        Natives.init();
        ZipArchive.Source src;
        try {
            src = new ZipArchive.FileSource(path);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
        return load(src, path.toString(), limits);
    }

    /** Loads a torch.save file held in memory. */
    public static Object load(byte[] data) {
        Natives.init();
        return load(new ZipArchive.ArraySource(data), "<bytes>", Limits.DEFAULT);
    }

    /** Reads the stream to its end (at most 2 GB) and loads it. */
    public static Object load(InputStream in) {
        byte[] data;
        try {
            data = in.readNBytes(Integer.MAX_VALUE - 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return load(data);
    }

    private static Object load(ZipArchive.Source src, String name, Limits limits) {
        Object result;
        List<Tensor> owned = new ArrayList<>();
        try (src; PointerScope scope = new PointerScope()) {
            checkMagic(src);
            try (ZipArchive zip = new ZipArchive(src, limits)) {
                result = read(zip, limits);
            }
            // Tensors leave the scope: one extra reference each, so closing the scope does not free them.
            collectTensors(result, Collections.newSetFromMap(new IdentityHashMap<>()), owned);
            for (Tensor t : owned) t.retainReference();
        } catch (CheckpointFormatException e) {
            throw new CheckpointFormatException(name + ": " + e.getMessage(), e);
        } catch (EOFException e) {
            throw new CheckpointFormatException(name + ": unexpected end of file (truncated)", e);
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // Anything else thrown while reading hostile content (libtorch errors included) is a format error too.
            throw new CheckpointFormatException(name + ": malformed checkpoint (" + e.getClass().getSimpleName()
                    + ": " + firstLine(e.getMessage()) + ")", e);
        } catch (StackOverflowError e) {
            throw new CheckpointFormatException(name + ": values nested too deeply", e);
        }
        // Hand the tensors to the caller's PointerScope, if there is one; else the caller owns them.
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            for (Tensor t : owned) {
                outer.attach(t);
                t.releaseReference();
            }
        }
        return result;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static void checkMagic(ZipArchive.Source src) throws IOException {
        int n = (int) Math.min(src.size(), 512);
        byte[] head = new byte[n];
        src.readFully(0, head, 0, n);
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return;
        if (n >= 1 && (head[0] & 0xff) == 0x80)
            throw new CheckpointFormatException("legacy (pre-1.6) torch.save format (a bare pickle), which spikerev does not read." + LEGACY_HINT);
        if (n >= 262 && new String(head, 257, 5, StandardCharsets.US_ASCII).equals("ustar"))
            throw new CheckpointFormatException("legacy tar torch.save format (torch < 0.4), which spikerev does not read." + LEGACY_HINT);
        if (n == 0) throw new CheckpointFormatException("empty file");
        throw new CheckpointFormatException("not a torch.save zip file (does not start with a zip header)");
    }

    private static Object read(ZipArchive zip, Limits limits) throws IOException {
        ZipArchive.Entry pkl = null;
        for (ZipArchive.Entry e : zip.entries()) {
            String n = e.name;
            int slash = n.indexOf('/');
            if (slash > 0 && n.substring(slash + 1).equals("data.pkl")) {
                if (pkl != null) throw new CheckpointFormatException("zip has two data.pkl records ('" + pkl.name + "', '" + n + "')");
                pkl = e;
            }
        }
        if (pkl == null) throw new CheckpointFormatException("no <archive>/data.pkl record: not a torch.save file");
        String prefix = pkl.name.substring(0, pkl.name.length() - "data.pkl".length());
        if (zip.entry(prefix + "constants.pkl") != null || zip.entry(prefix + "code/") != null)
            throw new CheckpointFormatException("this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint");
        ZipArchive.Entry order = zip.entry(prefix + "byteorder");
        if (order != null) {
            String bo = new String(zip.readBytes(order, 16), StandardCharsets.US_ASCII).trim();
            if (!bo.equals("little")) throw new CheckpointFormatException("unsupported byte order '" + bo + "' (only little)");
        }
        byte[] pickle = zip.readBytes(pkl, limits.maxPickleBytes());
        StorageLoader storages = new StorageLoader(zip, prefix);
        Object result = new Unpickler(pickle, limits, storages).load();
        // Verify the CRC of every record not read yet, so damage anywhere in the file is reported.
        for (ZipArchive.Entry e : zip.entries()) {
            if (e != pkl && e != order && !storages.read.contains(e.name)) zip.read(e, (b, len) -> {});
        }
        return result;
    }

    /** Reads each storage record once into a uint8 tensor; typed views of it become the tensors. */
    private static final class StorageLoader implements Unpickler.TensorFactory {
        private final ZipArchive zip;
        private final String prefix;
        private final Map<String, Tensor> bases = new HashMap<>();
        final Set<String> read = new java.util.HashSet<>();

        StorageLoader(ZipArchive zip, String prefix) { this.zip = zip; this.prefix = prefix; }

        @Override public Tensor create(Unpickler.StorageRef ref, long offset, long[] size, long[] stride) {
            Tensor base = bases.get(ref.key());
            if (base == null) {
                base = readBase(ref.key());
                bases.put(ref.key(), base);
            }
            long need;
            try {
                need = Math.multiplyExact(ref.numel(), (long) ref.dtype().size);
            } catch (ArithmeticException e) {
                throw new CheckpointFormatException("storage '" + ref.key() + "' size overflows");
            }
            if (need > base.numel())
                throw new CheckpointFormatException("storage '" + ref.key() + "' declares " + ref.numel() + " "
                        + ref.dtype().pythonName + " elements (" + need + " bytes) but its record has " + base.numel() + " bytes");
            Tensor flat = base.narrow(0, 0, need).view(ref.dtype().scalarType);
            return flat.as_strided(size, stride, new LongOptional(offset));
        }

        private Tensor readBase(String key) {
            String name = prefix + "data/" + key;
            ZipArchive.Entry e = zip.entry(name);
            if (e == null) throw new CheckpointFormatException("storage record '" + name + "' is missing");
            Tensor base = empty(new long[] {e.size}, new TensorOptions(ScalarType.Byte), new MemoryFormatOptional());
            if (e.size > 0) {
                BytePointer dst = new BytePointer(base.data_ptr()).capacity(e.size);
                long[] at = {0};
                try {
                    zip.read(e, (buf, n) -> {
                        dst.position(at[0]).put(buf, 0, n);
                        at[0] += n;
                    });
                } catch (IOException ex) {
                    throw new UncheckedIOException(ex);
                }
            }
            read.add(name);
            return base;
        }
    }

    private static void collectTensors(Object o, Set<Object> seen, List<Tensor> out) {
        if (o == null || o instanceof String || o instanceof Number || o instanceof Boolean || !seen.add(o)) return;
        if (o instanceof Tensor t) out.add(t);
        else if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) { collectTensors(e.getKey(), seen, out); collectTensors(e.getValue(), seen, out); }
            if (o instanceof PyOrderedDict d) for (Object v : d.attributes().values()) collectTensors(v, seen, out);
        } else if (o instanceof Iterable<?> l) for (Object x : l) collectTensors(x, seen, out);
        else if (o instanceof PyTuple t) for (Object x : t.items()) collectTensors(x, seen, out);
        else if (o instanceof PyObject p && !p.isReference()) {
            collectTensors(p.args(), seen, out);
            collectTensors(p.state(), seen, out);
            collectTensors(p.items(), seen, out);
        }
    }

    // ---- writing -----------------------------------------------------------------------------------

    /**
     * Writes {@code value} in torch.save's format so that Python's {@code torch.load(path, weights_only=True)}
     * reads it (as long as it only holds tensors, containers, scalars and strings). The file is written to a
     * temporary file in the same directory and moved into place atomically. Tensors that share a libtorch
     * storage are written once and stay shared.
     */
    public static void save(Path path, Object value) {
        Natives.init();
        TorchWriter.write(path, value);
    }

    /** Writes a state_dict as PyTorch does: a {@code collections.OrderedDict} of name → tensor. */
    public static void saveStateDict(Path path, Map<String, Tensor> stateDict) {
        save(path, StateDicts.ordered(stateDict));
    }
}
