package dev.spikerev.models.revsnn;

import dev.spikerev.nn.Conv1d;
import dev.spikerev.nn.MultiStepNeuron;
import java.util.function.DoubleFunction;
import org.bytedeco.pytorch.BatchNorm1dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * RevSFormer's F: spiking self-attention on {@code [T, B, D, H, W]} (N = H·W), no softmax, fixed scale 0.125:
 * <pre>
 *   s = proj_lif(x) -> [T,B,D,N];  q = q_lif(q_bn(q_conv(s)))  (Conv1d 1x1 no bias, BN1d on [T*B,D,N]); same k, v
 *   q,k,v -> [T,B,h,N,D/h]  (head i owns channels i·D/h .. (i+1)·D/h − 1)
 *   out = ((q @ kᵀ) @ v) · 0.125 -> [T,B,D,N] -> attn_lif (v_th 0.5) -> proj_conv (Conv1d 1x1, bias) -> proj_bn
 * </pre>
 * Products of spikes are exact small integers, so the attention is exact in fp32.
 */
final class SpikingSelfAttention extends Residual {
    final int dim, numHeads;
    final MultiStepNeuron projLif, qLif, kLif, vLif, attnLif;
    final Conv1d qConv, kConv, vConv, projConv;
    final BatchNorm1dImpl qBn, kBn, vBn, projBn;

    /** @param lif LIF factory by threshold (tau per dataset) */
    SpikingSelfAttention(int dim, int numHeads, DoubleFunction<MultiStepNeuron> lif) {
        this.dim = dim;
        this.numHeads = numHeads;
        projLif = register_module("proj_lif", lif.apply(1.0));
        qConv = register_module("q_conv", new Conv1d(dim, dim, 1, 1, false));
        qBn = register_module("q_bn", new BatchNorm1dImpl(new BatchNormOptions(dim)));
        qLif = register_module("q_lif", lif.apply(1.0));
        kConv = register_module("k_conv", new Conv1d(dim, dim, 1, 1, false));
        kBn = register_module("k_bn", new BatchNorm1dImpl(new BatchNormOptions(dim)));
        kLif = register_module("k_lif", lif.apply(1.0));
        vConv = register_module("v_conv", new Conv1d(dim, dim, 1, 1, false));
        vBn = register_module("v_bn", new BatchNorm1dImpl(new BatchNormOptions(dim)));
        vLif = register_module("v_lif", lif.apply(1.0));
        attnLif = register_module("attn_lif", lif.apply(0.5));
        projConv = register_module("proj_conv", new Conv1d(dim, dim, 1, 1, true));
        projBn = register_module("proj_bn", new BatchNorm1dImpl(new BatchNormOptions(dim)));
    }

    @Override protected Tensor inner(Tensor x) {
        long T = x.size(0), B = x.size(1), C = x.size(2), H = x.size(3), W = x.size(4);
        Tensor s = projLif.forward(x).flatten(3, -1);
        long N = s.size(3);
        Tensor xf = s.flatten(0, 1);
        Tensor q = heads(qLif.forward(bn(qBn, qBn::forward, qConv.forward(xf)).reshape(T, B, C, N)), T, B, C, N);
        Tensor k = heads(kLif.forward(bn(kBn, kBn::forward, kConv.forward(xf)).reshape(T, B, C, N)), T, B, C, N);
        Tensor v = heads(vLif.forward(bn(vBn, vBn::forward, vConv.forward(xf)).reshape(T, B, C, N)), T, B, C, N);
        Tensor kt = k.transpose(-2, -1);
        Tensor attn = q.matmul(kt);
        dev.spikerev.nn.OpCounter.matmul(this, "matmul q@k^T", q, kt, attn);
        Tensor av = attn.matmul(v);
        dev.spikerev.nn.OpCounter.matmul(this, "matmul attn@v", attn, v, av);
        Tensor out = av.mul(new Scalar(0.125));
        out = out.transpose(3, 4).reshape(T, B, C, N);
        out = attnLif.forward(out).flatten(0, 1);
        return bn(projBn, projBn::forward, projConv.forward(out)).reshape(T, B, C, H, W);
    }

    /** {@code [T,B,C,N] -> [T,B,h,N,C/h]}. */
    private Tensor heads(Tensor t, long T, long B, long C, long N) {
        return t.transpose(-1, -2).reshape(T, B, N, numHeads, C / numHeads).permute(0, 1, 3, 2, 4);
    }
}
