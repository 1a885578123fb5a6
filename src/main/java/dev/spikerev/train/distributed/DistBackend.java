package dev.spikerev.train.distributed;

/** The c10d collective backend: chosen by device, like {@code torch.distributed}'s default. */
public enum DistBackend {
    /** CPU tensors (tested). */
    GLOO,
    /** CUDA tensors, one GPU per rank (needs the CUDA presets build; untested here). */
    NCCL;

    /** {@code cpu} -&gt; Gloo, {@code cuda[:N]} -&gt; NCCL. */
    public static DistBackend forDevice(String device) {
        return device != null && device.startsWith("cuda") ? NCCL : GLOO;
    }

    public String lowerName() { return name().toLowerCase(java.util.Locale.ROOT); }
}
