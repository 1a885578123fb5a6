package dev.spikerev.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.bench.RevSNNSpeed;
import dev.spikerev.models.mpis.MPISNet;
import dev.spikerev.models.mpis.MpisConfig;
import dev.spikerev.models.revsnn.RevSNNFamily;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The parameter maps that optimizers keep must hold owning tensor handles: an entry of libtorch's
 * {@code named_parameters()} dict is a reference into the dict (JavaCPP reference count -1) and dangles once the dict
 * is collected; optimizers that kept such references crashed in {@code Tensor.grad()} (SIGSEGV in
 * {@code c10::TensorImpl::grad}) when a GC ran mid-run (seen with a JFR recording on {@code bench speed --family revsnn}).
 */
class OwningHandlesTest {
    static void assertOwning(Map<String, Tensor> params, String what) {
        assertFalse(params.isEmpty(), what);
        for (Map.Entry<String, Tensor> e : params.entrySet())
            assertTrue(e.getValue().referenceCount() >= 0, what + ": " + e.getKey() + " is a non-owning reference into a dict");
        for (int i = 0; i < 3; i++) System.gc();
        for (Map.Entry<String, Tensor> e : params.entrySet()) assertTrue(e.getValue().defined(), what + ": " + e.getKey());
    }

    @Test
    void everyNamedParameterMapHoldsOwningHandles() {
        Module revsnn = new RevSNNFamily().build(Map.of("family", "revsnn", "constructor",
                RevSNNSpeed.constructor("revsresnet-tiny", 10, 2, null, true))).module();
        // the families, the optimizers and the parity harness all take their parameters from StateDictIO.namedParameters
        assertOwning(StateDictIO.namedParameters(revsnn), "StateDictIO.namedParameters");
        MPISNet mpis = new MPISNet(MpisConfig.nmnist());
        assertOwning(mpis.namedParameters(), "MPISNet.namedParameters");
    }
}
