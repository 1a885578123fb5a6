package dev.spikerev.models.revsnn;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.IFNeuron;
import dev.spikerev.nn.LIFNeuron;
import dev.spikerev.nn.MultiStepNeuron;
import dev.spikerev.nn.SpikeModule;
import dev.spikerev.tensor.Layouts;
import dev.spikerev.tensor.Scopes;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.MemoryFormat;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * RevSResNet (reference {@code revs_resnet.py}). CIFAR:
 * <pre>
 *   x [B,3,32,32] -> conv1 3x3 (3 -> 2p0) -> bn1 -> repeat T -> [T,B,2p0,32,32]
 *   -> layer1 -> ds1 -> layer2 -> ds2 -> layer3 -> ds3 -> layer4 -> sn1 -> avgpool -> fc (per t) -> mean over T
 * </pre>
 * DVS ({@code revs_resnet24}): {@code [B,T,2,128,128] -> permute -> conv1.0 (3x3 s2) -> bn1.0 -> avgpool(3,2,1)
 * -> layer1 -> ds1 -> layer2 -> ds2 -> layer3 -> sn1 -> avgpool -> fc -> mean T}.
 * Each {@code layer{i}} is a {@link RevSequence} of {@code layers[i]} blocks with F = G = {@link BasicResidualBlock}
 * (planes[i]); {@code ds{i}} is {@code neuron -> AvgPool(3,2,1) -> conv1x1 -> BN}. Neurons: CIFAR IF (v_th 1,
 * ATan(2)), DVS LIF (tau 1.5, Sigmoid(4)); all hard reset to 0 with detach_reset.
 *
 * <p>Memory layout ({@link RevSNNConfig#channelsLast()}, default on): the stages that are wide and large enough
 * ({@link #MIN_NHWC_PLANES}, {@link #MIN_NHWC_PIXELS}: RevSResNet21/37/109's first three) get their input in NHWC
 * order, and everything inside keeps it - the convolutions, BatchNorms, pools and neurons follow their input's layout,
 * and the reversible streams are dense NHWC halves ({@link dev.spikerev.tensor.Layouts}) - so oneDNN's convolutions
 * skip the NCHW to blocked reorders of their inputs and outputs. The stem, the other stages, the state-dict
 * tensors and everything on a GPU stay NCHW.
 */
public final class RevSResNet extends RevSNNNet {
    private final Module2 conv1, bn1;
    private final List<RevSequence> stages = new ArrayList<>();
    private final List<DownSample> downs = new ArrayList<>();
    private final MultiStepNeuron sn1;
    private final LinearImpl fc;

    public RevSResNet(RevSNNConfig cfg) {
        super(cfg);
        if (cfg.model() != RevSNNConfig.Model.REVSRESNET) throw new IllegalArgumentException("not a RevSResNet config: " + cfg.model());
        boolean dvs = cfg.dvs();
        Surrogate atan = Surrogate.atan(2.0);
        Supplier<MultiStepNeuron> neuron = dvs ? () -> new LIFNeuron(1.5, 1.0, true) : () -> new IFNeuron(true, atan);
        int[] planes = cfg.planes(), layers = cfg.layers();
        long inplanes = planes[0] * 2L;
        if (dvs) {
            Conv2d c = new Conv2d(cfg.inChannels(), inplanes, 3, 2, 1, 1, false);
            BatchNorm2dImpl b = new BatchNorm2dImpl(new BatchNormOptions(inplanes));
            conv1 = register_module("conv1", new Module2(c, null).wrap());
            bn1 = register_module("bn1", new Module2(null, b).wrap());
        } else {
            conv1 = new Module2(register_module("conv1", new Conv2d(cfg.inChannels(), inplanes, 3, 1, 1, 1, false)), null);
            bn1 = new Module2(null, register_module("bn1", new BatchNorm2dImpl(new BatchNormOptions(inplanes))));
        }
        for (int i = 0; i < layers.length; i++) {
            if (i > 0) downs.add(register_module("ds" + i, new DownSample(planes[i - 1] * 2L, planes[i] * 2L, neuron.get())));
            List<RevBlock> blocks = new ArrayList<>();
            for (int j = 0; j < layers[i]; j++)
                blocks.add(new RevBlock(new BasicResidualBlock(planes[i], neuron), new BasicResidualBlock(planes[i], neuron)));
            stages.add(register_module("layer" + (i + 1), new RevSequence(blocks, cfg.reversible())));
        }
        sn1 = register_module("sn1", neuron.get());
        if (cfg.reversible()) {
            // the neurons right after a reversible stage read its output, which the stage's backward keeps anyway:
            // they keep that reference instead of their own surrogate derivatives (one tensor of the stage's size each)
            for (DownSample d : downs) d.neuron.setKeepInputForBackward(true);
            sn1.setKeepInputForBackward(true);
        }
        fc = register_module("fc", new dev.spikerev.nn.Linear(planes[planes.length - 1] * 2L, cfg.numClasses()));
        initWeights();
    }

    /**
     * With {@link RevSNNConfig#channelsLast()}, a stage runs NHWC when its streams have at least {@link #MIN_NHWC_PLANES}
     * channels on at least {@link #MIN_NHWC_PIXELS} pixels, else NCHW. Measured with oneDNN at RevSResNet21's shapes
     * (batch 8 x T 4, one thread): NHWC skips the NCHW to blocked reorders and wins at 64 ch @ 32x32, 128 @ 16x16 and
     * 256 @ 8x8 (oneDNN time of the 256 stage 771-779 vs 808-815 ms per 2 train + 2 inference steps), loses at 448 @
     * 4x4 (forward +10 %, backward +10-17 %); on the fixture-size model (4-16 channels) NHWC made the whole step 27 %
     * slower. CPU only: on CUDA (cuDNN) the layout was not measured, so GPU runs stay NCHW.
     */
    static final long MIN_NHWC_PIXELS = 64;
    static final int MIN_NHWC_PLANES = 64;

    boolean nhwc(int stage, long pixels, boolean cpu) {
        return cpu && config.channelsLast() && config.planes()[stage] >= MIN_NHWC_PLANES && pixels >= MIN_NHWC_PIXELS;
    }

    /** The reversible stages {@code layer1..}. */
    List<RevSequence> stages() { return stages; }

    /** kaiming_normal_(fan_out, relu) for every conv; BN 1/0 and Linear defaults stay. */
    private void initWeights() {
        try (NoGradGuard ng = new NoGradGuard()) {
            StringTensorDict ps = named_parameters(true);
            for (long i = 0; i < ps.size(); i++) {
                Tensor p = ps.get(i).value();
                if (p.dim() == 4) {
                    double fanOut = p.size(0) * p.size(2) * p.size(3);
                    p.normal_(0.0, Math.sqrt(2.0 / fanOut), new org.bytedeco.pytorch.GeneratorOptional());
                }
            }
        }
    }

    @Override public Tensor forward(Tensor input) {
        Tensor x;
        if (config.dvs()) {
            if (input.dim() != 5) throw new IllegalArgumentException("DVS RevSResNet expects [B, T, 2, H, W], found " + input.dim() + "-d input");
            x = Scopes.keepOne(() -> Seq.toAnn(input.permute(1, 0, 2, 3, 4), z -> {
                Tensor y = bn1.bn.forward(conv1.conv.forward(z));
                return avg_pool2d(y, new long[]{3, 3}, new long[]{2, 2}, new long[]{1, 1}, false, true, new org.bytedeco.pytorch.LongOptional());
            }));
        } else {
            if (input.dim() != 4) throw new IllegalArgumentException("CIFAR RevSResNet expects [B, C, H, W], found " + input.dim() + "-d input");
            x = Scopes.keepOne(() -> {
                Tensor y = bn1.bn.forward(conv1.conv.forward(input));
                boolean cl = nhwc(0, y.size(2) * y.size(3), y.device().is_cpu()); // before the repeat: T times fewer elements
                return Seq.repeat(cl ? y.contiguous(MemoryFormat.ChannelsLast) : y, config.T());
            });
        }
        // each stage's input handle is closed once used: autograd keeps what backward needs, nothing more
        for (int i = 0; i < stages.size(); i++) {
            if (i > 0) {
                DownSample d = downs.get(i - 1);
                Tensor xi = x;
                x = Scopes.keepOne(() -> d.forward(xi));
                xi.close();
            }
            boolean cl = nhwc(i, x.size(3) * x.size(4), x.device().is_cpu());
            if (cl != Layouts.isChannelsLast5d(x)) {
                Tensor xi = x;
                x = Scopes.keepOne(() -> cl ? Layouts.channelsLast5d(xi) : xi.contiguous());
                xi.close();
            }
            Tensor xi = x;
            x = stages.get(i).forward(xi);
            xi.close();
        }
        Tensor feat = x;
        Tensor logits = Scopes.keepOne(() -> {
            Tensor s = Seq.toAnn(sn1.forward(feat), z -> adaptive_avg_pool2d(z, new long[]{1, 1}));
            return fc.forward(s.flatten(2, -1)).mean(new long[]{0}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
        });
        feat.close();
        return logits;
    }

    /** A conv or BN, optionally wrapped as child {@code 0} (SeqToANNContainer in the DVS model). */
    static final class Module2 extends SpikeModule {
        final Conv2d conv;
        final BatchNorm2dImpl bn;

        Module2(Conv2d conv, BatchNorm2dImpl bn) {
            this.conv = conv;
            this.bn = bn;
        }

        /** Wrapped form: registers the layer as child "0". */
        Module2 wrap() {
            if (conv != null) register_module("0", conv);
            if (bn != null) register_module("0", bn);
            return this;
        }
    }

    /** {@code DownSampleConv}: {@code 0} neuron, {@code 1 = SeqToANNContainer(AvgPool(3,2,1), conv1x1, BN)}. */
    static final class DownSample extends SpikeModule {
        final MultiStepNeuron neuron;
        final Body body;

        DownSample(long in, long out, MultiStepNeuron neuron) {
            this.neuron = register_module("0", neuron);
            this.body = register_module("1", new Body(in, out));
        }

        Tensor forward(Tensor x) { return Seq.toAnn(neuron.forward(x), body::forward); }

        static final class Body extends SpikeModule {
            final Conv2d conv;
            final BatchNorm2dImpl bn;

            Body(long in, long out) {
                conv = register_module("1", new Conv2d(in, out, 1, 1, 0, 1, false));
                bn = register_module("2", new BatchNorm2dImpl(new BatchNormOptions(out)));
            }

            Tensor forward(Tensor x) {
                Tensor p = avg_pool2d(x, new long[]{3, 3}, new long[]{2, 2}, new long[]{1, 1}, false, true, new org.bytedeco.pytorch.LongOptional());
                return bn.forward(conv.forward(p));
            }
        }
    }
}
