package dev.spikerev.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * DVS128 Gesture and CIFAR10-DVS as the RevSNN DVS recipes load them: SpikingJelly's
 * {@code DVS128Gesture(root, train, data_type='frame', frames_number=T, split_by=...)} and
 * {@code CIFAR10DVS(root, data_type='frame', ...)} followed by the scripts' {@code split_to_train_test_set(0.9, set, 10)}.
 * Samples are float event-count frames {@code [T, 2, 128, 128]}.
 *
 * <p><b>Files</b>, first match wins, under {@code root} (SpikingJelly's own layout, so a folder SpikingJelly already
 * processed is used as is; {@code <split>} is {@code train} / {@code test} for DVS128 Gesture and absent for
 * CIFAR10-DVS):
 * <ol>
 * <li>{@code frames_number_<T>_split_by_<split_by>/<split>/<class>/*.npz} (array {@code frames}, cast to float32 like
 *     SpikingJelly's {@code load_npz_frames});</li>
 * <li>{@code events_np/<split>/<class>/*.npz} (arrays {@code t, x, y, p}), integrated on the fly by
 *     {@link EventFrames#integrate};</li>
 * <li>CIFAR10-DVS only: the raw download, {@code extract/<class>/*.aedat} or {@code <class>/*.aedat} in {@code root},
 *     read by {@link EventFrames#readCifar10DvsAedat} and integrated on the fly.</li>
 * </ol>
 * <b>Labels and order</b> follow torchvision's {@code DatasetFolder}: class folders sorted by name (so DVS128 Gesture's
 * folders {@code 0 .. 10} get labels in the order 0, 1, 10, 2, ..., 9, as in the reference), files sorted within each
 * class. <b>CIFAR10-DVS split</b>: per class, the first {@code ceil(0.9 n)} files train, the rest test (no shuffle).
 */
public final class DvsFolder implements Dataset {
    /** Sensor size of both datasets. */
    public static final int SIZE = 128;
    /** Train fraction of every CIFAR10-DVS class ({@code split_to_train_test_set(0.9, ...)}). */
    public static final double CIFAR10_DVS_TRAIN_RATIO = 0.9;

    /** The two datasets of the RevSNN DVS recipes. */
    public enum Kind {
        DVS128_GESTURE("dvs128-gesture", 11, true), CIFAR10_DVS("cifar10-dvs", 10, false);

        public final String id;
        public final int classes;
        /** Whether the dataset ships a train/test split (sub-folders {@code train}, {@code test}). */
        public final boolean officialSplit;

        Kind(String id, int classes, boolean officialSplit) {
            this.id = id;
            this.classes = classes;
            this.officialSplit = officialSplit;
        }
    }

    /** Where the samples come from. */
    public enum Source { FRAMES, EVENTS, AEDAT }

    private final List<Path> files;
    private final int[] labels;
    private final Source source;
    private final int frames;
    private final EventFrames.SplitBy splitBy;
    private final int numClasses;

    private DvsFolder(List<Path> files, int[] labels, Source source, int frames, EventFrames.SplitBy splitBy, int numClasses) {
        this.files = files;
        this.labels = labels;
        this.source = source;
        this.frames = frames;
        this.splitBy = splitBy;
        this.numClasses = numClasses;
    }

    /** The train or test split of {@code kind} under {@code root}, {@code frames} frames per sample. */
    public static DvsFolder open(Path root, Kind kind, boolean train, int frames, EventFrames.SplitBy splitBy) throws IOException {
        if (frames < 1) throw new IllegalArgumentException("frames (T) must be >= 1, found " + frames);
        if (!Files.isDirectory(root)) throw new IOException("data.root " + root + ": no such folder (" + kind.id + ")");
        String split = kind.officialSplit ? (train ? "train" : "test") : null;
        Path framesDir = root.resolve("frames_number_" + frames + "_split_by_" + splitBy.key());
        Path eventsDir = root.resolve("events_np");
        Source source;
        Path base;
        if (Files.isDirectory(framesDir)) { source = Source.FRAMES; base = framesDir; }
        else if (Files.isDirectory(eventsDir)) { source = Source.EVENTS; base = eventsDir; }
        else if (!kind.officialSplit && hasAedatClasses(root.resolve("extract"))) { source = Source.AEDAT; base = root.resolve("extract"); split = null; }
        else if (!kind.officialSplit && hasAedatClasses(root)) { source = Source.AEDAT; base = root; split = null; }
        else {
            throw new IOException("data.root " + root + ": no " + kind.id + " data found: expected SpikingJelly's "
                    + framesDir.getFileName() + "/ or events_np/"
                    + (kind.officialSplit ? " (with train/ and test/)" : " or the raw <class>/*.aedat folders") + " there");
        }
        Path dir = split == null ? base : base.resolve(split);
        if (!Files.isDirectory(dir)) throw new IOException(kind.id + ": folder " + dir + " is missing");
        String ext = source == Source.AEDAT ? ".aedat" : ".npz";
        DatasetFolder listing = DatasetFolder.scan(dir, DatasetFolder.withExtension(ext));
        if (listing.classes().isEmpty()) throw new IOException(kind.id + ": no class folders in " + dir);
        if (listing.classes().size() > kind.classes)
            throw new IOException(kind.id + ": " + listing.classes().size() + " class folders in " + dir + ", the dataset has " + kind.classes);
        DatasetFolder.Samples s = listing.samples(cf -> {
            if (kind.officialSplit) return cf;
            int pos = (int) Math.ceil(cf.size() * CIFAR10_DVS_TRAIN_RATIO); // the scripts' split_to_train_test_set(0.9, ...)
            return train ? cf.subList(0, pos) : cf.subList(pos, cf.size());
        });
        if (s.files().isEmpty()) throw new IOException(kind.id + ": no " + ext + " files under " + dir + (train ? " (train)" : " (test)"));
        return new DvsFolder(s.files(), s.labels(), source, frames, splitBy, kind.classes);
    }

    /** Whether {@code dir} holds class folders with raw {@code .aedat} files (the CIFAR10-DVS download). */
    private static boolean hasAedatClasses(Path dir) throws IOException {
        return Files.isDirectory(dir) && DatasetFolder.scan(dir, DatasetFolder.withExtension(".aedat")).size() > 0;
    }

    public Source source() { return source; }
    public Path file(int i) { return files.get(i); }
    public int label(int i) { return labels[i]; }

    @Override public int size() { return files.size(); }
    @Override public int numClasses() { return numClasses; }

    @Override public Sample get(int i) {
        Path f = files.get(i);
        try {
            float[] data = switch (source) {
                case FRAMES -> readFrames(f);
                case EVENTS -> EventFrames.integrate(EventFrames.readNpz(f), frames, splitBy, SIZE, SIZE, f.toString());
                case AEDAT -> EventFrames.integrate(EventFrames.readCifar10DvsAedat(f), frames, splitBy, SIZE, SIZE, f.toString());
            };
            return Sample.ofFloats(data, labels[i], frames, 2, SIZE, SIZE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private float[] readFrames(Path f) throws IOException {
        Npy.Array a = Npy.readNpz(f, "frames");
        long[] s = a.shape();
        if (s.length != 4 || s[0] != frames || s[1] != 2 || s[2] != SIZE || s[3] != SIZE)
            throw new IOException(f + ": frames of shape " + java.util.Arrays.toString(s) + ", expected [" + frames + ", 2, "
                    + SIZE + ", " + SIZE + "]");
        return a.toFloats();
    }
}
