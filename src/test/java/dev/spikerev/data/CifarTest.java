package dev.spikerev.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarTest {
    @TempDir Path dir;

    private static byte px(int rec, int j) {
        return (byte) (rec * 31 + j * 7);
    }

    private static byte[] records(int first, int n, int labelBytes, int... labels) {
        int rec = 3072 + labelBytes;
        byte[] b = new byte[n * rec];
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < labelBytes; k++) b[r * rec + k] = (byte) labels[r * labelBytes + k];
            for (int j = 0; j < 3072; j++) b[r * rec + labelBytes + j] = px(first + r, j);
        }
        return b;
    }

    @Test
    void cifar10ConcatenatesBatchesInOrder() throws IOException {
        Path d = dir.resolve("cifar-10-batches-bin");
        Files.createDirectories(d);
        for (int i = 1; i <= 5; i++) Files.write(d.resolve("data_batch_" + i + ".bin"), records(2 * (i - 1), 2, 1, i, 9 - i));
        Files.write(d.resolve("test_batch.bin"), records(100, 1, 1, 3));
        Cifar tr = Cifar.cifar10(dir, true);
        assertEquals(10, tr.size());
        assertEquals(10, tr.numClasses());
        for (int i = 0; i < 10; i++) {
            Sample s = tr.get(i);
            assertArrayEquals(new int[] {3, 32, 32}, s.shape());
            int batch = i / 2 + 1;
            assertEquals(i % 2 == 0 ? batch : 9 - batch, s.label());
            // CHW: the red plane comes first; pixel (c=1, y=2, x=3) is byte 1024 + 2*32 + 3 of the record
            assertEquals(px(i, 1024 + 67), s.u8()[1024 + 67]);
            assertEquals(px(i, 3071), s.u8()[3071]);
        }
        Cifar te = Cifar.cifar10(d, false);
        assertEquals(1, te.size());
        assertEquals(3, te.get(0).label());
        assertEquals(px(100, 5), te.get(0).u8()[5]);
    }

    @Test
    void cifar100UsesFineLabels() throws IOException {
        Path d = dir.resolve("cifar-100-binary");
        Files.createDirectories(d);
        Files.write(d.resolve("train.bin"), records(0, 3, 2, 4, 30, 19, 99, 0, 0));
        Cifar c = Cifar.cifar100(dir, true);
        assertEquals(100, c.numClasses());
        assertEquals(3, c.size());
        assertEquals(30, c.get(0).label());
        assertEquals(4, c.coarseLabel(0));
        assertEquals(99, c.get(1).label());
        assertEquals(19, c.coarseLabel(1));
        assertEquals(px(2, 2000), c.get(2).u8()[2000]);
    }

    @Test
    void truncatedOrBadLabelsGiveOneLineErrors() throws IOException {
        Path f = dir.resolve("test_batch.bin");
        byte[] b = records(0, 2, 1, 1, 2);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 10));
        IOException e = assertThrows(IOException.class, () -> Cifar.fromFiles(Cifar.Kind.CIFAR10, List.of(f)));
        TestData.assertOneLineNaming(e, f);
        Files.write(f, records(0, 1, 1, 10));
        e = assertThrows(IOException.class, () -> Cifar.fromFiles(Cifar.Kind.CIFAR10, List.of(f)));
        TestData.assertOneLineNaming(e, f);
        // a CIFAR-10 file read as CIFAR-100 (3073 does not divide) is refused
        Files.write(f, records(0, 2, 1, 1, 2));
        e = assertThrows(IOException.class, () -> Cifar.fromFiles(Cifar.Kind.CIFAR100, List.of(f)));
        TestData.assertOneLineNaming(e, f);
        Path missing = dir.resolve("data_batch_1.bin");
        e = assertThrows(IOException.class, () -> Cifar.cifar10(dir, true));
        TestData.assertOneLineNaming(e, missing);
    }
}
