package dev.spikerev.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * MNIST or Fashion-MNIST from the official IDX files ({@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each optionally {@code .gz}). Samples are
 * {@code [1, 28, 28]} raw bytes (scale with {@link Transforms#toFloat()} or use {@link Sample#floats()}). The whole
 * split is held in memory (47 MB for the MNIST training images).
 */
public final class Mnist implements Dataset {
    /** Which half of the data. */
    public enum Split {
        TRAIN("train"), TEST("t10k");

        /** File-name prefix of the split. */
        public final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private final byte[] images;
    private final byte[] labels;
    private final int rows;
    private final int cols;
    private final int numClasses;

    private Mnist(byte[] images, byte[] labels, int rows, int cols, int numClasses) {
        this.images = images;
        this.labels = labels;
        this.rows = rows;
        this.cols = cols;
        this.numClasses = numClasses;
    }

    /** Loads {@code split} from {@code dir}, taking the plain file or its {@code .gz} variant. */
    public static Mnist load(Path dir, Split split) throws IOException {
        return fromFiles(find(dir, split.prefix + "-images-idx3-ubyte"), find(dir, split.prefix + "-labels-idx1-ubyte"));
    }

    /** Unchecked variant of {@link #load(Path, Split)}. */
    public static Mnist loadUnchecked(Path dir, Split split) {
        try {
            return load(dir, split);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** True if both files of {@code split} (plain or gz) exist in {@code dir}. */
    public static boolean present(Path dir, Split split) {
        return exists(dir, split.prefix + "-images-idx3-ubyte") && exists(dir, split.prefix + "-labels-idx1-ubyte");
    }

    private static boolean exists(Path dir, String name) {
        return Files.isRegularFile(dir.resolve(name)) || Files.isRegularFile(dir.resolve(name + ".gz"));
    }

    private static Path find(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        if (Files.isRegularFile(p)) return p;
        Path gz = dir.resolve(name + ".gz");
        if (Files.isRegularFile(gz)) return gz;
        throw new IOException(p + ": file not found (nor " + gz.getFileName()
                + "); run tools/fetch_mnist.sh or MnistFetcher");
    }

    /** Loads an image file ({@code [N, H, W]}) and its label file ({@code [N]}, values 0..9). */
    public static Mnist fromFiles(Path imageFile, Path labelFile) throws IOException {
        Idx.Array im = Idx.read(imageFile, 3);
        Idx.Array lb = Idx.read(labelFile, 1);
        if (im.dims()[0] != lb.dims()[0]) {
            throw new IOException(imageFile + ": " + im.dims()[0] + " images but " + labelFile + " has "
                    + lb.dims()[0] + " labels");
        }
        int max = 0;
        for (byte l : lb.data()) max = Math.max(max, l & 0xff);
        if (max > 9) throw new IOException(labelFile + ": label " + max + " out of range 0..9");
        return new Mnist(im.data(), lb.data(), im.dims()[1], im.dims()[2], 10);
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public Sample get(int i) {
        if (i < 0 || i >= labels.length) throw new IndexOutOfBoundsException("index " + i + " of " + labels.length);
        int n = rows * cols;
        return Sample.ofBytes(Arrays.copyOfRange(images, i * n, (i + 1) * n), labels[i] & 0xff, 1, rows, cols);
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    /** Image height. */
    public int rows() {
        return rows;
    }

    /** Image width. */
    public int cols() {
        return cols;
    }
}
