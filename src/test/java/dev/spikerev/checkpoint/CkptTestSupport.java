package dev.spikerev.checkpoint;

import dev.spikerev.testutil.Fixtures;
import dev.spikerev.testutil.Python;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Shared helpers of the checkpoint tests. */
final class CkptTestSupport {
    private CkptTestSupport() {}

    static String resource(String name) {
        try (InputStream in = CkptTestSupport.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing test resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs ckpt_dump.py over the files. */
    static String pythonDump(boolean weightsOnly, List<Path> files) {
        String[] args = Stream.concat(weightsOnly ? Stream.of("--weights-only") : Stream.empty(),
                files.stream().map(Path::toString)).toArray(String[]::new);
        return Python.run(resource("/python/ckpt_dump.py"), args);
    }

    static List<Path> fixtureFiles(String glob) {
        try (Stream<Path> s = Files.walk(Fixtures.root())) {
            var m = Fixtures.root().getFileSystem().getPathMatcher("glob:" + glob);
            return s.filter(p -> Files.isRegularFile(p) && m.matches(p.getFileName())).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String firstDifference(List<String> expected, List<String> actual) {
        for (int i = 0; i < Math.max(expected.size(), actual.size()); i++) {
            String e = i < expected.size() ? expected.get(i) : "<none>";
            String a = i < actual.size() ? actual.get(i) : "<none>";
            if (!e.equals(a)) return "line " + i + "\n  python: " + e + "\n  java:   " + a;
        }
        return null;
    }
}
