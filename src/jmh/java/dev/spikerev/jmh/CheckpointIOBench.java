package dev.spikerev.jmh;

import static org.bytedeco.pytorch.global.torch.randn;

import dev.spikerev.checkpoint.TorchFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Checkpoint throughput of the pure-Java torch.save format: {@link TorchFile#saveStateDict} and {@link TorchFile#load}
 * of a state_dict of {@code tensors} float32 tensors of {@code elements} elements each (default 12 x 2^20 = 50.3 MB of
 * tensor data, 48 MiB). The primary score is files per second; the secondary {@code :mbPerSecond} row is tensor
 * bytes per second in MB (10^6 bytes), directly comparable with {@code tools/bench_checkpoint_io.py}. The file lives
 * in a temporary directory ({@code -Djava.io.tmpdir} / {@code -p dir=...}), so load mostly reads the page cache, as
 * does the Python script.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-XX:+UseSerialGC"})
public class CheckpointIOBench {

    @Param({"12"}) public int tensors;
    @Param({"1048576"}) public int elements;
    /** Directory for the checkpoint file; empty = a fresh directory under java.io.tmpdir. */
    @Param({""}) public String dir;
    /** libtorch intra-op threads; 0 = libtorch's default (or SPIKEREV_THREADS). */
    @Param({"0"}) public int threads;

    private final Map<String, Tensor> stateDict = new LinkedHashMap<>();
    private Path tmpDir;
    private Path loadFile;
    private Path saveFile;
    private double megabytes;

    /** Tensor megabytes moved per second (JMH divides the counter by the iteration time). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public double mbPerSecond;

        @Setup(Level.Iteration)
        public void reset() { mbPerSecond = 0; }
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        JmhSupport.init(threads);
        long bytes = 0;
        for (int i = 0; i < tensors; i++) {
            Tensor t = randn(elements);
            stateDict.put("layer" + i + ".weight", t);
            bytes += t.nbytes();
        }
        megabytes = bytes / 1e6;
        tmpDir = dir.isEmpty() ? Files.createTempDirectory("spikerev-jmh") : Files.createDirectories(Path.of(dir));
        loadFile = tmpDir.resolve("load.pth");
        saveFile = tmpDir.resolve("save.pth");
        TorchFile.saveStateDict(loadFile, stateDict);
        System.out.printf("%n[checkpoint] %d float32 tensors x %d elements = %.1f MB of tensor data, file %d bytes, in %s%n",
                tensors, elements, megabytes, Files.size(loadFile), tmpDir);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        for (Tensor t : stateDict.values()) t.close();
        stateDict.clear();
        Files.deleteIfExists(loadFile);
        Files.deleteIfExists(saveFile);
        if (dir.isEmpty()) Files.deleteIfExists(tmpDir);
    }

    @Benchmark
    public void save(Bytes counter) {
        try (PointerScope scope = new PointerScope()) {
            TorchFile.saveStateDict(saveFile, stateDict);
        }
        counter.mbPerSecond += megabytes;
    }

    @Benchmark
    public void load(Bytes counter, Blackhole bh) {
        try (PointerScope scope = new PointerScope()) {   // the loaded tensors are attached to it and freed here
            bh.consume(TorchFile.load(loadFile));
        }
        counter.mbPerSecond += megabytes;
    }
}
