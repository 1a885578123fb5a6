package dev.spikerev.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import static org.bytedeco.pytorch.global.torch.cross_entropy;
import static org.bytedeco.pytorch.global.torch.log_softmax;

/**
 * Classification losses of the references, written with the same tensor ops as their Python sources. Under mixed
 * precision ({@code train.amp}) the logits arrive in bfloat16/float16 and are upcast to float32 first, so the loss is
 * a float32 number as with CUDA autocast (which runs log_softmax / cross_entropy in float32); float32 logits are
 * used as they are.
 */
public final class Losses {
    private Losses() {}

    /** {@code logits} for a loss: bfloat16/float16 upcast to float32, anything else unchanged (the same tensor). */
    public static Tensor lossPrecision(Tensor logits) {
        int v = logits.scalar_type().value;
        return v == org.bytedeco.pytorch.global.torch.ScalarType.BFloat16.value
                || v == org.bytedeco.pytorch.global.torch.ScalarType.Half.value
                ? logits.to(org.bytedeco.pytorch.global.torch.ScalarType.Float) : logits;
    }

    /** {@code torch.nn.CrossEntropyLoss()(logits, target)}: mean over the batch; target = int64 class indices {@code [N]}. */
    public static Tensor crossEntropy(Tensor logits, Tensor target) {
        return cross_entropy(lossPrecision(logits), target);
    }

    /**
     * timm {@code LabelSmoothingCrossEntropy(smoothing)}:
     * {@code mean_b[(1-s) * -log p_y + s * mean_c(-log p_c)]}, with {@code log p = log_softmax(x, -1)}.
     * Logits {@code [N, C]}, target int64 {@code [N]}.
     */
    public static Tensor labelSmoothingCrossEntropy(Tensor logits, Tensor target, double smoothing) {
        if (!(smoothing < 1.0)) throw new IllegalArgumentException("smoothing must be < 1, found " + smoothing);
        double confidence = 1. - smoothing;
        Tensor logprobs = log_softmax(lossPrecision(logits), -1);
        Tensor nll = logprobs.gather(-1, target.unsqueeze(1)).neg().squeeze(1);
        Tensor smooth = logprobs.mean(new long[] {-1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()).neg();
        Tensor loss = nll.mul(new Scalar(confidence)).add(smooth.mul(new Scalar(smoothing)));
        return loss.mean();
    }

    /** timm {@code SoftTargetCrossEntropy}: {@code mean_b sum_c(-t_c * log_softmax(x)_c)}; targets {@code [N, C]}. */
    public static Tensor softTargetCrossEntropy(Tensor logits, Tensor target) {
        Tensor loss = target.neg().mul(log_softmax(lossPrecision(logits), -1)).sum(new long[] {-1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
        return loss.mean();
    }

    /**
     * T-RevSNN {@code compound_loss_only_cls}: {@code sum_i criterion(h_i, y) * (i+1)/n  +  criterion(h_last, y)}
     * (the last head counts twice), summed as {@code torch.sum(torch.stack(losses), dim=0)}.
     */
    public static Tensor intermediateSupervision(java.util.List<Tensor> heads, Tensor target,
                                                 java.util.function.BiFunction<Tensor, Tensor, Tensor> criterion) {
        org.bytedeco.pytorch.TensorVector losses = new org.bytedeco.pytorch.TensorVector();
        int n = heads.size();
        for (int i = 0; i < n; i++) {
            double ratio = (i + 1) / (double) n;
            losses.push_back(criterion.apply(heads.get(i), target).mul(new Scalar(ratio)));
        }
        losses.push_back(criterion.apply(heads.get(n - 1), target));
        return org.bytedeco.pytorch.global.torch.stack(losses).sum(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    }

    /**
     * timm {@code mixup_target(target, num_classes, lam, smoothing)}: {@code y1 * lam + y2 * (1 - lam)} with
     * {@code y1} the smoothed one-hot of {@code target}, {@code y2} that of {@code target.flip(0)}; smoothed one-hot =
     * {@code off = s / C}, {@code on = 1 - s + off}; float32 {@code [N, C]} on the target's device. With mixup off
     * ({@code lam = 1}) this is the smoothed one-hot, exactly.
     */
    public static Tensor mixupTarget(Tensor target, long numClasses, double lam, double smoothing) {
        double off = smoothing / numClasses;
        double on = 1. - smoothing + off;
        Tensor y1 = oneHot(target, numClasses, on, off);
        Tensor y2 = oneHot(target.flip(0), numClasses, on, off);
        return y1.mul(new Scalar(lam)).add(y2.mul(new Scalar(1. - lam)));
    }

    private static Tensor oneHot(Tensor target, long numClasses, double on, double off) {
        Tensor x = target.to(org.bytedeco.pytorch.global.torch.ScalarType.Long).view(-1, 1);
        Tensor t = org.bytedeco.pytorch.global.torch.full(new long[] {x.size(0), numClasses}, new Scalar(off),
                new org.bytedeco.pytorch.TensorOptions(target.device())); // float32, made on the target's device
        return t.scatter_(1, x, new Scalar(on));
    }
}
