package dev.spikerev.bench;

import dev.spikerev.nn.OpCounter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringSharedModuleDict;
import org.bytedeco.pytorch.Tensor;

/**
 * Counts synaptic operations and MACs of every synaptic layer (conv, linear, spike matrix products) while a model
 * runs on real data, and turns them into energy with the standard 45 nm figures (Horowitz 2014, as in the SNN
 * literature: E_MAC = 4.6 pJ, E_AC = 0.9 pJ).
 *
 * <p>Rule, per call of a layer: if the input is spike-valued (every element a non-negative integer: binary spikes or
 * T-RevSNN's integer levels), the call costs {@code SOP = MACs x mean(input)} accumulates (a spike of value k
 * triggers k additions per synapse, a zero triggers none; for binary spikes {@code mean = firing rate}); otherwise
 * (the encoding layer on pixels, or a layer fed by another linear op without a neuron in between) it costs its full
 * MACs. Time steps are in the count because every call is. BatchNorm, pooling and neuron updates are not counted (the
 * papers' convention: BN folds into the weights). For a matrix product of two operands the first spike-valued one
 * is the input.
 */
public final class Energy implements OpCounter.Listener, AutoCloseable {
    public static final double E_MAC_PJ = 4.6, E_AC_PJ = 0.9;

    /** Totals of one layer over all its calls. */
    public static final class Layer {
        public final String name, op;
        long calls, spikeCalls, denseCalls;
        double macs;        // MACs actually charged (dense-input calls)
        double denseMacs;   // all MACs as if every input were dense (the ANN equivalent)
        double sops;        // accumulates charged for spike-valued inputs
        double spikeNnz, spikeNumel, spikeSum;

        Layer(String name, String op) { this.name = name; this.op = op; }

        public String kind() { return denseCalls == 0 ? "AC" : spikeCalls == 0 ? "MAC" : "mixed"; }

        /** Fraction of non-zero input elements over the spike-valued calls (NaN when the input was never spikes). */
        public double firingRate() { return spikeNumel == 0 ? Double.NaN : spikeNnz / spikeNumel; }

        /** Mean input value over the spike-valued calls (= firing rate for binary spikes). */
        public double meanSpike() { return spikeNumel == 0 ? Double.NaN : spikeSum / spikeNumel; }

        public double macs() { return macs; }

        public double sops() { return sops; }

        public double denseMacs() { return denseMacs; }

        public long calls() { return calls; }

        public double energyPj(double eMac, double eAc) { return macs * eMac + sops * eAc; }
    }

    private final Map<Long, String> names = new HashMap<>();
    private final Map<String, Layer> layers = new LinkedHashMap<>();
    private final double eMac, eAc;
    private long images;

    /** A meter for {@code root} with the standard energies; installs itself until {@link #close()}. */
    public Energy(Module root) { this(root, E_MAC_PJ, E_AC_PJ); }

    public Energy(Module root, double eMacPj, double eAcPj) {
        if (!(eMacPj >= 0) || !(eAcPj >= 0)) throw new IllegalArgumentException("energies per op must be >= 0 pJ");
        this.eMac = eMacPj;
        this.eAc = eAcPj;
        walk(root, "");
        OpCounter.install(this);
    }

    private void walk(Module m, String name) {
        if (names.putIfAbsent(m.address(), name) != null) return; // a shared module keeps its first name
        StringSharedModuleDict children = m.named_children();
        for (long i = 0; i < children.size(); i++)
            walk(children.get(i).value(), name.isEmpty() ? children.get(i).key().getString() : name + "." + children.get(i).key().getString());
    }

    /** Adds {@code n} images to the per-image denominator (call once per batch). */
    public void addImages(long n) { images += n; }

    public long images() { return images; }

    @Override
    public void record(Module layer, Module owner, String op, Tensor[] inputs, long macs) {
        String base = names.getOrDefault((layer != null ? layer : owner).address(), (layer != null ? layer : owner).name().getString());
        String name = layer != null ? base : (base.isEmpty() ? op : base + "." + op);
        Layer l = layers.computeIfAbsent(name, k -> new Layer(k, op));
        l.calls++;
        l.denseMacs += macs;
        try (NoGradGuard ng = new NoGradGuard()) {
            for (Tensor t : inputs) {
                Tensor x = t.detach();
                boolean spike = x.numel() == 0 || (x.ge(dev.spikerev.tensor.Ops.s(0)).all().item_bool()
                        && x.eq(x.round()).all().item_bool());
                if (!spike) continue;
                double numel = x.numel();
                double sum = x.sum().item_double();
                l.spikeCalls++;
                l.spikeNumel += numel;
                l.spikeNnz += x.ne(dev.spikerev.tensor.Ops.s(0)).sum().item_double();
                l.spikeSum += sum;
                l.sops += numel == 0 ? 0 : macs * (sum / numel);
                return;
            }
        }
        l.denseCalls++;
        l.macs += macs;
    }

    public List<Layer> layers() { return new ArrayList<>(layers.values()); }

    /** Energy of everything counted so far, mJ per image. */
    public double totalMjPerImage() {
        double pj = 0;
        for (Layer l : layers.values()) pj += l.energyPj(eMac, eAc);
        return perImage(pj) * 1e-9;
    }

    /** The same network as an ANN (every MAC at E_MAC), mJ per image. */
    public double annMjPerImage() {
        double pj = 0;
        for (Layer l : layers.values()) pj += l.denseMacs * eMac;
        return perImage(pj) * 1e-9;
    }

    double perImage(double v) { return images == 0 ? Double.NaN : v / images; }

    /** Machine-readable report: {@code {"layers": [...], "total_mj_per_image": ...}}. */
    public Map<String, Object> report() {
        List<Map<String, Object>> rows = new ArrayList<>();
        double totalMacs = 0, totalSops = 0;
        for (Layer l : layers.values()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("name", l.name);
            r.put("op", l.op);
            r.put("kind", l.kind());
            r.put("calls_per_image", perImage(l.calls));
            r.put("firing_rate", nanToNull(l.firingRate()));
            r.put("mean_spike", nanToNull(l.meanSpike()));
            r.put("macs_per_image", perImage(l.macs));
            r.put("sops_per_image", perImage(l.sops));
            r.put("dense_macs_per_image", perImage(l.denseMacs));
            r.put("energy_mj_per_image", perImage(l.energyPj(eMac, eAc)) * 1e-9);
            rows.add(r);
            totalMacs += l.macs;
            totalSops += l.sops;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("images", images);
        out.put("e_mac_pj", eMac);
        out.put("e_ac_pj", eAc);
        out.put("layers", rows);
        out.put("macs_per_image", perImage(totalMacs));
        out.put("sops_per_image", perImage(totalSops));
        out.put("total_mj_per_image", totalMjPerImage());
        out.put("ann_equivalent_mj_per_image", annMjPerImage());
        return out;
    }

    private static Object nanToNull(double v) { return Double.isNaN(v) ? null : v; }

    /** The per-layer table as text. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        int w = 12;
        for (Layer l : layers.values()) w = Math.max(w, l.name.length());
        sb.append(String.format("%-" + w + "s  %-5s  %8s  %12s  %12s  %12s%n", "layer", "kind", "fire rate", "MACs/img",
                "SOPs/img", "energy uJ/img"));
        for (Layer l : layers.values()) {
            double fr = l.firingRate();
            sb.append(String.format("%-" + w + "s  %-5s  %8s  %12.4g  %12.4g  %12.5f%n", l.name, l.kind(),
                    Double.isNaN(fr) ? "-" : String.format("%.4f", fr), perImage(l.macs), perImage(l.sops),
                    perImage(l.energyPj(eMac, eAc)) * 1e-6));
        }
        sb.append(String.format("total: %.6f mJ per image (%s images; E_MAC %.2f pJ, E_AC %.2f pJ); the same network as an "
                + "ANN: %.6f mJ%n", totalMjPerImage(), images, eMac, eAc, annMjPerImage()));
        return sb.toString();
    }

    @Override
    public void close() { OpCounter.uninstall(); }
}
