package dev.spikerev.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every YAML file under configs/ loads and validates (and names a registered model family). */
class ShippedConfigsTest {
    @Test
    void allShippedConfigsLoad() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of("configs"))) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertFalse(files.isEmpty());
        for (Path f : files) {
            TrainConfig c = assertDoesNotThrow(() -> ConfigLoader.load(f, List.of()), f.toString());
            assertDoesNotThrow(() -> dev.spikerev.models.ModelFamilies.get(c.family), f + ": family " + c.family);
            assertFalse(c.model.isEmpty(), f + ": empty model section");
        }
    }
}
