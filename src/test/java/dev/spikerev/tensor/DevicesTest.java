package dev.spikerev.tensor;

import static org.junit.jupiter.api.Assertions.*;

import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.bytedeco.pytorch.global.torch.randn;

/** {@link Devices}: parsing, rank devices, and that CPU placement never copies (so CPU numerics cannot change). */
class DevicesTest {
    @BeforeAll static void natives() { Natives.init(); }

    @Test
    void parsesAndRejectsWithOneLine() {
        assertEquals("cuda:0", Devices.parse("cuda", "--device").toString());
        assertEquals("cuda:3", Devices.parse(" CUDA:3 ", "--device").toString());
        assertEquals("cpu", Devices.parse("cpu", "--device").toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.parse("cuda:-1", "--device"));
        assertEquals("--device: 'cuda:-1' is not a device (allowed: cpu, cuda, cuda:N)", e.getMessage());
        assertEquals("cpu", Devices.require("cpu", "--device").toString());
    }

    @Test
    void rankDevicesAreConsecutiveGpus() {
        assertEquals("cuda:3", Devices.forRank(Devices.parse("cuda:1", "x"), 2).toString());
        assertEquals("cpu", Devices.forRank(Devices.parse("cpu", "x"), 5).toString());
    }

    @Test
    void cpuPlacementIsTheSameTensorAndModule() {
        Tensor t = randn(3, 4);
        assertSame(t, Devices.to(t, null));
        Tensor same = Devices.to(t, Devices.parse("cpu", "x").device());
        assertSame(t, same, "a tensor already on the CPU must not be copied");
        LinearImpl lin = new LinearImpl(4, 2);
        Tensor w = lin.weight();
        long before = w.data_ptr().address();
        Devices.to(lin, Devices.parse("cpu", "x").device());
        Devices.to(lin, null);
        assertEquals(before, lin.weight().data_ptr().address(), "moving a CPU module to the CPU must not touch its tensors");
        assertTrue(Devices.of(lin).is_cpu());
        assertTrue(Devices.sameDevice(Devices.of(lin), Devices.parse("cpu", "x").device()));
        assertFalse(Devices.sameDevice(Devices.of(lin), Devices.parse("cuda:0", "x").device()));
    }

    @Test
    void strictFloat32IsHarmlessWithoutCuda() {
        assertDoesNotThrow(Devices::strictFloat32);
        assertFalse(org.bytedeco.pytorch.global.torch.globalContext().allowTF32CuDNN());
    }
}
