package dev.spikerev.tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * Loads libtorch once and applies the process-wide native settings (thread count).
 * Every entry point that touches tensors calls {@link #init()} first.
 */
public final class Natives {
    private static volatile boolean loaded;

    /** JavaCPP's switch for its per-allocation resident-memory check (see {@link #configureAllocator()}). */
    public static final String MAX_PHYSICAL_BYTES = "org.bytedeco.javacpp.maxPhysicalBytes";

    static {
        configureAllocator();
    }

    private Natives() {}

    /**
     * Turns off JavaCPP's resident-memory check on every native allocation unless the user set
     * {@code -Dorg.bytedeco.javacpp.maxPhysicalBytes} explicitly. By default JavaCPP reads the process's resident size
     * each time a {@code Pointer} gets a deallocator - every tensor an op returns - to call {@code System.gc()} when it
     * passes twice the heap. That read is half the Java-side cost of a small op (measured: {@code add} on a 4x4 tensor
     * 2.8 us with it, 1.3 us without; Python 2.6 us). spikerev frees every step's tensors with a {@code PointerScope}
     * and never relies on the garbage collector for native memory (a test keeps {@code Pointer.totalCount()} flat over
     * many steps), so the check only costs time. Takes effect only before JavaCPP's {@code Pointer} class is
     * initialised: the CLI calls it first thing; libraries embedding spikerev can pass the property themselves.
     */
    public static void configureAllocator() {
        if (System.getProperty(MAX_PHYSICAL_BYTES) == null) System.setProperty(MAX_PHYSICAL_BYTES, "0");
    }

    /** Loads the natives (first call takes ~3 s) and sets the intra-op thread count from SPIKEREV_THREADS if set. */
    public static synchronized void init() {
        if (loaded) return;
        String threads = System.getenv("SPIKEREV_THREADS");
        get_num_threads(); // forces class init / native load
        // libtorch parallelises with OpenMP around its BLAS calls (e.g. per image in a convolution); OpenBLAS's own
        // thread pool on top of that oversubscribes the cores: measured on 2 cores, MPIS cifar-small at batch 1 ran 27x
        // slower and RevSResNet21 at batch 8 13 % slower. PyTorch's own OpenBLAS builds run BLAS single-threaded too.
        org.bytedeco.openblas.global.openblas.blas_set_num_threads(1);
        if (threads != null && !threads.isBlank()) {
            try {
                set_num_threads(Integer.parseInt(threads.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("SPIKEREV_THREADS must be an integer, found '" + threads + "'");
            }
        }
        loaded = true;
    }

    public static void setThreads(int n) {
        init();
        if (n > 0) set_num_threads(n);
    }
}
