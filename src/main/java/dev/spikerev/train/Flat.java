package dev.spikerev.train;

import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.repeat_interleave;
import static org.bytedeco.pytorch.global.torch.tensor;

/**
 * Many same-dtype tensors handled as one flat tensor, the way apex/torch "multi-tensor" optimizers do: elementwise
 * work runs as a few ops over all elements instead of a few ops per tensor (376 tensors for T-RevSNN, where the
 * per-call overhead dominated the optimizer phase). Elementwise results are the same bits as per-tensor ops; per-tensor
 * reductions still run per tensor, on views of the flat data (same data, same kernels, same bits).
 */
final class Flat {
    private Flat() {}

    /** {@code cat([t.reshape(-1) for t in ts])}. */
    static Tensor gather(List<Tensor> ts) {
        TensorVector v = new TensorVector();
        for (Tensor t : ts) v.push_back(t.reshape(-1));
        Tensor out = cat(v);
        v.close();
        return out;
    }

    /** Views of {@code flat} shaped like {@code like} (consecutive, in order). */
    static Tensor[] views(Tensor flat, List<Tensor> like) {
        Tensor[] out = new Tensor[like.size()];
        long off = 0;
        for (int i = 0; i < out.length; i++) {
            Tensor t = like.get(i);
            long n = t.numel();
            out[i] = flat.narrow(0, off, n).view(t.sizes());
            off += n;
        }
        return out;
    }

    /** {@code [x_0]*n_0 + [x_1]*n_1 + ...}: a per-tensor value (1-d, one entry per tensor) spread over its elements. */
    static Tensor spread(Tensor perTensor, List<Tensor> like) {
        long[] counts = new long[like.size()];
        for (int i = 0; i < counts.length; i++) counts[i] = like.get(i).numel();
        Tensor c = dev.spikerev.tensor.Devices.to(tensor(counts), perTensor.is_cpu() ? null : perTensor.device());
        Tensor out = repeat_interleave(perTensor, c);
        c.close();
        return out;
    }
}
