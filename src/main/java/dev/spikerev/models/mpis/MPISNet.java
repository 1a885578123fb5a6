package dev.spikerev.models.mpis;

import dev.spikerev.nn.SpikeModule;
import dev.spikerev.autograd.Broyden;
import dev.spikerev.autograd.FixedPointAdjoint;
import dev.spikerev.autograd.Surrogate;
import dev.spikerev.autograd.SurrogateSpike;
import dev.spikerev.nn.SpikeList;
import dev.spikerev.tensor.Ops;
import dev.spikerev.tensor.Scopes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringSharedModuleDict;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * MPIS-SNNs (Cao et al., ECCV 2024; reference {@code MPIS_static} / {@code MPIS_neuro} in kiritozc/MPIS-SNNs): two
 * parallel implicit streams of LIF layers (stream 0 at 1/2, stream 1 at 1/4 of the image resolution), run as a
 * graph-free T-step simulation whose read-out {@code a*} is treated as the equilibrium of the "equivalent function"
 * {@code f}; one differentiable application {@code a_out = f(a*, x)} and a head give the logits.
 *
 * <p>LIF neuron (soft reset, leak after reset, threshold test {@code >=}; vth and λ are float32 0-d tensors):
 * <pre>
 * v ← v + I_t;   s = [v ≥ vth];   v ← (v − vth·s)·λ
 * </pre>
 * Simulation of stream k (no autograd; L1/L2 BNs use running statistics, input-conv BNs the module mode):
 * <pre>
 * step 0:  P0 = X0 + up(X1),  P1 = down(X0) + X1;   L0 ← P_k,  L1 ← L1_k(s_L0),  L2 ← L2_k(s_L1)
 * t ≥ 1:   V_k = v_k,L0 + ConvT_k(s_k,L2(t−1)) + X_k(t);  P0 = V0 + up(V1),  P1 = down(V0) + V1;  L0 ← P_k (replaces v)
 *          L1: v += L1_k(s_L0),  L2: v += L2_k(s_L1)
 * a*_k = s_k,L2(step 0) / w(T),   w(T) = (1 − λ^T)/(1 − λ)          (reference read-out, {@link MpisConfig.Readout})
 * </pre>
 * Static: {@code X0 = X_0(stem(img))}, {@code X1 = X_1(0)} constant over t. Neuro: {@code X0(t) = X_0(x[t])} per
 * frame, with hand-made BN statistics in training (spec 5.5). Then (autograd, BNs per module mode)
 * {@code a_out_k = f_k(a*_k, x_k)} ({@link SNNFunc}), and the head
 * {@code logits = Linear(flatten(incre(downsamp(a_out_0) + a_out_1)))}.
 *
 * <p>Backward: {@link MpisConfig.Gradient#ONE_STEP} = plain autograd ({@code loss.backward()}, the reference);
 * {@link MpisConfig.Gradient#IMPLICIT} = {@link #backward(Tensor)} replaces {@code g_k = ∂L/∂a_out_k} by the
 * solution of {@code u_k (I − J_k) = g_k} ({@link FixedPointAdjoint}, Broyden), {@code J_k = ∂f_k/∂z} at
 * {@code z = a_out_k} with the frozen-copy semantics (L1/L2 BNs on running statistics, input term constant).
 *
 * <p>State_dict names equal the reference's, aliases included ({@code s_list*}, {@code snn_func.*},
 * {@code snn_ide_conv.*} are the same modules registered again); {@code snn_func_copy} is an independent frozen
 * copy refreshed after every training-mode {@code f}. Memory of a training step does not depend on T: each
 * simulation step runs in its own scope and only the membrane state is carried ({@link MpisSimulation}).
 */
public class MPISNet extends SpikeModule {
    private static final Logger LOG = LoggerFactory.getLogger(MPISNet.class);

    public final MpisConfig config;
    final SNNConv networkX, networkXN, networkS1, networkS2, networkSN1, networkSN2;
    final SNNConvTranspose trans, transN;
    final SNNFunc snnFunc, snnFuncCopy;
    final ConvBnStack downsamp, increModules, downsampleInit;
    final LinearImpl classifier;
    /**
     * Containers that only exist for the state_dict paths. Every Java {@code Module} subclass must stay strongly
     * reachable: libtorch calls back into its Java peer (e.g. in {@code zero_grad}), and a collected peer surfaces as
     * a NullPointerException from native code.
     */
    private final Module sList, sListN, ideModule;
    /** The reference's {@code torch.tensor(vth)} / {@code torch.tensor(leaky)}: float32 0-d. */
    final Tensor vthT, lamT;

    private Tensor[] injectedMasks;
    /** The graph-free T-step LIF simulation that produces {@code a*}. */
    private final MpisSimulation simulation = new MpisSimulation(this);
    private Tensor[] lastEquilibrium;
    private Tape tape;
    private final Broyden.Result[] lastSolve = new Broyden.Result[2];
    private Consumer<String> warnings = LOG::warn;

    public MPISNet(MpisConfig cfg) {
        super();
        this.config = cfg;
        boolean st = cfg.kind() == MpisConfig.Kind.STATIC;
        double p = cfg.dropout();
        long kx = cfg.kernelSizeX(), ks = cfg.kernelSizeS(), px = cfg.paddingX(), pd = (ks - 1) / 2;
        long xIn = st ? cfg.cHidden() : cfg.cIn(), l0 = st ? cfg.cS1() : cfg.cHidden();
        long l1 = st ? cfg.cS2() : cfg.cS1(), l2 = st ? cfg.cS3() : cfg.cS2();
        long s1Stride = st ? 1 : 2, s2Stride = st ? 2 : 1;
        long s1Pad = px, s2Pad = pd;
        networkX = register_module("network_x", new SNNConv(xIn, l0, kx, 1, px, p));
        networkXN = register_module("network_x_n", new SNNConv(xIn, l0, kx, 1, px, p));
        networkS1 = register_module("network_s_1", new SNNConv(l0, l1, ks, s1Stride, s1Pad, p));
        networkS2 = register_module("network_s_2", new SNNConv(l1, l2, ks, s2Stride, s2Pad, p));
        networkSN1 = register_module("network_s_n_1", new SNNConv(l0, l1, ks, s1Stride, s1Pad, p));
        networkSN2 = register_module("network_s_n_2", new SNNConv(l1, l2, ks, s2Stride, s2Pad, p));
        trans = register_module("Trans", new SNNConvTranspose(l2, l0, p));
        transN = register_module("Trans_n", new SNNConvTranspose(l2, l0, p));
        sList = register_module("s_list", list(networkS1, networkS2, trans));
        sListN = register_module("s_list_n", list(networkSN1, networkSN2, transN));
        snnFunc = register_module("snn_func", new SNNFunc(new SNNFunc.Stream(networkX, networkS1, networkS2, trans),
                new SNNFunc.Stream(networkXN, networkSN1, networkSN2, transN), cfg.fusionChannels()));
        // copy.deepcopy(snn_func): independent modules with the same values, then frozen
        SNNFunc.Stream c0 = new SNNFunc.Stream(new SNNConv(xIn, l0, kx, 1, px, p), new SNNConv(l0, l1, ks, s1Stride, s1Pad, p),
                new SNNConv(l1, l2, ks, s2Stride, s2Pad, p), new SNNConvTranspose(l2, l0, p));
        SNNFunc.Stream c1 = new SNNFunc.Stream(new SNNConv(xIn, l0, kx, 1, px, p), new SNNConv(l0, l1, ks, s1Stride, s1Pad, p),
                new SNNConv(l1, l2, ks, s2Stride, s2Pad, p), new SNNConvTranspose(l2, l0, p));
        snnFuncCopy = register_module("snn_func_copy", new SNNFunc(c0, c1, cfg.fusionChannels()));
        snnFuncCopy.copyFrom(snnFunc);
        try (NoGradGuard ng = new NoGradGuard()) {
            snnFuncCopy.downsample0_1.weight().copy_(snnFunc.downsample0_1.weight());
            snnFuncCopy.downsample0_1.bias().copy_(snnFunc.downsample0_1.bias());
        }
        snnFuncCopy.freeze();
        ideModule = register_module("snn_ide_conv", new IdeModule(snnFunc, snnFuncCopy));
        downsamp = register_module("downsamp", new ConvBnStack(cfg.vth(), new long[]{l2, l2, 3, 2, 1, 1}));
        increModules = register_module("incre_modules", new ConvBnStack(cfg.vth(), new long[]{l2, l2, 1, 1, 0, 0}));
        downsampleInit = st ? register_module("downsample_init", new ConvBnStack(cfg.vth(),
                new long[]{cfg.cIn(), cfg.cHidden(), 3, 1, 1, 1}, new long[]{cfg.cHidden(), cfg.cHidden(), 3, 2, 1, 1})) : null;
        classifier = register_module("classifier", new dev.spikerev.nn.Linear(l2 * cfg.hHidden() * cfg.wHidden(), cfg.numClasses()));
        vthT = scalar_tensor(new Scalar((float) cfg.vth()));
        lamT = scalar_tensor(new Scalar((float) cfg.leaky()));
    }

    private static SpikeList<Module> list(Module... ms) {
        SpikeList<Module> l = new SpikeList<>();
        for (Module m : ms) l.add(m);
        return l;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // parameters (live handles; the state_dict itself: dev.spikerev.nn.StateDictIO)

    /**
     * Live parameter handles under every state_dict path (aliases included), in PyTorch's state_dict order; unlike
     * {@link dev.spikerev.nn.StateDictIO#stateDict} (detached) these carry {@code .grad()} and {@code requires_grad}.
     */
    public LinkedHashMap<String, Tensor> namedParameters() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        walkParameters(this, "", out);
        return out;
    }

    private static void walkParameters(Module m, String prefix, Map<String, Tensor> out) {
        // owning handles: the dict's entries are references into it and dangle once it is freed
        StringTensorDict d = m.named_parameters(false);
        for (long i = 0; i < d.size(); i++) out.put(prefix + d.get(i).key().getString(), new Tensor(d.get(i).value()));
        d.close();
        StringSharedModuleDict ch = m.named_children();
        for (long i = 0; i < ch.size(); i++) walkParameters(ch.get(i).value(), prefix + ch.get(i).key().getString() + ".", out);
        ch.close();
    }

    /**
     * Python's {@code model.parameters()}: each tensor once, at its first state_dict path (= module pre-order, as
     * {@code named_modules} visits each module once), frozen copy included. These are the optimizer's indices
     * (spec 9.2: static 73, neuro 65).
     */
    public LinkedHashMap<String, Tensor> uniqueNamedParameters() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        Set<Long> seen = new HashSet<>();
        for (Map.Entry<String, Tensor> e : namedParameters().entrySet())
            if (seen.add(e.getValue().unsafeGetTensorImpl().address())) out.put(e.getKey(), e.getValue());
        return out;
    }

    /** Values of {@link #uniqueNamedParameters()}. */
    public List<Tensor> uniqueParameters() { return new ArrayList<>(uniqueNamedParameters().values()); }

    // ---------------------------------------------------------------------------------------------------------------
    // forward

    /**
     * Logits {@code [B, classes]} for {@code input} ({@code [B, c_in, H, W]} static, {@code [B, c_in, H, W, T]} neuro,
     * time last) in the module's current mode. In training mode BN statistics are updated as the reference does and
     * {@code snn_func_copy} is refreshed. The input is never modified.
     */
    public Tensor forward(Tensor input) {
        Prepared prep = prepare(input);
        Tensor[] aStar;
        try (NoGradGuard ng = new NoGradGuard()) {
            aStar = simulation.run(prep);
        }
        return finish(prep, aStar);
    }

    /**
     * Logits with a given equilibrium {@code a*} (no simulation): the differentiable step and the head only. For
     * analysis and gradient checks (e.g. with {@code a*} = the exact fixed point of {@code f}).
     */
    public Tensor forwardFromEquilibrium(Tensor input, Tensor[] aStar) {
        return finish(prepare(input), aStar);
    }

    /**
     * One application of the equivalent function {@code f(a, x)} per stream (module-mode BNs, autograd as enabled),
     * with {@code x} derived from {@code input} as in a forward (stem output / x_f). Iterating it (e.g. in eval mode)
     * gives the exact fixed point the implicit gradient differentiates through.
     */
    public Tensor[] applyEquivalent(Tensor input, Tensor[] a) {
        Prepared p = prepare(input);
        Tensor[] fIn = fInputs(p);
        Tensor[] xVal = new Tensor[2];
        return new Tensor[]{equivalent(0, a[0], fIn[0], xVal), equivalent(1, a[1], fIn[1], xVal)};
    }

    /** {@code a*} per stream of the last forward ({@code [B, C, H, W]}, spikes / w(T)). */
    public Tensor[] lastEquilibrium() { return lastEquilibrium; }

    /** Broyden diagnostics per stream of the last implicit backward (null entries before one ran). */
    public Broyden.Result[] lastSolve() { return lastSolve.clone(); }

    /** Where warnings go (default: slf4j WARN), e.g. a non-converged adjoint solve. */
    public void onWarning(Consumer<String> sink) { warnings = sink == null ? LOG::warn : sink; }

    /**
     * Dropout masks for the next forward instead of drawing them (p > 0), in the reference's order: stream-0 input
     * conv, stream-0 ConvT, stream-1 input conv, stream-1 ConvT, stream-0 L1, stream-0 L2, stream-1 L1, stream-1 L2;
     * each already scaled by {@code 1/(1−p)} and shaped like its layer's output.
     */
    public void injectDropoutMasks(Tensor... masks) {
        if (masks != null && masks.length != 8)
            throw new IllegalArgumentException("mpis: 8 dropout masks expected (x0, T0, x1, T1, s1, s2, s_n_1, s_n_2), found " + masks.length);
        injectedMasks = masks;
    }

    /** Stream inputs: the stem output (static) or frames (neuro), and f's inputs x_k. */
    record Prepared(Tensor input, Tensor feat, long b, long h, long w, boolean neuro, boolean train) {}

    private Prepared prepare(Tensor input) {
        boolean neuro = config.kind() == MpisConfig.Kind.NEURO;
        checkInput(input, neuro);
        boolean train = is_training();
        long b = input.size(0);
        Tensor feat = neuro ? null : downsampleInit.forward(input);
        long h = neuro ? input.size(2) : feat.size(2), w = neuro ? input.size(3) : feat.size(3);
        Prepared p = new Prepared(input, feat, b, h, w, neuro, train);
        drawMasks(p);
        return p;
    }

    private void checkInput(Tensor x, boolean neuro) {
        long[] s = Ops.shape(x);
        String p = "mpis " + (neuro ? "neuro" : "static") + ": ";
        int div = neuro ? 4 : 8;
        if (neuro ? s.length != 5 || s[4] != config.timeStep() : s.length != 4)
            throw new IllegalArgumentException(p + "input must be " + (neuro ? "[B, " + config.cIn() + ", H, W, T=" + config.timeStep() + "] (time last)" : "[B, " + config.cIn() + ", H, W]")
                    + ", found " + Arrays.toString(s));
        if (s[1] != config.cIn()) throw new IllegalArgumentException(p + "input has " + s[1] + " channels, c_in is " + config.cIn());
        if (s[2] % div != 0 || s[3] % div != 0 || s[2] / div != config.hHidden() || s[3] / div != config.wHidden())
            throw new IllegalArgumentException(p + "input side must be a multiple of " + div + " with H/" + div + " = h_hidden ("
                    + config.hHidden() + ") and W/" + div + " = w_hidden (" + config.wHidden() + "), found " + s[2] + "x" + s[3]);
    }

    /** The reference's {@code _reset} calls: one mask per layer, shapes from {@code stride_x} as upstream. */
    private void drawMasks(Prepared p) {
        SNNFunc.Stream s0 = snnFunc.streams[0], s1 = snnFunc.streams[1];
        VariationalDropout[] order = {s0.x().drop, s0.trans().drop, s1.x().drop, s1.trans().drop,
                s0.l1().drop, s0.l2().drop, s1.l1().drop, s1.l2().drop};
        Tensor[] inj = injectedMasks;
        injectedMasks = null;
        if (inj != null) {
            for (int i = 0; i < 8; i++) order[i].setMask(inj[i]);
            return;
        }
        if (config.dropout() == 0) return;
        long sx = config.strideX(), b = p.b;
        long[][] shapes;
        if (!p.neuro) {
            long h = p.h * 2, w = p.w * 2, c1 = config.cS1(), c2 = config.cS2(), c3 = config.cS3();
            shapes = new long[][]{{b, c1, h / sx, w / sx}, {b, c1, h / sx, w / sx}, {b, c1, h / sx / sx, w / sx / sx},
                    {b, c1, h / sx / sx, w / sx / sx}, {b, c2, h / sx, w / sx}, {b, c3, h / (sx * 2), w / (sx * 2)},
                    {b, c2, h / (sx * 2), w / (sx * 2)}, {b, c3, h / (sx * 4), w / (sx * 4)}};
        } else {
            long h = p.h, w = p.w, ch = config.cHidden(), c1 = config.cS1(), c2 = config.cS2();
            shapes = new long[][]{{b, ch, h, w}, {b, ch, h, w}, {b, ch, h / sx, w / sx}, {b, ch, h / sx, w / sx},
                    {b, c1, h / sx, w / sx}, {b, c2, h / sx, w / sx}, {b, c1, h / (sx * 2), w / (sx * 2)},
                    {b, c2, h / (sx * 2), w / (sx * 2)}};
        }
        for (int i = 0; i < 8; i++) order[i].reset(shapes[i], p.input.device()); // masks next to the activations
    }

    /** {@code f}, the copy refresh and the head; with the implicit gradient the head reads detached leaves. */
    private Tensor finish(Prepared p, Tensor[] aStar) {
        tape = null;
        lastEquilibrium = aStar;
        Tensor[] fIn = fInputs(p);
        Tensor[] aOut = new Tensor[2], xVal = new Tensor[2];
        for (int k = 0; k < 2; k++) aOut[k] = equivalent(k, aStar[k], fIn[k], xVal);
        if (p.train) snnFuncCopy.copyFrom(snnFunc);
        Tensor[] headIn = aOut;
        if (config.options().gradient() == MpisConfig.Gradient.IMPLICIT && GradMode.is_enabled() && config.threshold() > 0
                && aOut[0].requires_grad()) {
            Tape t = new Tape(aOut, new Tensor[]{Ops.leaf(aOut[0]), Ops.leaf(aOut[1])},
                    new Tensor[]{xVal[0].detach(), xVal[1].detach()});
            headIn = t.leaf;
            tape = t;
        }
        Tensor z = increModules.forward(downsamp.forward(headIn[0]).add(headIn[1]));
        z = z.reshape(p.b, -1);
        return classifier.forward(z);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // BPTT comparison (not the reference)

    /**
     * A plain BPTT execution of the same network, for memory comparisons (not the reference's training): the same
     * layers, fusion and LIF dynamics as the simulation, but with autograd through all T steps, spikes
     * {@code s = H(v − vth)} with the surrogate gradient {@code sg} ({@link SurrogateSpike}), every BN in the module's
     * mode, the λ-weighted firing rate {@code a_k = Σ_t λ^{T−1−t} s_k,L2(t) / w(T)} as read-out (the IDE-FSNN rate,
     * {@link MpisConfig.Readout#WEIGHTED_RATE}) and the head applied to it directly (no {@code f} step). Static input
     * currents are constant, neuro ones per frame; the fusion conv takes part (and gets a gradient). Backward is
     * {@code loss.backward()}; saved activations grow linearly with T. In eval mode {@code a} equals the
     * weighted-rate read-out of {@link #forward} exactly. Same design as the reference harness's
     * {@code bptt_static_logits} (rectangular surrogate of width vth there).
     */
    public Tensor forwardBptt(Tensor input, Surrogate sg) {
        Prepared p = prepare(input);
        tape = null;
        Tensor[] a = simulation.bpttReadout(p, sg);
        lastEquilibrium = new Tensor[]{a[0].detach(), a[1].detach()};
        Tensor z = increModules.forward(downsamp.forward(a[0]).add(a[1]));
        return classifier.forward(z.reshape(p.b, -1));
    }

    /** {@code x_k} of f: static {stem output, zeros}; neuro {λ-weighted frame average x_f (spec 5.5), zeros}. */
    private Tensor[] fInputs(Prepared p) {
        if (!p.neuro) return new Tensor[]{p.feat, zeros(new long[]{p.b, p.feat.size(1), p.h / 2, p.w / 2}, p.feat.options())};
        Tensor xf;
        try (NoGradGuard ng = new NoGradGuard()) {
            xf = simulation.neuroFInput(p);
        }
        return new Tensor[]{xf, zeros(new long[]{p.b, xf.size(1), xf.size(2) / 2, xf.size(3) / 2}, xf.options())};
    }

    /** One application of stream k's equivalent function with autograd (module-mode BNs); records X_k(x). */
    private Tensor equivalent(int k, Tensor a, Tensor x, Tensor[] xVal) {
        SNNFunc.Stream s = snnFunc.streams[k];
        Tensor tr = s.trans().forward(a);
        Tensor xv = xVal[k] = s.x().forward(x, BnMode.MODULE);
        Tensor h = db2(tr.add(xv));
        h = db2(s.l1().forward(h, BnMode.MODULE));
        return db2(s.l2().forward(h, BnMode.MODULE));
    }

    /**
     * {@code f_k} as the implicit backward sees it (the reference's {@code snn_func_copy} after the forward): same
     * weights and masks, L1/L2 BNs on running statistics, input term {@code xv} fixed.
     */
    private Tensor jacobianMap(int k, Tensor z, Tensor xv) {
        SNNFunc.Stream s = snnFunc.streams[k];
        Tensor h = db2(s.trans().forward(z).add(xv));
        h = db2(s.l1().forward(h, BnMode.EVAL));
        return db2(s.l2().forward(h, BnMode.EVAL));
    }

    /** DBReLU applied to {@code z / vth}: {@code clamp(z / vth / vth, 0, 1)}. */
    private Tensor db2(Tensor z) {
        return clamp(z.div(vthT).div(vthT), Ops.so(0), Ops.so(1));
    }

    /** {@code w(T) = (1 − λ^T)/(1 − λ)} in float32 (the reference's tensor arithmetic); {@code T} for λ = 1 (count). */
    Tensor readoutWeight() { return simulation.readoutWeight(); }

    /** Time steps the last simulation ran: T, or 1 when the steps the read-out never reads were skipped. */
    int simulatedSteps() { return simulation.lastSteps(); }

    // ---------------------------------------------------------------------------------------------------------------
    // backward

    /** What an implicit-gradient forward leaves for {@link #backward}: f's outputs (graph), the head's leaves, X_k(x). */
    private record Tape(Tensor[] aOut, Tensor[] leaf, Tensor[] xVal) {}

    /**
     * Back-propagates {@code loss} (built from the last forward's logits). One-step gradient: {@code loss.backward()}.
     * Implicit gradient: {@code loss.backward()} through the head, then per stream the adjoint
     * {@code u_k (I − J_k) = ∂L/∂a_out_k} (Broyden, at most {@code threshold} iterations), then {@code u} through the
     * recorded {@code f}. A non-converged solve warns and uses the lowest-residual iterate (the one-step gradient if
     * that is the initial guess or not finite).
     */
    public void backward(Tensor loss) {
        Tape t = tape;
        tape = null;
        loss.backward();
        if (t == null) return;
        Tensor[] us = new Tensor[2];
        for (int k = 0; k < 2; k++) {
            final int kk = k;
            Tensor gk = t.leaf[k].grad().defined() ? new Tensor(t.leaf[k].grad()) : zeros_like(t.aOut[k]);
            us[k] = Scopes.keepOne(() -> adjoint(kk, t, gk));
        }
        org.bytedeco.pytorch.global.torch.backward(new TensorVector(t.aOut[0], t.aOut[1]), new TensorVector(us[0], us[1]),
                new BoolOptional(false), false, new TensorVector());
    }

    private Tensor adjoint(int k, Tape t, Tensor g) {
        try (AutoGradMode on = new AutoGradMode(true)) {
            Tensor z = Ops.leaf(t.aOut[k]);
            Tensor fz = jacobianMap(k, z, t.xVal[k]);
            UnaryOperator<Tensor> vjp = FixedPointAdjoint.vjpOf(fz, z);
            long b = g.size(0), n = g.numel() / b;
            double eps = Double.isNaN(config.options().broydenEps()) ? 2e-10 * Math.sqrt((double) b * n) : config.options().broydenEps();
            Broyden.Options o = Broyden.Options.reference(config.threshold(), eps).withRtol(config.options().broydenRtol());
            FixedPointAdjoint.Solution sol = FixedPointAdjoint.solve(vjp, g, o);
            Broyden.Result r = sol.info();
            lastSolve[k] = r;
            boolean finite = isfinite(sol.u()).all().item_bool();
            if (!r.converged() || !finite) {
                String what = !finite ? "a non-finite result" : r.lowestStep() == 0 ? "no improvement on u = 0" : "the lowest-residual iterate (step " + r.lowestStep() + ")";
                boolean fallback = !finite || r.lowestStep() == 0;
                warnings.accept(String.format("mpis implicit backward, stream %d: Broyden did not converge in %d iterations "
                                + "(residual %.3e, relative %.3e, tolerance %.3e%s); got %s, using %s. Hint: raise 'threshold' "
                                + "or 'broyden_rtol', or use gradient: one-step", k, r.iterations(), r.residual(), r.relativeResidual(),
                        r.tolerance(), r.protectiveBreak() ? ", protective break" : "", what,
                        fallback ? "the one-step gradient instead" : "it"));
                if (fallback) return g.clone();
            }
            return sol.u();
        }
    }
}
