package dev.spikerev.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * CIFAR-10 / CIFAR-100 from the official binary version.
 *
 * <p>CIFAR-10 ({@code cifar-10-batches-bin/}): {@code data_batch_1.bin .. data_batch_5.bin} (train) and
 * {@code test_batch.bin}, records of 1 label byte + 3072 pixel bytes. CIFAR-100 ({@code cifar-100-binary/}):
 * {@code train.bin} / {@code test.bin}, records of coarse label + fine label + 3072 bytes. Pixels are stored as the
 * 1024-byte red plane, then green, then blue (row-major 32x32), i.e. already {@code [3, 32, 32]} CHW. Samples are
 * raw bytes; labels are the CIFAR-10 class or the CIFAR-100 fine label ({@link #coarseLabel(int)} gives the other).
 */
public final class Cifar implements Dataset {
    /** Which dataset. */
    public enum Kind { CIFAR10, CIFAR100 }

    private static final int PIXELS = 3072;

    private final byte[] pixels;
    private final byte[] labels;
    private final byte[] coarse;
    private final Kind kind;

    private Cifar(Kind kind, byte[] pixels, byte[] labels, byte[] coarse) {
        this.kind = kind;
        this.pixels = pixels;
        this.labels = labels;
        this.coarse = coarse;
    }

    /** CIFAR-10 from {@code dir} (the batches folder itself or its parent holding {@code cifar-10-batches-bin}). */
    public static Cifar cifar10(Path dir, boolean train) throws IOException {
        Path d = Files.isDirectory(dir.resolve("cifar-10-batches-bin")) ? dir.resolve("cifar-10-batches-bin") : dir;
        List<Path> files = new ArrayList<>();
        if (train) for (int i = 1; i <= 5; i++) files.add(d.resolve("data_batch_" + i + ".bin"));
        else files.add(d.resolve("test_batch.bin"));
        return fromFiles(Kind.CIFAR10, files);
    }

    /** CIFAR-100 from {@code dir} (the folder with train.bin/test.bin or its parent holding cifar-100-binary). */
    public static Cifar cifar100(Path dir, boolean train) throws IOException {
        Path d = Files.isDirectory(dir.resolve("cifar-100-binary")) ? dir.resolve("cifar-100-binary") : dir;
        return fromFiles(Kind.CIFAR100, List.of(d.resolve(train ? "train.bin" : "test.bin")));
    }

    /** Unchecked {@link #cifar10}/{@link #cifar100} by class count (10 or 100). */
    public static Cifar load(Path dir, int classes, boolean train) {
        try {
            if (classes == 10) return cifar10(dir, train);
            if (classes == 100) return cifar100(dir, train);
            throw new IllegalArgumentException("CIFAR has 10 or 100 classes, found " + classes);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** Concatenates binary batch files of {@code kind}, in the given order. */
    public static Cifar fromFiles(Kind kind, List<Path> files) throws IOException {
        int rec = kind == Kind.CIFAR10 ? PIXELS + 1 : PIXELS + 2;
        int maxFine = kind == Kind.CIFAR10 ? 9 : 99;
        List<byte[]> raws = new ArrayList<>();
        long total = 0;
        for (Path f : files) {
            if (!Files.isRegularFile(f)) throw new IOException(f + ": file not found");
            byte[] raw = Files.readAllBytes(f);
            if (raw.length == 0 || raw.length % rec != 0) {
                throw new IOException(f + ": " + raw.length + " bytes is not a whole number of " + rec + "-byte "
                        + kind + " records (truncated or wrong dataset?)");
            }
            for (int r = 0; r < raw.length / rec; r++) {
                int off = r * rec;
                if (kind == Kind.CIFAR100 && (raw[off] & 0xff) > 19) {
                    throw new IOException(f + ": record " + r + " has coarse label " + (raw[off] & 0xff) + " > 19");
                }
                int fine = raw[off + rec - PIXELS - 1] & 0xff;
                if (fine > maxFine) {
                    throw new IOException(f + ": record " + r + " has label " + fine + " > " + maxFine);
                }
            }
            raws.add(raw);
            total += raw.length / rec;
        }
        int n = Math.toIntExact(total);
        byte[] px = new byte[n * PIXELS];
        byte[] lab = new byte[n];
        byte[] co = kind == Kind.CIFAR100 ? new byte[n] : null;
        int i = 0;
        for (byte[] raw : raws) {
            for (int off = 0; off < raw.length; off += rec, i++) {
                if (co != null) co[i] = raw[off];
                lab[i] = raw[off + rec - PIXELS - 1];
                System.arraycopy(raw, off + rec - PIXELS, px, i * PIXELS, PIXELS);
            }
        }
        return new Cifar(kind, px, lab, co);
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public Sample get(int i) {
        if (i < 0 || i >= labels.length) throw new IndexOutOfBoundsException("index " + i + " of " + labels.length);
        return Sample.ofBytes(Arrays.copyOfRange(pixels, i * PIXELS, (i + 1) * PIXELS), labels[i] & 0xff, 3, 32, 32);
    }

    @Override
    public int numClasses() {
        return kind == Kind.CIFAR10 ? 10 : 100;
    }

    /** CIFAR-100 coarse (superclass) label of sample {@code i}; for CIFAR-10 the class itself. */
    public int coarseLabel(int i) {
        return coarse == null ? labels[i] & 0xff : coarse[i] & 0xff;
    }

    /** Which dataset this is. */
    public Kind kind() {
        return kind;
    }
}
