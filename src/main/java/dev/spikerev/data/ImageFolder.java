package dev.spikerev.data;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * torchvision-style {@code ImageFolder}: {@code root/<class>/**&#47;*.png|jpg|jpeg|bmp|gif}. Classes are the
 * sub-directory names sorted by code point (Python's {@code sorted}), class index = position in that list; files
 * are listed in torchvision's {@code make_dataset} order ({@link DatasetFolder}). Images are decoded with
 * {@link ImageIO} on every {@link #get} and returned as RGB {@code [3, H, W]} bytes (8-bit grayscale is replicated
 * to three channels; alpha is dropped, like PIL's {@code convert("RGB")}). Sizes may differ between images: add
 * {@link Transforms#resize}/{@link Transforms#centerCrop} before batching.
 */
public final class ImageFolder implements Dataset {
    /** File extensions accepted (lower case). */
    public static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");

    private final List<String> classes;
    private final List<Path> files;
    private final int[] labels;

    private ImageFolder(List<String> classes, List<Path> files, int[] labels) {
        this.classes = classes;
        this.files = files;
        this.labels = labels;
    }

    /** Scans {@code root}. */
    public static ImageFolder scan(Path root) throws IOException {
        if (!Files.isDirectory(root)) throw new IOException(root + ": not a directory");
        DatasetFolder listing = DatasetFolder.scan(root, DatasetFolder.withExtension(EXTENSIONS.stream().map(e -> "." + e).toArray(String[]::new)));
        if (listing.classes().isEmpty()) throw new IOException(root + ": no class sub-directories");
        DatasetFolder.Samples all = listing.samples(fs -> fs);
        if (all.files().isEmpty()) throw new IOException(root + ": no image files (" + EXTENSIONS + ")");
        return new ImageFolder(listing.classes(), all.files(), all.labels());
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public Sample get(int i) {
        Path f = files.get(i);
        try {
            BufferedImage img = read(f);
            return Sample.ofBytes(rgb(img), labels[i], 3, img.getHeight(), img.getWidth());
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** Decodes {@code f} with ImageIO; one-line IOException naming the file on failure. */
    static BufferedImage read(Path f) throws IOException {
        BufferedImage img;
        try {
            img = ImageIO.read(f.toFile());
        } catch (IOException | RuntimeException e) {
            throw new IOException(f + ": cannot decode image (" + e.getMessage() + ")", e);
        }
        if (img == null) throw new IOException(f + ": not a readable image (no ImageIO decoder)");
        return img;
    }

    /** RGB planes {@code [3, H, W]} of {@code img}. */
    static byte[] rgb(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth(), plane = h * w;
        byte[] out = new byte[3 * plane];
        Raster r = img.getRaster();
        boolean gray8 = r.getNumBands() == 1 && img.getColorModel().getComponentSize(0) == 8
                && img.getType() == BufferedImage.TYPE_BYTE_GRAY;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = y * w + x;
                if (gray8) {
                    byte v = (byte) r.getSample(x, y, 0);
                    out[o] = v;
                    out[plane + o] = v;
                    out[2 * plane + o] = v;
                } else {
                    int argb = img.getRGB(x, y);
                    out[o] = (byte) (argb >> 16);
                    out[plane + o] = (byte) (argb >> 8);
                    out[2 * plane + o] = (byte) argb;
                }
            }
        }
        return out;
    }

    @Override
    public int numClasses() {
        return classes.size();
    }

    /** Class names; index = label. */
    public List<String> classes() {
        return classes;
    }

    /** Path of sample {@code i}. */
    public Path file(int i) {
        return files.get(i);
    }
}
