package dev.spikerev.data;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Small file helpers for the data package. */
public final class FileUtil {
    private FileUtil() {}

    /** Writes {@code bytes} to a temporary file next to {@code file} and renames it into place. */
    public static void writeAtomic(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + file.getFileName() + "." + ProcessHandle.current().pid() + "."
                + Long.toHexString(System.nanoTime()) + ".part");
        try {
            Files.write(tmp, bytes, java.nio.file.StandardOpenOption.CREATE_NEW);
            moveAtomic(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Renames {@code from} to {@code to}, atomically where the file system allows. */
    public static void moveAtomic(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Deletes a directory tree if it exists (best effort). */
    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) return;
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
