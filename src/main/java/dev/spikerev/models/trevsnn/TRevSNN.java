package dev.spikerev.models.trevsnn;

import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.SpikeList;
import dev.spikerev.nn.ScaledStdConv2d;
import dev.spikerev.tensor.Ops;
import dev.spikerev.tensor.Scopes;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.GradMode;
import dev.spikerev.nn.SpikeModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * T-RevSNN (ICML 2024, reference {@code FullNet} in BICLab/T-RevSNN {@code models/spike_rev_reuse.py}).
 * <pre>
 * x = stem(img)                                   [B, ch0, H/4, W/4]
 * for column i in 0..num_subnet-1:   (c0..c3) = subnet_i(x, c0..c3)        (see {@link SubNet})
 *     every num_subnet/4 columns: logits_j = cls_blocks[j](c3)            (intermediate supervision)
 * return [logits_0 .. logits_3]                   the last one is the prediction
 * </pre>
 * With {@code save_memory} the columns run without an autograd graph in training and
 * {@link #backward(Tensor)} reconstructs each column's inputs from its outputs ({@link ReverseColumn}); otherwise
 * plain autograd. State_dict names equal the reference's (shared {@code *_reuse} tensors under every column).
 */
public class TRevSNN extends SpikeModule {
    public final TRevSNNConfig config;
    final Module stem;
    final List<SubNet> subnets = new ArrayList<>();
    final List<Head> heads = new ArrayList<>();

    /** What a reversible training forward leaves for {@link #backward}; null otherwise. */
    private Tape tape;

    public TRevSNN(TRevSNNConfig cfg) {
        super();
        this.config = cfg;
        long[] ch = cfg.channels();
        if (cfg.dvs()) {
            SpikeList<PatchEmbedDvs> stems = new SpikeList<>();
            for (int i = 0; i < cfg.numSubnet(); i++) stems.add(new PatchEmbedDvs(ch[0]));
            stem = register_module("stem", stems);
        } else {
            stem = register_module("stem", new PatchEmbed(cfg.inChans(), ch[0]));
        }
        ScaledStdConv2d[] pwReuse = new ScaledStdConv2d[4];
        Conv2d[] dwReuse = new Conv2d[4];
        for (int k = 0; k < 4; k++) {
            pwReuse[k] = new ScaledStdConv2d(ch[k] * 4, ch[k], 1, 1);
            dwReuse[k] = SpikeConvNextBlock.depthwise(ch[k], cfg.kernelSize());
        }
        for (int i = 0; i < cfg.numSubnet(); i++)
            subnets.add(register_module("subnet" + i, new SubNet(ch, cfg.kernelSize(), i == 0, pwReuse, dwReuse)));
        long nc = cfg.numClasses();
        if (cfg.interSupv()) {
            SpikeList<Module> cls = new SpikeList<>();
            for (int j = 0; j < 3; j++) heads.add((Head) cls.add(new Classifier(ch[3], nc)));
            heads.add((Head) cls.add(new SpikeClassifier(ch[3], nc)));
            register_module("cls_blocks", cls);
        } else {
            heads.add(register_module("cls_blocks", new SpikeClassifier(ch[3], nc)));
        }
        initWeights();
    }

    /**
     * The reference's {@code _init_weights}: every conv weight (ScaledStdConv2d included) ~ N(0, 0.02) truncated to
     * [-2, 2], conv biases 0, BatchNorm weight 1 / bias 0; gains 1, alphas 0.5, gammas 1 stay.
     */
    private void initWeights() {
        try (NoGradGuard ng = new NoGradGuard()) {
            StringTensorDict params = named_parameters(true);
            for (long i = 0; i < params.size(); i++) {
                String name = params.get(i).key().getString();
                Tensor p = params.get(i).value();
                if (name.endsWith(".bias")) p.zero_();
                else if (name.endsWith(".weight") && p.dim() == 4) p.normal_(0.0, 0.02, new org.bytedeco.pytorch.GeneratorOptional()).clamp_(Ops.so(-2.0), Ops.so(2.0));
                else if (name.endsWith(".weight") && p.dim() == 1) p.fill_(Ops.s(1.0));
            }
        }
    }

    /** Columns read by head j: heads every num_subnet/4 columns (or the last column only without inter_supv). */
    private int headAt(int column) {
        int n = config.numSubnet();
        if (!config.interSupv()) return column == n - 1 ? 0 : -1;
        int interval = n / 4;
        return (column + 1) % interval == 0 ? column / interval : -1;
    }

    /**
     * Forward. Input {@code [B, in_chans, H, W]} ({@code [B, num_subnet, 2, H, W]} for dvs). Returns the logits of
     * every head, last = prediction. In training mode with {@code save_memory} and grad enabled, call
     * {@link #backward(Tensor)} (not {@code loss.backward()}) on a loss built from these logits.
     */
    public List<Tensor> forward(Tensor img) {
        tape = null;
        boolean reversible = config.saveMemory() && is_training() && GradMode.is_enabled();
        for (ScaledStdConv2d c : standardisedConvs()) c.deferWeightGradient(reversible); // finished in backward()
        int n = config.numSubnet();
        Tensor[] xs = stemOutputs(img);
        List<Tensor> out = new ArrayList<>();
        Tensor[] c = new Tensor[4];
        Tape t = reversible ? new Tape(n) : null;
        for (int i = 0; i < n; i++) {
            SubNet net = subnets.get(i);
            net.clampAlphas();
            Tensor x = xs[config.dvs() ? i : 0];
            final Tensor[] cin = c;
            if (reversible) {
                Tensor xd = t.x[i] = x.detach();
                c = Scopes.keep(() -> {
                    try (NoGradGuard ng = new NoGradGuard()) {
                        return net.forward(xd, cin);
                    }
                });
                t.c[i] = c;
            } else {
                c = net.forward(x, cin);
                // the previous column's outputs are not needed any more: drop the handles now (autograd keeps what it
                // saved), not when the step's scope closes (inference held 3x the reference's GPU memory)
                for (Tensor prev : cin) if (prev != null && !java.util.Arrays.asList(c).contains(prev)) prev.close();
            }
            int h = headAt(i);
            if (h >= 0) {
                Tensor c3 = c[3];
                if (reversible) c3 = t.headLeaf[i] = Ops.leaf(c3);
                if (config.dvs()) c3 = c3.div(Ops.s(n));
                out.add(heads.get(h).forward(c3));
            }
        }
        if (reversible) {
            t.stemOut = xs;
            tape = t;
        }
        return out;
    }

    private Tensor[] stemOutputs(Tensor img) {
        if (!config.dvs()) return new Tensor[]{((PatchEmbed) stem).forward(img)};
        int n = config.numSubnet();
        if (img.dim() != 5 || img.size(1) != n)
            throw new IllegalArgumentException("t-revsnn dvs: input must be [B, " + n + ", 2, H, W], found " + java.util.Arrays.toString(Ops.shape(img)));
        @SuppressWarnings("unchecked") SpikeList<PatchEmbedDvs> stems = (SpikeList<PatchEmbedDvs>) stem;
        Tensor[] xs = new Tensor[n];
        for (int i = 0; i < n; i++) xs[i] = stems.get(i).forward(img.select(1, i));
        return xs;
    }

    /**
     * Back-propagates {@code loss} through heads, columns and stem. On the reversible path this runs
     * {@code loss.backward()} for the heads, then each column's reversible backward from the last column to the
     * first (freeing each column's tensors as it goes), then the stem; on the plain path it is {@code loss.backward()}.
     */
    public void backward(Tensor loss) {
        Tape t = tape;
        tape = null;
        loss.backward();
        if (t == null) return;
        // each deferred weight gradient is finished right after its last use: the leaf's gradient (a weight-sized
        // tensor) does not wait for the end of backward (peak memory)
        for (ScaledStdConv2d c : deferGroups().get(0)) c.finishDeferred();
        int n = config.numSubnet();
        Tensor[] g = null;
        Tensor[] gx = new Tensor[t.stemOut.length];
        for (int i = n - 1; i >= 0; i--) {
            Tensor[] cOut = t.c[i];
            if (g == null) {
                g = new Tensor[4];
                for (int k = 0; k < 4; k++) g[k] = zeros_like(cOut[k]);
            }
            if (t.headLeaf[i] != null && t.headLeaf[i].grad().defined()) g[3] = g[3].add(t.headLeaf[i].grad());
            final Tensor[] gRight = g;
            final int col = i;
            int xi = config.dvs() ? i : 0;
            Tensor[] r = Scopes.keep(() -> ReverseColumn.backward(subnets.get(col), t.x[col], cOut, gRight));
            for (ScaledStdConv2d c : deferGroups().get(col + 1)) c.finishDeferred();
            gx[xi] = gx[xi] == null ? r[0] : gx[xi].add(r[0]);
            g = new Tensor[]{r[1], r[2], r[3], r[4]};
            for (Tensor old : cOut) old.close();
            for (Tensor old : gRight) old.close();
        }
        for (int j = 0; j < gx.length; j++) Ops.backward(t.stemOut[j], gx[j]);
        for (ScaledStdConv2d c : standardisedConvs()) c.finishDeferred();
    }

    private List<ScaledStdConv2d> standardised;
    private List<List<ScaledStdConv2d>> deferGroups;

    /**
     * The standardised convolutions whose deferred gradient is complete at a point of {@link #backward}: [0] the heads'
     * (after {@code loss.backward()}), [1 + i] column i's (after its reverse pass); only those no other module shares
     * (the shared ones finish at the end). Built once.
     */
    private List<List<ScaledStdConv2d>> deferGroups() {
        if (deferGroups == null) {
            List<List<ScaledStdConv2d>> g = new ArrayList<>();
            List<ScaledStdConv2d> h = new ArrayList<>();
            for (Head head : heads) collect((Module) head, h);
            g.add(unshared(h));
            for (SubNet net : subnets) {
                List<ScaledStdConv2d> c = new ArrayList<>();
                collect(net, c);
                g.add(unshared(c));
            }
            deferGroups = List.copyOf(g);
        }
        return deferGroups;
    }

    private static List<ScaledStdConv2d> unshared(List<ScaledStdConv2d> cs) {
        return cs.stream().filter(c -> !c.sharesParameters()).toList();
    }

    /** Every {@link ScaledStdConv2d} of the model (weight-shared ones once per module). */
    private List<ScaledStdConv2d> standardisedConvs() {
        if (standardised == null) {
            List<ScaledStdConv2d> out = new ArrayList<>();
            collect(this, out);
            standardised = List.copyOf(out);
        }
        return standardised;
    }

    private static void collect(Module m, List<ScaledStdConv2d> out) {
        if (m instanceof ScaledStdConv2d c) out.add(c);
        if (m instanceof SpikeModule s) for (Module k : s.registeredChildren()) collect(k, out);
    }

    /** Column outputs, inputs and head leaves kept by a reversible training forward. */
    private static final class Tape {
        final Tensor[] x;
        final Tensor[][] c;
        final Tensor[] headLeaf;
        Tensor[] stemOut;

        Tape(int n) {
            x = new Tensor[n];
            c = new Tensor[n][];
            headLeaf = new Tensor[n];
        }
    }

    public List<SubNet> subnets() { return subnets; }
}
