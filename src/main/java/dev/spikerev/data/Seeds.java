package dev.spikerev.data;

/**
 * Deterministic seed derivation (SplitMix64 finaliser). Every random choice in the data pipeline draws from a
 * {@link java.util.SplittableRandom} seeded by {@code mix(seed, stream, epoch, key)}, so results depend only on these
 * numbers, never on thread timing or on how many workers run.
 */
public final class Seeds {
    /** Stream tag: epoch permutation. */
    public static final long SHUFFLE = 0x5348554646L;
    /** Stream tag: per-sample transform of dataset index {@code key}. */
    public static final long SAMPLE = 0x53414d504cL;
    /** Stream tag: per-batch transform (mixup) of batch {@code key} on a rank. */
    public static final long BATCH = 0x4241544348L;

    private Seeds() {}

    /** SplitMix64 finaliser of {@code z}. */
    public static long fmix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Combines any number of values into one well-mixed seed (order matters). */
    public static long mix(long... parts) {
        long h = 0x9e3779b97f4a7c15L;
        for (long p : parts) h = fmix(h ^ fmix(p + 0x9e3779b97f4a7c15L));
        return h;
    }
}
