package dev.spikerev.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spikerev.testutil.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** Every fixture .pth/.pt loads, and matches what PyTorch itself reads, bit for bit. */
class CheckpointReaderTest {

    @Test
    void everyFixtureMatchesPythonExactly() {
        List<Path> files = new ArrayList<>(CkptTestSupport.fixtureFiles("*.{pth,pt}"));
        assertTrue(files.size() >= 30, "expected the 30 fixture files, found " + files.size());
        Map<String, List<String>> python = CanonicalDump.parsePython(CkptTestSupport.pythonDump(false, files));
        List<String> failures = new ArrayList<>();
        int tensors = 0;
        for (Path f : files) {
            List<String> expected = python.get(f.toString());
            if (expected == null) { failures.add(f + ": no python dump"); continue; }
            List<String> actual;
            try (PointerScope scope = new PointerScope()) {
                actual = CanonicalDump.dump(TorchFile.load(f));
            }
            tensors += (int) actual.stream().filter(l -> l.startsWith("T ")).count();
            String diff = CkptTestSupport.firstDifference(expected, actual);
            if (diff != null) failures.add(f + ": " + diff);
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertTrue(tensors > 5000, "only " + tensors + " tensors compared");
    }

    @Test
    void inertObjectsOfTrainingCheckpointsAreRecordedNotExecuted() {
        try (PointerScope scope = new PointerScope()) {
            Map<?, ?> ck = (Map<?, ?>) TorchFile.load(Fixtures.of("t-revsnn", "k3_rev", "checkpoint.pth"));
            PyObject input = assertInstanceOf(PyObject.class, ck.get("input"));
            assertTrue(input.isReference());
            assertEquals("builtins.input", input.qualifiedName());
            PyObject cfg = assertInstanceOf(PyObject.class, ck.get("config"));
            assertEquals("yacs.config.CfgNode", cfg.qualifiedName());
            PyObject data = assertInstanceOf(PyObject.class, cfg.items().get("DATA"));
            assertEquals(2L, data.items().get("BATCH_SIZE"));
            assertEquals(Boolean.TRUE, data.attribute("__immutable__"));
            assertInstanceOf(java.util.Set.class, data.attribute("__deprecated_keys__"));
            assertInstanceOf(PyOrderedDict.class, ck.get("model"));
            assertFalse(((PyOrderedDict) ck.get("model")).attributes().isEmpty(), "_metadata kept");

            Map<?, ?> rr = (Map<?, ?>) TorchFile.load(Fixtures.of("revsnn", "revsresnet_cifar_tiny", "checkpoint.pth"));
            PyObject args = assertInstanceOf(PyObject.class, rr.get("args"));
            assertEquals("argparse.Namespace", args.qualifiedName());
            assertEquals(2L, args.attribute("T"));
            PyObject milestones = assertInstanceOf(PyObject.class,
                    ((Map<?, ?>) rr.get("lr_scheduler")).get("milestones"));
            assertEquals("collections.Counter", milestones.qualifiedName());
            assertEquals(1L, milestones.items().get(100L));
            assertTrue(args.toString().startsWith("argparse.Namespace("), args.toString());
        }
    }

    @Test
    void aliasedStateDictEntriesShareMemory() {
        try (PointerScope scope = new PointerScope()) {
            var sd = StateDicts.tensors(TorchFile.load(Fixtures.of("mpis", "static_cifar_small", "model.pth")));
            assertEquals(287, sd.size());
            Tensor a = sd.get("network_s_1.conv.weight"), b = sd.get("s_list.0.conv.weight");
            assertTrue(a.is_alias_of(b), "aliases must share storage");
            a.add_(new org.bytedeco.pytorch.Scalar(1.0));
            assertTrue(a.equal(b), "a write through one alias is visible through the other");
        }
    }
}
