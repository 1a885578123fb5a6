package dev.spikerev.tensor;

import org.bytedeco.pytorch.global.torch_cuda;

/**
 * The CUDA caching allocator's statistics ({@code torch.cuda.max_memory_allocated} / {@code reset_peak_memory_stats}
 * in Python). Touching this class loads the CUDA natives: call it only for a CUDA device of a {@code -Pcuda} build.
 */
public final class CudaMemory {
    private CudaMemory() {}

    /** Starts a new peak window on device {@code index} (as {@code torch.cuda.reset_peak_memory_stats(index)}). */
    public static void resetPeak(int index) {
        torch_cuda.getAllocator().resetPeakStats((byte) index);
    }

    /** Peak bytes held by tensors on device {@code index} since the last reset ({@code torch.cuda.max_memory_allocated}). */
    public static long peakAllocated(int index) {
        return torch_cuda.getAllocator().getDeviceStats((byte) index).allocated_bytes().peak();
    }

    /** Bytes held by tensors on device {@code index} now ({@code torch.cuda.memory_allocated}). */
    public static long allocated(int index) {
        return torch_cuda.getAllocator().getDeviceStats((byte) index).allocated_bytes().current();
    }
}
