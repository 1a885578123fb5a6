package dev.spikerev.train;

import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.tensor.Devices;
import dev.spikerev.tensor.Natives;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link Autocast}: bf16 on the CPU changes matmul output dtype inside the scope only; fp16 needs CUDA; modes parse. */
class AutocastTest {
    static final Devices.Spec CPU = new Devices.Spec("cpu", -1);

    @BeforeAll static void natives() { Natives.init(); }

    @Test
    void bf16ScopeCastsMatmulAndRestoresTheState() {
        Tensor a = randn(4, 8), b = randn(8, 3);
        assertFalse(is_autocast_enabled(DeviceType.CPU));
        int before = get_autocast_dtype(DeviceType.CPU).value;
        try (Autocast ac = Autocast.enter(Autocast.Mode.BF16, CPU)) {
            assertTrue(ac.active());
            assertTrue(is_autocast_enabled(DeviceType.CPU));
            assertEquals(ScalarType.BFloat16.value, a.mm(b).scalar_type().value, "mm runs in bfloat16 under autocast");
            assertEquals(ScalarType.Float.value, a.add(a).scalar_type().value, "ops outside the autocast lists keep float32");
        }
        assertFalse(is_autocast_enabled(DeviceType.CPU), "closing the scope disables autocast again");
        assertEquals(before, get_autocast_dtype(DeviceType.CPU).value);
        assertEquals(ScalarType.Float.value, a.mm(b).scalar_type().value);
    }

    @Test
    void nestedScopesRestoreTheOuterState() {
        try (Autocast outer = Autocast.enter(Autocast.Mode.BF16, CPU)) {
            try (Autocast inner = Autocast.enter(Autocast.Mode.BF16, CPU)) {
                assertTrue(is_autocast_enabled(DeviceType.CPU));
            }
            assertTrue(is_autocast_enabled(DeviceType.CPU), "the inner scope must not switch the outer one off");
        }
        assertFalse(is_autocast_enabled(DeviceType.CPU));
    }

    @Test
    void noneDoesNothing() {
        Tensor a = randn(2, 2);
        try (Autocast ac = Autocast.enter(Autocast.Mode.NONE, CPU)) {
            assertFalse(ac.active());
            assertEquals(ScalarType.Float.value, a.mm(a).scalar_type().value);
        }
    }

    @Test
    void fp16OnCpuIsAOneLineErrorNamingCuda() {
        ConfigException e = assertThrows(ConfigException.class, () -> Autocast.enter(Autocast.Mode.FP16, CPU));
        assertTrue(e.getMessage().contains("fp16 autocast needs CUDA"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertFalse(is_autocast_enabled(DeviceType.CPU));
        assertDoesNotThrow(() -> Autocast.check(Autocast.Mode.FP16, new Devices.Spec("cuda", 0)));
    }

    @Test
    void modesParseWithAOneLineError() {
        assertEquals(Autocast.Mode.BF16, Autocast.Mode.of("bf16", "train.amp"));
        ConfigException e = assertThrows(ConfigException.class, () -> Autocast.Mode.of("fp8", "train.amp"));
        assertTrue(e.getMessage().contains("'train.amp' must be one of none, bf16, fp16, found 'fp8'"), e.getMessage());
    }
}
