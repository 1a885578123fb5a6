package dev.spikerev.checkpoint;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * A weights-only unpickler for {@code data.pkl} of torch.save files.
 *
 * <p><b>Why our own and not {@code net.razorvine:pickle}:</b> razorvine resolves unknown globals to a
 * generic {@code ClassDict} instead of refusing them, keeps its constructor registry in a static map
 * shared by all unpicklers, and offers no bounds on memo, stack or nesting; a safe reader would have to
 * override its GLOBAL handling, persistent ids and BUILD anyway. The opcode subset torch.save uses is
 * small (protocol 2, ~45 opcodes), so this class implements it directly with an explicit allowlist and
 * explicit resource limits, and nothing read from a file ever selects a Java class or is executed.
 *
 * <p>Allowlist (everything else is refused with {@link CheckpointFormatException} naming the global):
 * tensor rebuild functions ({@code torch._utils._rebuild_tensor_v2}, {@code _rebuild_parameter},
 * {@code _rebuild_parameter_with_state}, {@code torch.nn.parameter.Parameter}), the legacy storage
 * classes {@code torch.<X>Storage} of {@link DType}, dtype objects ({@code torch.float32} ...),
 * {@code torch.Size}, {@code torch.device}, {@code collections.OrderedDict}, {@code collections.Counter},
 * {@code builtins.set}/{@code frozenset}, {@code _codecs.encode} (how protocol 2 spells bytes), numpy
 * scalars ({@code numpy[._]core.multiarray.scalar} + {@code numpy.dtype}, decoded to Java numbers), and
 * the inert objects real training checkpoints contain: {@code argparse.Namespace},
 * {@code yacs.config.CfgNode} (record-only, never called) and a reference to {@code builtins.input}.
 */
final class Unpickler {

    /** A storage named by a persistent id; turned into a tensor by {@code _rebuild_tensor_v2}. */
    record StorageRef(String key, DType dtype, long numel, String location) {}

    /** Creates a CPU tensor viewing storage {@code ref} (all views of one key share memory). */
    interface TensorFactory {
        Tensor create(StorageRef ref, long offset, long[] size, long[] stride);
    }

    private final byte[] in;
    private int pos;
    private final Limits limits;
    private final TensorFactory tensors;
    private final ArrayList<Object> stack = new ArrayList<>();
    private int[] marks = new int[16];
    private int markCount;
    private final HashMap<Long, Object> memo = new HashMap<>();
    private int tensorCount;

    Unpickler(byte[] data, Limits limits, TensorFactory tensors) {
        this.in = data;
        this.limits = limits;
        this.tensors = tensors;
    }

    static CheckpointFormatException bad(String msg) { return new CheckpointFormatException(msg); }

    /** Runs the pickle program to STOP and returns its value (validated: bounded nesting, no cycles). */
    Object load() {
        while (true) {
            if (pos >= in.length) throw bad("data.pkl ends without a STOP opcode (truncated)");
            int opPos = pos;
            int op = in[pos++] & 0xff;
            switch (op) {
                case 0x80 -> { int proto = u8(); if (proto > 5) throw bad("unsupported pickle protocol " + proto); } // PROTO
                case 0x95 -> { long n = i64(); if (n < 0) throw bad("negative FRAME length"); } // FRAME (advisory)
                case '.' -> { // STOP
                    if (stack.isEmpty()) throw bad("pickle STOP with an empty stack");
                    Object result = stack.get(stack.size() - 1);
                    new PickleValidator(limits.maxNesting()).check(result);
                    return result;
                }
                case '}' -> push(new java.util.LinkedHashMap<Object, Object>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<Object>()); // EMPTY_LIST
                case ')' -> push(PyTuple.of()); // EMPTY_TUPLE
                case 0x8f -> push(new LinkedHashSet<Object>()); // EMPTY_SET
                case '(' -> { // MARK
                    if (markCount == marks.length) {
                        if (markCount >= limits.maxStack()) throw bad("too many nested MARKs");
                        marks = java.util.Arrays.copyOf(marks, markCount * 2);
                    }
                    marks[markCount++] = stack.size();
                }
                case 's' -> { Object v = pop(); Object k = pop(); setItem(top(), k, v); } // SETITEM
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) throw bad("SETITEMS with an odd number of items");
                    Object target = top();
                    for (int i = 0; i < items.size(); i += 2) setItem(target, items.get(i), items.get(i + 1));
                }
                case 'a' -> { Object v = pop(); listOf(top(), "APPEND").add(v); } // APPEND
                case 'e' -> { List<Object> items = popMark(); listOf(top(), "APPENDS").addAll(items); } // APPENDS
                case 0x90 -> { List<Object> items = popMark(); Set<Object> s = setOf(top()); for (Object o : items) s.add(PickleGlobals.hashable(o)); } // ADDITEMS
                case 0x91 -> { List<Object> items = popMark(); Set<Object> s = new LinkedHashSet<>(); for (Object o : items) s.add(PickleGlobals.hashable(o)); push(s); } // FROZENSET
                case 0x85 -> push(tuple(java.util.Collections.singletonList(pop()))); // TUPLE1
                case 0x86 -> { Object b = pop(), a = pop(); push(tuple(java.util.Arrays.asList(a, b))); } // TUPLE2
                case 0x87 -> { Object c = pop(), b = pop(), a = pop(); push(tuple(java.util.Arrays.asList(a, b, c))); } // TUPLE3
                case 't' -> push(tuple(popMark())); // TUPLE
                case 'X' -> push(utf8(len32())); // BINUNICODE
                case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(len64())); // BINUNICODE8
                case 'B' -> push(bytes(len32())); // BINBYTES
                case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
                case 0x8e -> push(bytes(len64())); // BINBYTES8
                case 'J' -> push((long) i32()); // BININT
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) (u8() | u8() << 8)); // BININT2
                case 0x8a -> push(longValue(u8())); // LONG1
                case 0x8b -> push(longValue(len32())); // LONG4
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(i64()))); // BINFLOAT (big-endian)
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'N' -> push(null); // NONE
                case 'c' -> { String module = line(); String name = line(); push(PickleGlobals.global(module, name)); } // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) throw bad("STACK_GLOBAL needs two strings");
                    push(PickleGlobals.global(m, n));
                }
                case 'R' -> { Object args = pop(); Object fn = pop(); push(PickleGlobals.call(fn, args, "REDUCE", this::rebuildTensor)); } // REDUCE
                case 0x81 -> { Object args = pop(); Object cls = pop(); push(PickleGlobals.call(cls, args, "NEWOBJ", this::rebuildTensor)); } // NEWOBJ
                case 'b' -> { Object state = pop(); build(top(), state); } // BUILD
                case 'Q' -> push(persistentLoad(pop())); // BINPERSID
                case 'q' -> memoPut(u8()); // BINPUT
                case 'r' -> memoPut(len32()); // LONG_BINPUT
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 'h' -> push(memoGet(u8())); // BINGET
                case 'j' -> push(memoGet(len32())); // LONG_BINGET
                case '0' -> pop(); // POP
                case '2' -> push(top()); // DUP
                case '1' -> popMark(); // POP_MARK
                default -> throw bad(String.format("unsupported pickle opcode 0x%02x at offset %d of data.pkl", op, opPos));
            }
        }
    }

    // ---- stack ------------------------------------------------------------------------------------

    private void push(Object o) {
        if (stack.size() >= limits.maxStack()) throw bad("pickle stack exceeds " + limits.maxStack() + " values");
        stack.add(o);
    }

    private Object pop() {
        int floor = markCount > 0 ? marks[markCount - 1] : 0;
        if (stack.size() <= floor) throw bad("pickle stack underflow at offset " + (pos - 1));
        return stack.remove(stack.size() - 1);
    }

    private Object top() {
        int floor = markCount > 0 ? marks[markCount - 1] : 0;
        if (stack.size() <= floor) throw bad("pickle stack underflow at offset " + (pos - 1));
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        if (markCount == 0) throw bad("pickle opcode at offset " + (pos - 1) + " needs a MARK");
        int m = marks[--markCount];
        List<Object> sub = stack.subList(m, stack.size());
        List<Object> items = new ArrayList<>(sub);
        sub.clear();
        return items;
    }

    private PyTuple tuple(List<Object> items) {
        PyTuple t = new PyTuple(items);
        if (t.depth > limits.maxTupleNesting()) throw bad("tuples nested deeper than " + limits.maxTupleNesting());
        return t;
    }

    private void memoPut(long idx) {
        if (idx < 0) throw bad("negative memo index");
        if (memo.size() >= limits.maxMemo() && !memo.containsKey(idx)) throw bad("pickle memo exceeds " + limits.maxMemo() + " entries");
        memo.put(idx, top());
    }

    private Object memoGet(long idx) {
        Long k = idx;
        if (!memo.containsKey(k)) throw bad("pickle refers to memo entry " + idx + " that was never stored");
        return memo.get(k);
    }

    // ---- reading primitives -------------------------------------------------------------------------

    private void need(long n) {
        if (n < 0 || n > in.length - pos) throw bad("data.pkl truncated (needs " + n + " bytes at offset " + pos + ")");
    }

    private int u8() { need(1); return in[pos++] & 0xff; }

    private int i32() {
        need(4);
        int v = ByteBuffer.wrap(in, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        pos += 4;
        return v;
    }

    private long i64() {
        need(8);
        long v = ByteBuffer.wrap(in, pos, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        pos += 8;
        return v;
    }

    private long len32() { return i32() & 0xFFFFFFFFL; }

    private long len64() {
        long n = i64();
        if (n < 0) throw bad("negative length in data.pkl");
        return n;
    }

    private String utf8(long n) {
        need(n);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(in, pos, (int) n)).toString();
            pos += (int) n;
            return s;
        } catch (CharacterCodingException e) {
            throw bad("invalid UTF-8 string at offset " + pos + " of data.pkl");
        }
    }

    private byte[] bytes(long n) {
        need(n);
        byte[] b = java.util.Arrays.copyOfRange(in, pos, pos + (int) n);
        pos += (int) n;
        return b;
    }

    private Object longValue(long n) {
        if (n > 256) throw bad("integer of " + n + " bytes in data.pkl (limit 256)");
        if (n == 0) return 0L;
        need(n);
        byte[] be = new byte[(int) n];
        for (int i = 0; i < n; i++) be[i] = in[pos + (int) n - 1 - i];
        pos += (int) n;
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String line() {
        int start = pos, max = Math.min(in.length, pos + 256);
        while (pos < max && in[pos] != '\n') pos++;
        if (pos >= max) throw bad("GLOBAL name at offset " + start + " is unterminated or longer than 256 bytes");
        String s = new String(in, start, pos - start, StandardCharsets.US_ASCII);
        pos++;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '_' || c == '.') || c > 0x7e)
                throw bad("malformed GLOBAL name at offset " + start + " of data.pkl");
        }
        return s;
    }

    // ---- tensors, storages, BUILD (the allowlist and the calls it permits: PickleGlobals) ------------------

    private Tensor rebuildTensor(List<Object> a) {
        if (a.size() != 6 && a.size() != 7) throw bad("_rebuild_tensor_v2 expects 6 or 7 arguments, got " + a.size());
        if (!(a.get(0) instanceof StorageRef ref)) throw bad("_rebuild_tensor_v2: first argument is not a storage");
        if (!(a.get(1) instanceof Long offset)) throw bad("_rebuild_tensor_v2: storage offset is not an integer");
        long[] size = longs(a.get(2), "size"), stride = longs(a.get(3), "stride");
        if (!(a.get(4) instanceof Boolean)) throw bad("_rebuild_tensor_v2: requires_grad is not a bool");
        if (a.get(5) != null && !(a.get(5) instanceof Map<?, ?> hooks && hooks.isEmpty()))
            throw bad("_rebuild_tensor_v2: backward hooks are not supported");
        if (size.length != stride.length)
            throw bad("tensor has " + size.length + " sizes but " + stride.length + " strides");
        if (++tensorCount > limits.maxTensors()) throw bad("more than " + limits.maxTensors() + " tensors");
        checkExtent(ref, offset, size, stride);
        return tensors.create(ref, offset, size, stride);
    }

    private long[] longs(Object o, String what) {
        if (!(o instanceof PyTuple t)) throw bad("tensor " + what + " is not a tuple");
        if (t.size() > limits.maxDims()) throw bad("tensor with " + t.size() + " dimensions (limit " + limits.maxDims() + ")");
        long[] r = new long[t.size()];
        for (int i = 0; i < r.length; i++) {
            if (!(t.get(i) instanceof Long v)) throw bad("tensor " + what + " has a non-integer entry");
            r[i] = v;
        }
        return r;
    }

    /** The storage must cover every element the view can address: offset + Σ (size_i − 1)·stride_i < numel. */
    static void checkExtent(StorageRef ref, long offset, long[] size, long[] stride) {
        if (offset < 0) throw bad("negative storage offset " + offset + " (storage '" + ref.key() + "')");
        long numel = 1, maxIndex = offset;
        try {
            for (int i = 0; i < size.length; i++) {
                if (size[i] < 0) throw bad("negative tensor size " + size[i] + " (storage '" + ref.key() + "')");
                if (stride[i] < 0) throw bad("negative tensor stride " + stride[i] + " (storage '" + ref.key() + "')");
                numel = Math.multiplyExact(numel, size[i]);
            }
            if (numel > 0) {
                for (int i = 0; i < size.length; i++)
                    maxIndex = Math.addExact(maxIndex, Math.multiplyExact(size[i] - 1, stride[i]));
            }
        } catch (ArithmeticException e) {
            throw bad("tensor size/stride overflow (storage '" + ref.key() + "')");
        }
        if (numel > 0 && maxIndex >= ref.numel())
            throw bad("tensor view reaches element " + maxIndex + " but storage '" + ref.key() + "' has only "
                    + ref.numel() + " elements");
        if (numel == 0 && offset > ref.numel())
            throw bad("storage offset " + offset + " beyond storage '" + ref.key() + "' of " + ref.numel() + " elements");
    }

    private Object persistentLoad(Object pid) {
        if (!(pid instanceof PyTuple t) || t.size() != 5 || !"storage".equals(t.get(0)))
            throw bad("unsupported persistent id " + PyRepr.repr(pid, 2) + " (only ('storage', type, key, location, numel))");
        if (!(t.get(1) instanceof PyObject type) || !type.isReference() || !type.module().equals("torch"))
            throw bad("persistent id without a storage type");
        DType dtype = DType.byStorageClass(type.name());
        if (dtype == null) throw bad("unsupported storage type torch." + type.name());
        if (!(t.get(2) instanceof String key) || !key.matches("[A-Za-z0-9_]{1,64}"))
            throw bad("malformed storage key " + PyRepr.repr(t.get(2), 1));
        if (!(t.get(3) instanceof String location) || location.length() > 64)
            throw bad("malformed storage location");
        if (!(t.get(4) instanceof Long numel) || numel < 0) throw bad("malformed storage size for key '" + key + "'");
        return new StorageRef(key, dtype, numel, location);
    }

    private void build(Object inst, Object state) {
        if (inst instanceof PyObject o && !o.isReference()) {
            if (o.state() instanceof Map<?, ?> old && state instanceof Map<?, ?> add) {
                @SuppressWarnings("unchecked") Map<Object, Object> m = (Map<Object, Object>) old;
                m.putAll(add);
            } else o.setState(state);
        } else if (inst instanceof PyOrderedDict d) {
            Object s = state;
            if (s instanceof PyTuple t && t.size() == 2) s = t.get(0);
            if (s == null) return;
            if (!(s instanceof Map<?, ?> m)) throw bad("BUILD of an OrderedDict with a non-dict state");
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) throw bad("OrderedDict attribute name is not a string");
                d.attributes().put(k, e.getValue());
            }
        } else if (inst instanceof PickleGlobals.NumpyDType d) {
            if (state instanceof PyTuple t && t.size() >= 2 && t.get(1) instanceof String bo && bo.length() == 1)
                d.byteOrder = bo.charAt(0) == '>' ? '>' : '<';
        } else if (inst instanceof Tensor) {
            if (state != null && !(state instanceof Map<?, ?> m && m.isEmpty())
                    && !(state instanceof PyTuple t && t.items().stream().allMatch(x -> x == null || x instanceof Map<?, ?> mm && mm.isEmpty())))
                throw bad("BUILD with state on a tensor is not supported");
        } else {
            throw bad("BUILD on " + kind(inst) + " is not supported");
        }
    }

    private void setItem(Object target, Object k, Object v) {
        Map<Object, Object> m;
        if (target instanceof Map<?, ?>) {
            @SuppressWarnings("unchecked") Map<Object, Object> mm = (Map<Object, Object>) target;
            m = mm;
        } else if (target instanceof PyObject o && !o.isReference()
                && (o.qualifiedName().equals("yacs.config.CfgNode") || o.qualifiedName().equals("collections.Counter"))) {
            m = o.items();
        } else throw bad("SETITEM on " + kind(target));
        m.put(PickleGlobals.hashable(k), v);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> listOf(Object target, String op) {
        if (target instanceof ArrayList<?>) return (List<Object>) target;
        throw bad(op + " on " + kind(target));
    }

    @SuppressWarnings("unchecked")
    private static Set<Object> setOf(Object target) {
        if (target instanceof Set<?>) return (Set<Object>) target;
        throw bad("ADDITEMS on " + kind(target));
    }

    static String kind(Object o) {
        if (o == null) return "None";
        if (o instanceof PyOrderedDict) return "an OrderedDict";
        if (o instanceof Map) return "a dict";
        if (o instanceof List) return "a list";
        if (o instanceof PyTuple) return "a tuple";
        if (o instanceof Set) return "a set";
        if (o instanceof String) return "a str";
        if (o instanceof Tensor) return "a tensor";
        if (o instanceof StorageRef) return "a storage";
        if (o instanceof PyObject p) return p.isReference() ? "global " + p.qualifiedName() : "a " + p.qualifiedName();
        if (o instanceof PickleGlobals.NumpyDType) return "a numpy dtype";
        return "a " + o.getClass().getSimpleName();
    }
}
