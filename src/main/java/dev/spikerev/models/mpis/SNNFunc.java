package dev.spikerev.models.mpis;

import dev.spikerev.nn.SpikeModule;
import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.SpikeList;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * The implicit part, the reference's {@code SNNLIFFuncStatic} / {@code SNNLIFFuncNeuro} ({@code snn_func}) and its
 * frozen copy ({@code snn_func_copy}). Names: {@code network_s_list.k.{0,1,2}} = stream k's L1, L2, feedback ConvT;
 * {@code network_x_list.k} = stream k's input conv; {@code downsample0_1} = the fusion conv (stream 0 → 1, only used
 * inside the simulation, never trained).
 *
 * <p>The "equivalent function" of stream k (one application, with autograd; BNs per module mode):
 * <pre>
 * h1 = clamp((ConvT_k(a) + X_k(x)) / vth / vth, 0, 1)
 * h2 = clamp(L1_k(h1) / vth / vth, 0, 1)
 * f_k(a, x) = clamp(L2_k(h2) / vth / vth, 0, 1)
 * </pre>
 * (the double division is the reference's: DBReLU(z / vth) with DBReLU(y) = clamp(y / vth, 0, 1)).
 */
public class SNNFunc extends SpikeModule {
    final Stream[] streams;
    final Conv2d downsample0_1;
    /** The ModuleLists behind the state_dict paths, kept reachable (see {@link MPISNet}). */
    private final java.util.List<Module> containers = new java.util.ArrayList<>();

    /** Layers of one stream (the same module objects as the model's {@code network_*} / {@code Trans*} aliases). */
    record Stream(SNNConv x, SNNConv l1, SNNConv l2, SNNConvTranspose trans) {}

    SNNFunc(Stream s0, Stream s1, long fusionChannels) {
        super();
        streams = new Stream[]{s0, s1};
        SpikeList<Module> sList = new SpikeList<>();
        SpikeList<SNNConv> xList = new SpikeList<>();
        for (Stream s : streams) {
            SpikeList<Module> l = new SpikeList<>();
            l.add(s.l1);
            l.add(s.l2);
            l.add(s.trans);
            sList.add(l);
            containers.add(l);
        }
        for (Stream s : streams) xList.add(s.x);
        containers.add(register_module("network_s_list", sList));
        containers.add(register_module("network_x_list", xList));
        downsample0_1 = register_module("downsample0_1", new Conv2d(fusionChannels, fusionChannels, 3, 2, 1, 1, true));
    }

    /**
     * The reference's {@code copy(target)} applied to every layer (not the fusion conv, not the BN counters);
     * called after each training-mode {@code f}.
     */
    void copyFrom(SNNFunc src) {
        for (int k = 0; k < 2; k++) {
            streams[k].l1.copyFrom(src.streams[k].l1);
            streams[k].l2.copyFrom(src.streams[k].l2);
            streams[k].trans.copyFrom(src.streams[k].trans);
        }
        for (int k = 0; k < 2; k++) streams[k].x.copyFrom(src.streams[k].x);
    }

    /** Freezes every parameter (requires_grad = false), as the reference does for {@code snn_func_copy}. */
    void freeze() {
        try (NoGradGuard ng = new NoGradGuard()) {
            var ps = parameters(true);
            for (long i = 0; i < ps.size(); i++) ps.get(i).requires_grad_(false);
        }
    }
}
