package dev.spikerev.jmh;

import dev.spikerev.tensor.Natives;

/** Shared set-up for the JMH states: loads libtorch and applies the thread count. */
final class JmhSupport {
    private JmhSupport() {}

    /**
     * Loads the natives ({@link Natives#init()}, which honours {@code SPIKEREV_THREADS}); {@code threads > 0}
     * overrides the intra-op thread count, {@code 0} keeps libtorch's default / {@code SPIKEREV_THREADS}.
     */
    static void init(int threads) {
        Natives.init();
        if (threads > 0) Natives.setThreads(threads);
    }
}
