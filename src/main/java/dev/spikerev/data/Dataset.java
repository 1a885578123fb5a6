package dev.spikerev.data;

/**
 * A random-access collection of {@link Sample}s. Implementations must be safe to call from several worker threads
 * at once ({@code get} should only read immutable state or open its own file handles).
 */
public interface Dataset {
    /** Number of samples. */
    int size();

    /** Sample {@code i}, {@code 0 <= i < size()}; never augmented (augmentation is the loader's job). */
    Sample get(int i);

    /** Number of classes the labels are drawn from (labels are {@code 0..numClasses-1}). */
    int numClasses();

    /** A view of the samples {@code from..to-1}, e.g. for a validation split. */
    default Dataset subset(int from, int to) {
        Dataset base = this;
        if (from < 0 || to > size() || from > to) {
            throw new IndexOutOfBoundsException("subset [" + from + ", " + to + ") of a dataset of size " + size());
        }
        return new Dataset() {
            @Override public int size() { return to - from; }
            @Override public Sample get(int i) {
                if (i < 0 || i >= to - from) throw new IndexOutOfBoundsException(i);
                return base.get(from + i);
            }
            @Override public int numClasses() { return base.numClasses(); }
        };
    }
}
