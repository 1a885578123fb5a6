package dev.spikerev.models.revsnn;

import dev.spikerev.nn.Conv2d;
import dev.spikerev.nn.LIFNeuron;
import dev.spikerev.nn.MultiStepNeuron;
import dev.spikerev.nn.SpikeModule;
import dev.spikerev.tensor.Scopes;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleFunction;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * RevSFormer (reference {@code revmodel.py}, class {@code rev_vit_snn}):
 * <pre>
 *   CIFAR x [B,3,32,32] -> repeat T -> [T,B,3,32,32]     DVS x [B,T,2,128,128] -> permute -> [T,B,2,128,128]
 *   -> patch_embed (spiking tokenizer) -> [T,B,D,8,8] -> cat(x, x) on channels -> [T,B,2D,8,8]
 *   -> block (reversible sequence of `depths` blocks, F = {@link SpikingSelfAttention}, G = {@link Mlp})
 *   -> mean over the 64 positions -> mean over T -> head Linear(2D, classes)
 * </pre>
 * LIF neurons (tau 2 CIFAR / 1.5 DVS, Sigmoid(4), hard reset, detach_reset). Constructor arguments qkv_bias,
 * qk_scale, drop rates, norm_layer, sr_ratios are ignored by the reference and absent here (quirk Q7).
 */
public final class RevSFormer extends RevSNNNet {
    private final Tokenizer patchEmbed;
    private final RevSequence block;
    private final LinearImpl head;

    public RevSFormer(RevSNNConfig cfg) {
        super(cfg);
        if (cfg.model() != RevSNNConfig.Model.REVSFORMER) throw new IllegalArgumentException("not a RevSFormer config: " + cfg.model());
        double tau = cfg.dvs() ? 1.5 : 2.0;
        DoubleFunction<MultiStepNeuron> lif = vth -> new LIFNeuron(tau, vth, true);
        int d = cfg.embedDims();
        patchEmbed = register_module("patch_embed", new Tokenizer(cfg.inChannels(), d, cfg.dvs(), lif));
        List<RevBlock> blocks = new ArrayList<>();
        for (int j = 0; j < cfg.depths(); j++)
            blocks.add(new RevBlock(new SpikingSelfAttention(d, cfg.numHeads(), lif), new Mlp(d, (long) (d * cfg.mlpRatio()), lif)));
        block = register_module("block", new RevSequence(blocks, cfg.reversible()));
        head = register_module("head", new dev.spikerev.nn.Linear(2L * d, cfg.numClasses()));
        try (NoGradGuard ng = new NoGradGuard()) {   // _init_weights: Linear trunc_normal(std .02), bias 0
            head.weight().normal_(0.0, 0.02, new org.bytedeco.pytorch.GeneratorOptional()).clamp_(new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(-2.0)),
                    new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(2.0)));
            head.bias().zero_();
        }
    }

    @Override public Tensor forward(Tensor input) {
        if (input.dim() != (config.dvs() ? 5 : 4))
            throw new IllegalArgumentException("RevSFormer (" + (config.dvs() ? "dvs" : "cifar") + ") expects "
                    + (config.dvs() ? "[B, T, 2, 128, 128]" : "[B, C, H, W]") + ", found a " + input.dim() + "-d input");
        Tensor tokens = Scopes.keepOne(() -> {
            Tensor x = config.dvs() ? input.permute(1, 0, 2, 3, 4) : input.unsqueeze(0).repeat(config.T(), 1, 1, 1, 1);
            Tensor t = patchEmbed.forward(x);
            return cat(new TensorVector(t, t), 2);
        });
        Tensor y = block.forward(tokens);
        tokens.close();
        Tensor logits = Scopes.keepOne(() -> {
            Tensor f = y.flatten(3, -1).mean(new long[]{3}, false, new ScalarTypeOptional());
            return head.forward(f.mean(new long[]{0}, false, new ScalarTypeOptional()));
        });
        y.close();
        return logits;
    }

    /**
     * Spiking tokenizer. CIFAR ({@code block0..4}): conv -> BN, then 4x (LIF -> [maxpool(3,2,1) in stages 3, 4] ->
     * conv 3x3 -> BN) with channels D/8, D/4, D/2, D, D. DVS ({@code proj, proj1..4}): conv -> BN, then 4x
     * (LIF -> maxpool -> conv -> BN), 128 -> 8.
     */
    static final class Tokenizer extends SpikeModule {
        final Conv2d[] convs = new Conv2d[5];
        final BatchNorm2dImpl[] bns = new BatchNorm2dImpl[5];
        final MultiStepNeuron[] lifs = new MultiStepNeuron[5];
        final boolean[] pool = new boolean[5];

        Tokenizer(long in, int d, boolean dvs, DoubleFunction<MultiStepNeuron> lif) {
            long[] ch = {d / 8, d / 4, d / 2, d, d};
            for (int i = 0; i < 5; i++) {
                long cin = i == 0 ? in : ch[i - 1];
                String base = dvs ? (i == 0 ? "proj" : "proj" + i) : "block" + i;
                if (i > 0) lifs[i] = register_module(base + "_lif", lif.apply(1.0));
                pool[i] = dvs ? i > 0 : i >= 3;
                convs[i] = register_module(base + "_conv", new Conv2d(cin, ch[i], 3, 1, 1, 1, false));
                bns[i] = register_module(base + "_bn", new BatchNorm2dImpl(new BatchNormOptions(ch[i])));
            }
        }

        /** {@code [T,B,C,H,W] -> [T,B,D,H/2^k,W/2^k]}. */
        Tensor forward(Tensor x) {
            for (int i = 0; i < 5; i++) {
                final int k = i;
                Tensor s = i == 0 ? x : lifs[i].forward(x);
                x = Seq.toAnn(s, z -> {
                    Tensor p = pool[k] ? max_pool2d(z, new long[]{3, 3}, new long[]{2, 2}, new long[]{1, 1}, new long[]{1, 1}, false) : z;
                    return bns[k].forward(convs[k].forward(p));
                });
            }
            return x;
        }
    }
}
