package dev.spikerev.data;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batches a {@link Dataset}: sampling (see {@link ShardSampler}), per-sample {@link Transform}s, an optional
 * {@link BatchTransform}, and background prefetch.
 *
 * <p><b>Iteration order.</b> Epoch {@code e} visits this rank's indices {@link #indices(int) indices(e)} in order and
 * cuts them into consecutive batches of {@code batchSize}; the last short batch is dropped with {@code dropLast}.
 * Sample {@code i} is transformed with {@code SplittableRandom(Seeds.mix(seed, SAMPLE, e, i))} and batch {@code b}
 * with {@code SplittableRandom(Seeds.mix(seed, BATCH, e, rank, b))}, so batch {@code b} of epoch {@code e} is
 * bit-identical whatever the worker count, the prefetch depth or where iteration started ({@link #epoch(int, int)}
 * resumes exactly at batch {@code k}).
 *
 * <p><b>Threads.</b> With {@code workers > 0}, worker threads assemble up to {@code prefetch} batches ahead as Java
 * arrays (bounded; results are consumed strictly in batch order). Tensors are made in {@link Epoch#next()} on the
 * caller's thread, so they attach to its {@link org.bytedeco.javacpp.PointerScope}. With {@code workers == 0} the
 * caller assembles each batch itself.
 */
public final class DataLoader implements AutoCloseable {
    private final Dataset dataset;
    private final int batchSize;
    private final boolean dropLast;
    private final long seed;
    private final int rank;
    private final int world;
    private final int prefetch;
    private final Transform transform;
    private final BatchTransform batchTransform;
    private final ShardSampler sampler;
    private final ExecutorService pool;

    private DataLoader(Builder b) {
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.dropLast = b.dropLast;
        this.seed = b.seed;
        this.rank = b.rank;
        this.world = b.world;
        this.transform = b.transform;
        this.batchTransform = b.batchTransform;
        this.prefetch = Math.max(1, b.prefetch);
        this.sampler = new ShardSampler(dataset.size(), b.shuffle, seed, rank, world, dropLast);
        if (b.workers > 0) {
            AtomicInteger count = new AtomicInteger();
            pool = Executors.newFixedThreadPool(b.workers, r -> {
                Thread t = new Thread(r, "data-worker-" + count.getAndIncrement());
                t.setDaemon(true);
                return t;
            });
        } else {
            pool = null;
        }
    }

    /** Starts a builder over {@code dataset}. */
    public static Builder builder(Dataset dataset) {
        return new Builder(dataset);
    }

    /** Batches per epoch on this rank. */
    public int numBatches() {
        int per = sampler.perRank();
        return dropLast ? per / batchSize : (per + batchSize - 1) / batchSize;
    }

    /** This rank's dataset indices for {@code epoch}, in iteration order. */
    public int[] indices(int epoch) {
        return sampler.indices(epoch);
    }

    /** The dataset. */
    public Dataset dataset() {
        return dataset;
    }

    /** Iterates a whole epoch. */
    public Epoch epoch(int epoch) {
        return epoch(epoch, 0);
    }

    /** Iterates {@code epoch} starting at batch {@code startBatch} (exact mid-epoch resume). */
    public Epoch epoch(int epoch, int startBatch) {
        if (startBatch < 0 || startBatch > numBatches()) {
            throw new IllegalArgumentException("startBatch " + startBatch + " outside 0.." + numBatches());
        }
        return new Epoch(epoch, startBatch);
    }

    /** Assembles batch {@code b} of {@code epoch} on the calling thread, as arrays (no tensors). */
    public HostBatch hostBatch(int epoch, int b) {
        return assemble(epoch, sampler.indices(epoch), b);
    }

    private HostBatch assemble(int epoch, int[] order, int b) {
        int from = b * batchSize;
        int to = Math.min(order.length, from + batchSize);
        int rows = to - from;
        float[][] data = new float[rows][];
        int[] shape = null;
        long[] target = new long[rows];
        int[] idx = new int[rows];
        for (int r = 0; r < rows; r++) {
            int i = order[from + r];
            Sample s = dataset.get(i);
            s = transform.apply(s, new SplittableRandom(Seeds.mix(seed, Seeds.SAMPLE, epoch, i)));
            if (shape == null) {
                shape = s.shape();
            } else if (!java.util.Arrays.equals(shape, s.shape())) {
                throw new IllegalStateException("sample " + i + " has shape " + java.util.Arrays.toString(s.shape())
                        + " but the batch has " + java.util.Arrays.toString(shape)
                        + "; add a Resize/CenterCrop transform");
            }
            data[r] = s.floats();
            target[r] = s.label();
            idx[r] = i;
        }
        int row = data.length == 0 ? 0 : data[0].length;
        float[] flat = new float[rows * row];
        for (int r = 0; r < rows; r++) System.arraycopy(data[r], 0, flat, r * row, row);
        long[] bshape = new long[(shape == null ? 3 : shape.length) + 1];
        bshape[0] = rows;
        for (int d = 1; d < bshape.length; d++) bshape[d] = shape == null ? 0 : shape[d - 1];
        HostBatch hb = new HostBatch(flat, bshape, target, null, dataset.numClasses(), idx);
        if (batchTransform != null) {
            hb = batchTransform.apply(hb, new SplittableRandom(Seeds.mix(seed, Seeds.BATCH, epoch, rank, b)));
        }
        return hb;
    }

    /** Stops the worker threads; running epochs fail on their next call. */
    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }

    /** One pass over an epoch; single use. Close it to cancel outstanding prefetch work. */
    public final class Epoch implements Iterator<Batch>, Iterable<Batch>, AutoCloseable {
        private final int epoch;
        private final int[] order;
        private final int end;
        private int next;
        private int submitted;
        private final ArrayDeque<Future<HostBatch>> queue = new ArrayDeque<>();

        private Epoch(int epoch, int start) {
            this.epoch = epoch;
            this.order = sampler.indices(epoch);
            this.end = numBatches();
            this.next = start;
            this.submitted = start;
            fill();
        }

        private void fill() {
            if (pool == null) return;
            while (queue.size() < prefetch && submitted < end) {
                int b = submitted++;
                queue.add(pool.submit(() -> assemble(epoch, order, b)));
            }
        }

        @Override
        public boolean hasNext() {
            return next < end;
        }

        /** The next batch's arrays (no tensors), for callers that make tensors themselves. */
        public HostBatch nextHost() {
            if (!hasNext()) throw new NoSuchElementException("epoch " + epoch + " has " + end + " batches");
            int b = next++;
            if (pool == null) return assemble(epoch, order, b);
            Future<HostBatch> f = queue.poll();
            fill();
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for batch " + b, e);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException re) throw re;
                if (c instanceof Error err) throw err;
                throw new IllegalStateException("loading batch " + b + " failed: " + c, c);
            }
        }

        /** The next batch as tensors made on this thread. */
        @Override
        public Batch next() {
            int b = next;
            return Batch.of(nextHost(), b);
        }

        /** Index of the batch the next call returns. */
        public int position() {
            return next;
        }

        @Override
        public Iterator<Batch> iterator() {
            return this;
        }

        @Override
        public void close() {
            for (Future<HostBatch> f : queue) f.cancel(true);
            queue.clear();
            next = end;
        }
    }

    /** Options; {@code setX}-style required argument is the dataset, everything else has a default. */
    public static final class Builder {
        private final Dataset dataset;
        private int batchSize = 1;
        private boolean shuffle;
        private boolean dropLast;
        private long seed;
        private int rank;
        private int world = 1;
        private int workers;
        private int prefetch = 2;
        private Transform transform = Transform.identity();
        private BatchTransform batchTransform;

        private Builder(Dataset dataset) {
            if (dataset == null) throw new IllegalArgumentException("dataset is null");
            this.dataset = dataset;
        }

        /** Rows per batch (default 1). */
        public Builder batchSize(int v) {
            if (v < 1) throw new IllegalArgumentException("batchSize must be >= 1, found " + v);
            batchSize = v;
            return this;
        }

        /** Reshuffle every epoch (default false). */
        public Builder shuffle(boolean v) {
            shuffle = v;
            return this;
        }

        /** Drop the last short batch and, when sharding, the samples that do not divide evenly (default false). */
        public Builder dropLast(boolean v) {
            dropLast = v;
            return this;
        }

        /** Seed for shuffling and augmentation (default 0). */
        public Builder seed(long v) {
            seed = v;
            return this;
        }

        /** Shard for data-parallel rank {@code rank} of {@code world} (default 0 of 1). */
        public Builder shard(int rank, int world) {
            this.rank = rank;
            this.world = world;
            return this;
        }

        /** Background worker threads (default 0: assemble on the caller's thread). */
        public Builder workers(int v) {
            if (v < 0) throw new IllegalArgumentException("workers must be >= 0, found " + v);
            workers = v;
            return this;
        }

        /** Batches assembled ahead when {@code workers > 0} (default 2). */
        public Builder prefetch(int v) {
            if (v < 1) throw new IllegalArgumentException("prefetch must be >= 1, found " + v);
            prefetch = v;
            return this;
        }

        /** Per-sample transform (default identity). */
        public Builder transform(Transform v) {
            transform = v == null ? Transform.identity() : v;
            return this;
        }

        /** Whole-batch transform such as {@link Mixup} (default none). */
        public Builder batchTransform(BatchTransform v) {
            batchTransform = v;
            return this;
        }

        public DataLoader build() {
            return new DataLoader(this);
        }
    }
}
