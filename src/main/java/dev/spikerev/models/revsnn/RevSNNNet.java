package dev.spikerev.models.revsnn;

import dev.spikerev.nn.MultiStepNeuron;
import dev.spikerev.nn.SpikeModule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/** Common base of {@link RevSResNet} and {@link RevSFormer}: the config, the forward, and the neuron listing. */
public abstract class RevSNNNet extends SpikeModule {
    protected final RevSNNConfig config;

    protected RevSNNNet(RevSNNConfig config) {
        super();
        this.config = config;
    }

    public RevSNNConfig config() { return config; }

    /** Logits {@code [B, num_classes]} (mean over time) for a CIFAR image batch or DVS frames {@code [B, T, 2, H, W]}. */
    public abstract Tensor forward(Tensor input);

    /** Every spiking neuron with its module path, in module registration order (Python's {@code named_modules()}). */
    public Map<String, MultiStepNeuron> neurons() {
        Map<String, MultiStepNeuron> out = new LinkedHashMap<>();
        collect("", this, out);
        return out;
    }

    private static void collect(String prefix, Module m, Map<String, MultiStepNeuron> out) {
        if (m instanceof MultiStepNeuron n) { out.put(prefix, n); return; }
        List<String> names = new ArrayList<>();
        List<Module> kids = new ArrayList<>();
        if (m instanceof RevBlock b) {
            names.add("f_block"); kids.add(b.fBlock);
            names.add("g_block"); kids.add(b.gBlock);
        } else if (m instanceof SpikeModule s) {
            // registration order; names from the native side (same order)
            org.bytedeco.pytorch.StringSharedModuleDict d = s.named_children();
            for (long i = 0; i < d.size(); i++) names.add(d.get(i).key().getString());
            kids.addAll(s.registeredChildren());
        }
        for (int i = 0; i < kids.size(); i++)
            collect(prefix.isEmpty() ? names.get(i) : prefix + "." + names.get(i), kids.get(i), out);
    }

    /** Turns firing-rate recording on or off in every neuron. */
    public void setRecording(boolean on) { neurons().values().forEach(n -> n.setRecording(on)); }
}
