package dev.spikerev.checkpoint;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.bytedeco.pytorch.Tensor;

/**
 * The weights-only allowlist of {@link Unpickler} (also what {@link TorchWriter} may write) and the calls it permits:
 * GLOBAL resolves to an inert {@link PyObject} reference or is refused; REDUCE / NEWOBJ build plain values (OrderedDict,
 * set, torch.Size, bytes, numpy scalars, record-only Namespace / CfgNode) or tensors, and nothing read from a file
 * selects a Java class or runs code. See {@link Unpickler} for the list.
 */
final class PickleGlobals {
    private PickleGlobals() {}

    /** numpy.dtype as needed to decode a numpy scalar. */
    static final class NumpyDType {
        final char kind;
        final int itemSize;
        char byteOrder = '<';
        NumpyDType(char kind, int itemSize) { this.kind = kind; this.itemSize = itemSize; }
    }

    private static final Set<String> REFERENCE_ONLY = Set.of("builtins.input");
    private static final Set<String> CALLABLE = Set.of(
            "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state", "torch.nn.parameter.Parameter",
            "collections.OrderedDict", "collections.Counter", "torch.Size", "torch.device",
            "argparse.Namespace", "yacs.config.CfgNode", "builtins.set", "builtins.frozenset",
            "_codecs.encode", "numpy.dtype", "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar");

    private static String py3Module(String module) {
        return switch (module) {
            case "__builtin__" -> "builtins";
            case "copy_reg" -> "copyreg";
            default -> module;
        };
    }

    /** True if {@code module.name} (Python 3 spelling) is on the allowlist; the writer uses the same list. */
    static boolean allowed(String module, String name) {
        String q = module + "." + name;
        return CALLABLE.contains(q) || REFERENCE_ONLY.contains(q)
                || (module.equals("torch") && (DType.byStorageClass(name) != null || DType.byPythonName(name) != null));
    }

    /** Resolves a GLOBAL to an inert reference, refusing everything outside the allowlist. */
    static PyObject global(String module, String name) {
        module = py3Module(module);
        if (!allowed(module, name))
            throw Unpickler.bad("refusing global '" + module + "." + name + "' (not on the weights-only allowlist)");
        return PyObject.reference(module, name);
    }

    /**
     * REDUCE / NEWOBJ of an allow-listed global with {@code argsObj}; {@code rebuildTensor} turns the arguments of
     * {@code _rebuild_tensor_v2} into a tensor (the unpickler's storages and limits).
     */
    static Object call(Object fnObj, Object argsObj, String op, Function<List<Object>, Tensor> rebuildTensor) {
        if (!(fnObj instanceof PyObject fn) || !fn.isReference())
            throw Unpickler.bad(op + " on a value that is not an allow-listed global");
        if (!(argsObj instanceof PyTuple args)) throw Unpickler.bad(op + " arguments are not a tuple");
        String q = fn.qualifiedName();
        List<Object> a = args.items();
        switch (q) {
            case "torch._utils._rebuild_tensor_v2": return rebuildTensor.apply(a);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
            case "torch.nn.parameter.Parameter":
                if (a.isEmpty() || !(a.get(0) instanceof Tensor t)) throw Unpickler.bad(q + " without a tensor argument");
                return t;
            case "collections.OrderedDict": {
                PyOrderedDict d = new PyOrderedDict();
                if (a.size() == 1 && a.get(0) instanceof List<?> pairs) {
                    for (Object p : pairs) {
                        if (!(p instanceof PyTuple kv) || kv.size() != 2) throw Unpickler.bad("OrderedDict argument is not a list of pairs");
                        d.put(hashable(kv.get(0)), kv.get(1));
                    }
                } else if (!a.isEmpty()) throw Unpickler.bad("unsupported OrderedDict arguments");
                return d;
            }
            case "collections.Counter": {
                PyObject c = PyObject.instance("collections", "Counter", PyTuple.of());
                if (a.size() == 1 && a.get(0) instanceof Map<?, ?> m) c.items().putAll(m);
                else if (!a.isEmpty()) throw Unpickler.bad("unsupported Counter arguments");
                return c;
            }
            case "torch.Size": {
                if (a.size() != 1 || !(a.get(0) instanceof PyTuple dims)) throw Unpickler.bad("torch.Size needs one tuple");
                for (Object d : dims.items()) if (!(d instanceof Long)) throw Unpickler.bad("torch.Size with a non-integer dimension");
                return dims;
            }
            case "torch.device":
                for (Object o : a) if (!(o instanceof String || o instanceof Long)) throw Unpickler.bad("malformed torch.device arguments");
                return PyObject.instance("torch", "device", args);
            case "argparse.Namespace":
            case "yacs.config.CfgNode":
                if (!a.isEmpty() && !(a.size() == 1 && a.get(0) instanceof Map))
                    throw Unpickler.bad("unsupported " + q + " arguments");
                PyObject o = PyObject.instance(fn.module(), fn.name(), PyTuple.of());
                if (a.size() == 1) o.items().putAll((Map<?, ?>) a.get(0));
                return o;
            case "builtins.set":
            case "builtins.frozenset": {
                Set<Object> s = new LinkedHashSet<>();
                if (a.size() == 1 && a.get(0) instanceof List<?> l) for (Object x : l) s.add(hashable(x));
                else if (a.size() == 1 && a.get(0) instanceof PyTuple t) for (Object x : t.items()) s.add(hashable(x));
                else if (!a.isEmpty()) throw Unpickler.bad("unsupported " + q + " arguments");
                return s;
            }
            case "_codecs.encode": {
                if (a.size() != 2 || !(a.get(0) instanceof String s) || !(a.get(1) instanceof String enc))
                    throw Unpickler.bad("_codecs.encode needs (str, encoding)");
                if (enc.equals("latin1") || enc.equals("latin-1") || enc.equals("iso-8859-1")) {
                    byte[] b = new byte[s.length()];
                    for (int i = 0; i < s.length(); i++) {
                        char c = s.charAt(i);
                        if (c > 0xff) throw Unpickler.bad("_codecs.encode: character outside latin-1");
                        b[i] = (byte) c;
                    }
                    return b;
                }
                if (enc.equals("utf-8") || enc.equals("utf8")) return s.getBytes(StandardCharsets.UTF_8);
                throw Unpickler.bad("_codecs.encode with unsupported encoding '" + enc + "'");
            }
            case "numpy.dtype": {
                if (a.isEmpty() || !(a.get(0) instanceof String s) || !s.matches("[<>=|]?[fiub][1248]"))
                    throw Unpickler.bad("unsupported numpy dtype " + (a.isEmpty() ? "" : PyRepr.repr(a.get(0), 1)));
                String k = s.replaceAll("^[<>=|]", "");
                NumpyDType d = new NumpyDType(k.charAt(0), k.charAt(1) - '0');
                if (s.charAt(0) == '>') d.byteOrder = '>';
                return d;
            }
            case "numpy.core.multiarray.scalar":
            case "numpy._core.multiarray.scalar": {
                if (a.size() != 2 || !(a.get(0) instanceof NumpyDType d) || !(a.get(1) instanceof byte[] b))
                    throw Unpickler.bad("numpy scalar needs (dtype, bytes)");
                return numpyScalar(d, b);
            }
            default:
                throw Unpickler.bad("refusing to call '" + q + "' (" + (REFERENCE_ONLY.contains(q) || !CALLABLE.contains(q)
                        ? "it may only appear as a value" : "unsupported") + ")");
        }
    }

    private static Object numpyScalar(NumpyDType d, byte[] b) {
        if (b.length != d.itemSize) throw Unpickler.bad("numpy scalar has " + b.length + " bytes, dtype needs " + d.itemSize);
        if (d.kind == 'b') {
            if (d.itemSize != 1) throw Unpickler.bad("numpy bool must be 1 byte");
            return b[0] != 0;
        }
        ByteBuffer bb = ByteBuffer.wrap(b).order(d.byteOrder == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        switch (d.kind) {
            case 'f':
                return switch (d.itemSize) {
                    case 8 -> bb.getDouble();
                    case 4 -> (double) bb.getFloat();
                    case 2 -> (double) Half.toFloat(bb.getShort());
                    default -> throw Unpickler.bad("unsupported numpy float size " + d.itemSize);
                };
            case 'i':
                return switch (d.itemSize) {
                    case 1 -> (long) bb.get();
                    case 2 -> (long) bb.getShort();
                    case 4 -> (long) bb.getInt();
                    default -> bb.getLong();
                };
            default: // 'u'
                return switch (d.itemSize) {
                    case 1 -> (long) (bb.get() & 0xff);
                    case 2 -> (long) (bb.getShort() & 0xffff);
                    case 4 -> bb.getInt() & 0xFFFFFFFFL;
                    default -> { long v = bb.getLong(); yield v >= 0 ? (Object) v : new BigInteger(Long.toUnsignedString(v)); }
                };
        }
    }

    /** Dict keys and set elements must be immutable Python values (str, int, float, bool, None, tuples of those, globals). */
    static Object hashable(Object k) {
        if (k == null || k instanceof String || k instanceof Long || k instanceof BigInteger || k instanceof Double
                || k instanceof Boolean || (k instanceof PyObject o && o.isReference())) return k;
        if (k instanceof PyTuple t) { for (Object o : t.items()) hashable(o); return k; }
        throw Unpickler.bad("unsupported dict key or set element: " + Unpickler.kind(k));
    }
}
