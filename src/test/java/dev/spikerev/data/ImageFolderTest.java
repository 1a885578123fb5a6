package dev.spikerev.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    @TempDir Path root;

    private static int rgb(int x, int y, int k) {
        return ((10 * x + k) << 16) | ((20 * y + k) << 8) | (x + y + k);
    }

    private void png(Path f, int w, int h, int k) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgb(x, y, k));
        Files.createDirectories(f.getParent());
        assertTrue(ImageIO.write(img, "png", f.toFile()));
    }

    @Test
    void classesSortedLikeTorchvisionAndPixelsExact() throws IOException {
        png(root.resolve("zebra/b.png"), 4, 3, 1);
        png(root.resolve("zebra/a.png"), 4, 3, 2);
        png(root.resolve("Ant/x.png"), 4, 3, 3);
        png(root.resolve("cat/sub/y.png"), 4, 3, 4);
        Files.writeString(root.resolve("cat/notes.txt"), "ignored");
        ImageFolder f = ImageFolder.scan(root);
        assertEquals(List.of("Ant", "cat", "zebra"), f.classes()); // code-point order: upper case first
        assertEquals(4, f.size());
        assertEquals(3, f.numClasses());
        assertEquals("a.png", f.file(2).getFileName().toString());
        Sample s = f.get(2);
        assertEquals(2, s.label());
        assertArrayEquals(new int[] {3, 3, 4}, s.shape());
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                int v = rgb(x, y, 2);
                assertEquals((v >> 16) & 0xff, s.u8()[y * 4 + x] & 0xff);
                assertEquals((v >> 8) & 0xff, s.u8()[12 + y * 4 + x] & 0xff);
                assertEquals(v & 0xff, s.u8()[24 + y * 4 + x] & 0xff);
            }
        }
        assertEquals(1, f.get(1).label());
        // resize + crop to a common size for batching
        Sample r = Transform.compose(Transforms.resizeShorter(6), Transforms.centerCrop(6, 6)).apply(s, new SplittableRandom(0));
        assertArrayEquals(new int[] {3, 6, 6}, r.shape());
    }

    /** torchvision's make_dataset walks sorted(os.walk(class_dir)): a class folder's own files come before its sub-folders'. */
    @Test
    void filesInTorchvisionWalkOrder() throws IOException {
        png(root.resolve("cat/sub/y.png"), 4, 3, 1);
        png(root.resolve("cat/z.png"), 4, 3, 2);
        png(root.resolve("cat/sub-b/x.png"), 4, 3, 3);
        png(root.resolve("cat/a.PNG"), 4, 3, 4);
        png(root.resolve("cat/sub/deep/w.png"), 4, 3, 5);
        ImageFolder f = ImageFolder.scan(root);
        List<String> order = new java.util.ArrayList<>();
        for (int i = 0; i < f.size(); i++) order.add(root.resolve("cat").relativize(f.file(i)).toString().replace('\\', '/'));
        // as Python lists them: directories by path string ("cat/sub" < "cat/sub-b" < "cat/sub/deep"), files by name
        assertEquals(List.of("a.PNG", "z.png", "sub/y.png", "sub-b/x.png", "sub/deep/w.png"), order);
    }

    @Test
    void grayscalePngIsReplicatedUnchanged() throws IOException {
        BufferedImage g = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setSample(0, 0, 0, 17);
        g.getRaster().setSample(1, 1, 0, 200);
        Path f = root.resolve("c/g.png");
        Files.createDirectories(f.getParent());
        ImageIO.write(g, "png", f.toFile());
        Sample s = ImageFolder.scan(root).get(0);
        assertEquals(17, s.u8()[0] & 0xff);
        assertEquals(200, s.u8()[3] & 0xff);
        assertEquals(200, s.u8()[4 + 3] & 0xff);
        assertEquals(200, s.u8()[8 + 3] & 0xff);
    }

    @Test
    void corruptImageGivesOneLineErrorNamingTheFile() throws IOException {
        Path f = root.resolve("c/bad.png");
        Files.createDirectories(f.getParent());
        Files.write(f, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        ImageFolder d = ImageFolder.scan(root);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> d.get(0));
        TestData.assertOneLineNaming(e, f);
        assertThrows(IOException.class, () -> ImageFolder.scan(root.resolve("none")));
    }
}
