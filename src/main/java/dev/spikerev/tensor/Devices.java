package dev.spikerev.tensor;

import org.bytedeco.pytorch.Device;

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
}
