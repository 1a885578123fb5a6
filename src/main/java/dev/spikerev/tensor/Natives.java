package dev.spikerev.tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * Loads libtorch once and applies the process-wide native settings (thread count).
 * Every entry point that touches tensors calls {@link #init()} first.
 */
public final class Natives {
    private static volatile boolean loaded;

    private Natives() {}

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
