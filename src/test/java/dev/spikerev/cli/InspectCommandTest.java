package dev.spikerev.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spikerev.checkpoint.Checkpoints;
import dev.spikerev.checkpoint.StateDicts;
import dev.spikerev.checkpoint.TorchFile;
import dev.spikerev.testutil.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
    @TempDir Path tmp;

    static List<Path> checkpoints() throws Exception {
        try (Stream<Path> s = Files.walk(Fixtures.root())) {
            return s.filter(p -> p.getFileName().toString().equals("checkpoint.pth")).sorted().toList();
        }
    }

    @Test
    void showsKeysAndParameterCountsOfEveryFixtureCheckpoint() throws Exception {
        List<Path> files = checkpoints();
        assertEquals(10, files.size());
        for (Path f : files) {
            String modelKey, firstKey;
            long params;
            try (PointerScope scope = new PointerScope()) {
                Object ck = TorchFile.load(f);
                modelKey = Checkpoints.defaultModelKey(ck);
                Map<String, Tensor> sd = StateDicts.tensors(((Map<?, ?>) ck).get(modelKey));
                params = StateDicts.parameterCount(sd);
                firstKey = sd.keySet().iterator().next();
            }
            CliRun r = CliRun.of("inspect", f.toString());
            assertEquals(0, r.rc(), f + ": " + r.err());
            String expectHead = String.format("  %s: ", modelKey);
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(expectHead) && l.endsWith(String.format(" %,d parameters", params))),
                    f + ": no line '" + expectHead + "… " + params + " parameters' in\n" + r.out().lines().limit(5).toList());
            assertTrue(r.out().contains("    " + firstKey + ": float32["), f + ": state_dict keys listed with dtype and shape");
            assertTrue(r.out().lines().anyMatch(l -> l.matches("total: [\\d,]+ tensors, [\\d,]+ parameters")), f.toString());

            CliRun j = CliRun.of("inspect", f.toString(), "--json", "--depth", "1");
            assertEquals(0, j.rc(), j.err());
            JsonNode root = new ObjectMapper().readTree(j.out());
            assertEquals(params, root.path("root").path("items").path(modelKey).path("parameters").asLong(), f.toString());
            assertTrue(root.path("total_parameters").asLong() > params);
        }
        CliRun t = CliRun.of("inspect", Fixtures.of("t-revsnn", "k3_rev", "checkpoint.pth").toString(), "--depth", "1");
        assertTrue(t.out().contains("  input: <builtins.input>"), t.out());
        assertTrue(t.out().contains("  config: yacs.config.CfgNode("), t.out());
    }

    @Test
    void badFilesExitTwoWithOneLine() throws Exception {
        Path garbage = tmp.resolve("garbage.pth");
        Files.writeString(garbage, "not a checkpoint", StandardCharsets.UTF_8);
        byte[] good = Files.readAllBytes(Fixtures.of("revsnn", "revsresnet_dvs_tiny", "model.pth"));
        Path truncated = tmp.resolve("truncated.pth");
        Files.write(truncated, java.util.Arrays.copyOf(good, good.length / 2));
        Path legacy = tmp.resolve("legacy.pth");
        Files.write(legacy, new byte[] {(byte) 0x80, 2, '}', '.'});
        Object[][] cases = {
                {tmp.resolve("missing.pth"), "no such file"},
                {garbage, "not a torch.save zip file"},
                {truncated, "end-of-central-directory"},
                {legacy, "legacy"},
        };
        for (Object[] c : cases) {
            CliRun r = CliRun.of("inspect", c[0].toString());
            assertEquals(2, r.rc(), c[0] + ": " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("error: ") && r.err().contains((String) c[1]), r.err());
            assertEquals("", r.out());
        }
    }
}
