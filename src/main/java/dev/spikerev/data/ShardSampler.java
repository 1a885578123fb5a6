package dev.spikerev.data;

import java.util.SplittableRandom;

/**
 * Epoch order and rank sharding, like {@code torch.utils.data.DistributedSampler} (but with our own permutation).
 *
 * <p>Order for epoch {@code e}: the identity {@code 0..n-1}, or, with shuffle, a Fisher-Yates permutation drawn from
 * {@code SplittableRandom(Seeds.mix(seed, SHUFFLE, e))} (same seed and epoch give the same order on every rank and
 * machine). Sharding: with {@code dropTail} the order is cut to {@code floor(n/world)*world} entries, otherwise it is
 * padded by repeating its head up to {@code ceil(n/world)*world}; rank {@code r} then takes positions
 * {@code r, r+world, r+2*world, ...}. Every rank gets the same number of samples; with {@code world == 1} nothing is
 * cut or padded.
 */
public final class ShardSampler {
    private final int n;
    private final boolean shuffle;
    private final long seed;
    private final int rank;
    private final int world;
    private final boolean dropTail;

    public ShardSampler(int n, boolean shuffle, long seed, int rank, int world, boolean dropTail) {
        if (world < 1 || rank < 0 || rank >= world) {
            throw new IllegalArgumentException("need 0 <= rank < world, found rank " + rank + ", world " + world);
        }
        if (n < 0) throw new IllegalArgumentException("negative dataset size " + n);
        this.n = n;
        this.shuffle = shuffle;
        this.seed = seed;
        this.rank = rank;
        this.world = world;
        this.dropTail = dropTail;
    }

    /** Samples per rank and epoch. */
    public int perRank() {
        return dropTail ? n / world : (n + world - 1) / world;
    }

    /** The full (unsharded) order of epoch {@code epoch}. */
    public int[] order(int epoch) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        if (shuffle) {
            SplittableRandom r = new SplittableRandom(Seeds.mix(seed, Seeds.SHUFFLE, epoch));
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
        }
        return p;
    }

    /** This rank's dataset indices for epoch {@code epoch}, in iteration order. */
    public int[] indices(int epoch) {
        int[] all = order(epoch);
        int per = perRank();
        int[] mine = new int[per];
        if (n == 0) return mine;
        for (int k = 0; k < per; k++) mine[k] = all[(rank + k * world) % n];
        return mine;
    }
}
