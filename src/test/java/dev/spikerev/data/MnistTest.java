package dev.spikerev.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistTest {
    @TempDir Path dir;

    private static byte[] images(int n, int h, int w) {
        byte[] b = new byte[n * h * w];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (i * 7 + 3);
        return b;
    }

    @Test
    void readsPlainIdxExactly() throws IOException {
        byte[] im = images(3, 4, 5);
        Idx.write(dir.resolve("train-images-idx3-ubyte"), im, 3, 4, 5);
        Idx.write(dir.resolve("train-labels-idx1-ubyte"), new byte[] {7, 0, 9}, 3);
        Mnist m = Mnist.load(dir, Mnist.Split.TRAIN);
        assertEquals(3, m.size());
        assertEquals(10, m.numClasses());
        Sample s = m.get(1);
        assertArrayEquals(new int[] {1, 4, 5}, s.shape());
        assertEquals(0, s.label());
        for (int j = 0; j < 20; j++) assertEquals((byte) ((20 + j) * 7 + 3), s.u8()[j]);
        assertEquals((((20 + 6) * 7 + 3) & 0xff) / 255f, s.floats()[6], 0f);
        assertEquals(9, m.get(2).label());
    }

    @Test
    void readsGzVariantsAndHeaderBytesAreOfficial() throws IOException {
        byte[] im = images(2, 28, 28);
        Idx.write(dir.resolve("t10k-images-idx3-ubyte.gz"), im, 2, 28, 28);
        Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"),
                TestData.gzip(new byte[] {0, 0, 8, 1, 0, 0, 0, 2, 4, 5}));
        byte[] enc = Idx.encode(im, 2, 28, 28);
        assertArrayEquals(new byte[] {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28},
                java.util.Arrays.copyOf(enc, 16)); // magic 2051
        Mnist m = Mnist.load(dir, Mnist.Split.TEST);
        assertEquals(2, m.size());
        assertEquals(4, m.get(0).label());
        assertEquals(5, m.get(1).label());
        assertArrayEquals(java.util.Arrays.copyOfRange(im, 784, 1568), m.get(1).u8());
    }

    @Test
    void badMagicTruncationAndMismatchGiveOneLineErrorsNamingTheFile() throws IOException {
        Path img = dir.resolve("train-images-idx3-ubyte");
        Path lab = dir.resolve("train-labels-idx1-ubyte");
        Idx.write(lab, new byte[] {1, 2}, 2);
        // labels file given as images: wrong number of dimensions (magic 2049 instead of 2051)
        Files.copy(lab, img);
        IOException e = assertThrows(IOException.class, () -> Mnist.load(dir, Mnist.Split.TRAIN));
        TestData.assertOneLineNaming(e, img);
        assertTrue(e.getMessage().contains("dimensions"), e.getMessage());
        // truncated image data
        byte[] good = Idx.encode(images(2, 3, 3), 2, 3, 3);
        Files.write(img, java.util.Arrays.copyOf(good, good.length - 1));
        e = assertThrows(IOException.class, () -> Mnist.load(dir, Mnist.Split.TRAIN));
        TestData.assertOneLineNaming(e, img);
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        // not IDX at all
        Files.writeString(img, "hello world");
        e = assertThrows(IOException.class, () -> Mnist.load(dir, Mnist.Split.TRAIN));
        TestData.assertOneLineNaming(e, img);
        // corrupt gzip
        Files.delete(img);
        Path gz = dir.resolve("train-images-idx3-ubyte.gz");
        byte[] z = TestData.gzip(good);
        Files.write(gz, java.util.Arrays.copyOf(z, z.length / 2));
        e = assertThrows(IOException.class, () -> Mnist.load(dir, Mnist.Split.TRAIN));
        TestData.assertOneLineNaming(e, gz);
        // count mismatch
        Files.write(gz, TestData.gzip(Idx.encode(images(3, 3, 3), 3, 3, 3)));
        e = assertThrows(IOException.class, () -> Mnist.load(dir, Mnist.Split.TRAIN));
        TestData.assertOneLineNaming(e, gz);
        // label out of range
        Files.write(gz, TestData.gzip(good));
        Idx.write(lab, new byte[] {1, 12}, 2);
        e = assertThrows(IOException.class, () -> Mnist.load(dir, Mnist.Split.TRAIN));
        TestData.assertOneLineNaming(e, lab);
        // missing
        e = assertThrows(IOException.class, () -> Mnist.load(dir, Mnist.Split.TEST));
        assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte"), e.getMessage());
    }
}
