package dev.spikerev.models.mpis;

import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;

/**
 * The reference's {@code StaticModule} / {@code NeuroModule} ({@code snn_ide_conv}): holds no state of its own, only
 * {@code snn_func} and {@code snn_func_copy} again, so every key under them appears a second time with this prefix.
 * The computation lives in {@link MPISNet}.
 */
public class IdeModule extends SpikeModule {
    IdeModule(SNNFunc func, SNNFunc copy) {
        super();
        register_module("snn_func", func);
        register_module("snn_func_copy", copy);
    }
}
