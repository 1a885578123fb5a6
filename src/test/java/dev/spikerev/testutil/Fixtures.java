package dev.spikerev.testutil;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the golden fixtures (copied from ../shared/fixtures into src/test/resources/fixtures) (system property {@code spikerev.fixtures}, set by the pom). */
public final class Fixtures {
    private Fixtures() {}

    public static Path root() {
        Path p = Path.of(System.getProperty("spikerev.fixtures", "src/test/resources/fixtures"));
        if (!Files.isDirectory(p)) throw new IllegalStateException("fixtures not found at " + p.toAbsolutePath());
        return p;
    }

    public static Path of(String first, String... more) {
        return root().resolve(Path.of(first, more));
    }
}
