package dev.spikerev.data;

import java.util.SplittableRandom;

/**
 * A transform over a whole assembled batch (e.g. {@link Mixup}), run in the worker after the per-sample transforms.
 * {@code rng} is seeded from (seed, epoch, rank, batch index).
 */
@FunctionalInterface
public interface BatchTransform {
    /** Returns the transformed batch (may be the same object, modified in place). */
    HostBatch apply(HostBatch b, SplittableRandom rng);
}
