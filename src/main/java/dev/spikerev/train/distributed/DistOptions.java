package dev.spikerev.train.distributed;

import java.time.Duration;

/**
 * One worker's place in a data-parallel run, from the hidden {@code train} options the {@link Launcher} passes.
 *
 * @param rank        this process, {@code 0 <= rank < world}; rank 0 writes checkpoints, metrics and plots
 * @param world       number of processes
 * @param rendezvous  where the ranks meet
 * @param timeout     longest wait of the rendezvous and of any collective before the worker fails
 * @param failAtStep  test hook: rank {@code failRank} throws before global step {@code failAtStep} (0-based; -1 = never)
 * @param failRank    which rank {@code failAtStep} applies to
 */
public record DistOptions(int rank, int world, Rendezvous rendezvous, Duration timeout, long failAtStep, int failRank) {
    public DistOptions {
        if (world < 1 || rank < 0 || rank >= world)
            throw new IllegalArgumentException("need 0 <= --rank < --world, found rank " + rank + ", world " + world);
        if (rendezvous == null) throw new IllegalArgumentException("--rendezvous is required with --rank/--world");
        if (timeout == null || timeout.isNegative() || timeout.isZero())
            throw new IllegalArgumentException("--dist-timeout must be > 0 seconds");
    }
}
