package dev.spikerev.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Host memory of this process from {@code /proc/self/status} (Linux), for measuring what a training step keeps alive.
 *
 * <p>For the numbers to mean "bytes held by tensors", start the JVM with {@code MALLOC_MMAP_THRESHOLD_=65536} (surefire
 * does): glibc then serves every allocation of 64 KiB or more with its own mmap and returns it to the OS on free, so
 * RSS moves by exactly the tensor bytes allocated or freed (rounded to pages). Smaller allocations (Java handle
 * objects, tensor metadata) stay in malloc arenas and add a little noise; take the minimum over a few repetitions.
 * Close Java tensor handles (or use a {@code PointerScope}) before measuring, since a handle keeps its tensor alive.
 *
 * <p>CUDA memory is not covered here (see the cookbook §4: {@code getDeviceStats}).
 */
public final class MemoryProbe {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private MemoryProbe() {}

    /** Resident set size in bytes ({@code VmRSS}); -1 where /proc is unavailable. */
    public static long rss() { return field("VmRSS:"); }

    /** Peak resident set size in bytes since start or the last {@link #resetPeak()} ({@code VmHWM}); -1 if unavailable. */
    public static long peakRss() { return field("VmHWM:"); }

    /** Resets {@code VmHWM} to the current RSS (writes 5 to {@code /proc/self/clear_refs}); false if not permitted. */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }

    /** Whether {@code MALLOC_MMAP_THRESHOLD_} is set for this process (needed for RSS deltas to track tensor bytes). */
    public static boolean mmapThresholdSet() {
        String v = System.getenv("MALLOC_MMAP_THRESHOLD_");
        return v != null && !v.isBlank();
    }

    /**
     * Runs {@code action} and returns how much RSS grew while the returned object is still alive (e.g. a forward pass
     * whose result keeps the autograd graph): {@code rss(after) − rss(before)}. The result is handed to
     * {@code afterMeasure} (e.g. to run backward and close it).
     */
    public static <T> long heldBy(Supplier<T> action, java.util.function.Consumer<T> afterMeasure) {
        long before = rss();
        T result = action.get();
        long after = rss();
        afterMeasure.accept(result);
        return after - before;
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS, StandardCharsets.US_ASCII)) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    long v = Long.parseLong(parts[0]);
                    return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? v * 1024 : v;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
