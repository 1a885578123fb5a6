package dev.spikerev.data;

import java.util.SplittableRandom;

/**
 * A per-sample transform. It must be a pure function of its input and of the random numbers it draws from
 * {@code rng}; the {@link DataLoader} seeds {@code rng} from (seed, epoch, dataset index), so augmentation is
 * reproducible and independent of batch size, sharding and thread timing. Implementations must not mutate the input.
 */
@FunctionalInterface
public interface Transform {
    /** Returns the transformed sample. */
    Sample apply(Sample s, SplittableRandom rng);

    /** This transform followed by {@code next}. */
    default Transform then(Transform next) {
        Transform self = this;
        return (s, rng) -> next.apply(self.apply(s, rng), rng);
    }

    /** The identity. */
    static Transform identity() {
        return (s, rng) -> s;
    }

    /** Applies the transforms in order (torchvision {@code Compose}). */
    static Transform compose(Transform... ts) {
        Transform t = identity();
        for (Transform x : ts) t = t.then(x);
        return t;
    }
}
