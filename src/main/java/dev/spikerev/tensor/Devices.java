package dev.spikerev.tensor;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import static org.bytedeco.pytorch.global.torch.cuda_device_count;
import static org.bytedeco.pytorch.global.torch.cuda_is_available;

/**
 * Device strings as users write them ({@code cpu}, {@code cuda}, {@code cuda:N}), checked against what this build
 * and this machine have, with one-line errors naming the flag or key at fault.
 */
public final class Devices {
    private Devices() {}

    /** A parsed device string: {@code type} "cpu" or "cuda", {@code index} -1 for cpu. */
    public record Spec(String type, int index) {
        public boolean isCuda() { return type.equals("cuda"); }

        public Device device() { return new Device(toString()); }

        @Override public String toString() { return isCuda() ? "cuda:" + index : "cpu"; }
    }

    /** Syntax only: {@code cpu}, {@code cuda} (= cuda:0) or {@code cuda:N}. {@code what} names the flag or key. */
    public static Spec parse(String s, String what) {
        if (s == null) throw new IllegalArgumentException(what + ": missing device (cpu, cuda or cuda:N)");
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) return new Spec("cpu", -1);
        if (t.equals("cuda")) return new Spec("cuda", 0);
        if (t.matches("cuda:\\d{1,3}")) return new Spec("cuda", Integer.parseInt(t.substring(5)));
        throw new IllegalArgumentException(what + ": '" + s + "' is not a device (allowed: cpu, cuda, cuda:N)");
    }

    /** Parses and checks that the device exists here; a CUDA device on a CPU-only build/machine is a clear error. */
    public static Spec require(String s, String what) {
        Spec d = parse(s, what);
        if (!d.isCuda()) return d;
        boolean available;
        long count;
        try {
            available = cuda_is_available();
            count = available ? cuda_device_count() : 0;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            available = false;
            count = 0;
        }
        if (!available)
            throw new IllegalArgumentException(what + ": " + d + " requested but no CUDA device is available (this build "
                    + "has CPU-only natives unless built with -Pcuda / SPIKEREV_PROFILE=cuda, and needs an NVIDIA GPU)");
        if (d.index() >= count)
            throw new IllegalArgumentException(what + ": " + d + " requested but this machine has " + count + " CUDA device(s)");
        return d;
    }

    /**
     * The device of rank {@code rank} in a one-GPU-per-process run: {@code cuda:K} gives rank r {@code cuda:(K + r)};
     * {@code cpu} stays {@code cpu}. Syntax only (check the result with {@link #require}).
     */
    public static Spec forRank(Spec base, int rank) {
        return base.isCuda() ? new Spec("cuda", base.index() + rank) : base;
    }

    /**
     * {@code t} on {@code device}: the same tensor (no copy) when it is already there, else a non-blocking copy
     * (dtype kept). {@code device} null means "leave it where it is".
     */
    public static Tensor to(Tensor t, Device device) {
        if (t == null || device == null || sameDevice(t.device(), device)) return t;
        return t.to(device, t.scalar_type(), true, false, new MemoryFormatOptional());
    }

    /**
     * Moves a module's parameters and buffers to {@code device} in place ({@code Module.to}: Java handles kept on
     * parameters stay valid and follow). A no-op when {@code device} is null or the module is already there, so CPU
     * runs never touch the tensors.
     */
    public static void to(Module m, Device device) {
        if (device == null) return;
        Device now = of(m);
        if (now != null && sameDevice(now, device)) return;
        m.to(device, false);
    }

    /** The device of the module's first parameter (or buffer); {@code null} for a module without tensors. */
    public static Device of(Module m) {
        TensorVector ps = m.parameters(true);
        try {
            if (ps.size() > 0) return ps.get(0).device();
        } finally {
            ps.close();
        }
        TensorVector bs = m.buffers(true);
        try {
            return bs.size() > 0 ? bs.get(0).device() : null;
        } finally {
            bs.close();
        }
    }

    /**
     * Full float32 on CUDA for numerical comparisons (parity): no TF32 in cuDNN convolutions or cuBLAS matmuls,
     * deterministic cuDNN algorithms, no autotuning. Training keeps libtorch's defaults (TF32 convolutions on, as in
     * Python). Process-wide; harmless on a CPU-only build.
     */
    public static void strictFloat32() {
        org.bytedeco.pytorch.Context ctx = org.bytedeco.pytorch.global.torch.globalContext();
        ctx.setAllowTF32CuDNN(false);
        ctx.setAllowTF32CuBLAS(false);
        ctx.setBenchmarkCuDNN(false);
        ctx.setDeterministicCuDNN(true);
    }

    /** Same type and index ({@code cpu} has index -1 on both sides). */
    public static boolean sameDevice(Device a, Device b) {
        return a.type().value == b.type().value && (a.is_cpu() || a.index() == b.index());
    }
}
