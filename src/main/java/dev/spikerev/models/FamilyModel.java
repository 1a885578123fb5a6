package dev.spikerev.models;

import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * A model of one family as the parity harness, the trainer and the benchmarks drive it: built from the reference's
 * constructor arguments, with the reference's training criterion, backward path and optimizer.
 */
public interface FamilyModel {

    /** The module tree; its state_dict names equal the reference's. */
    Module module();

    /** Final prediction logits {@code [B, classes]} for {@code input}, in the module's current mode. */
    Tensor predict(Tensor input);

    /**
     * Training-mode forward and the reference criterion. Returns {@code [logits, loss]} (logits of the final
     * prediction head, loss a 0-d tensor). The caller then calls {@link #backward(Tensor)} on the loss.
     */
    Tensor[] forwardLoss(Tensor input, Tensor target);

    /** Back-propagates a loss from {@link #forwardLoss} (reversible / implicit paths run their own backward). */
    void backward(Tensor loss);

    /**
     * Frames per sample the model expects from an event dataset (N-MNIST, DVS128 Gesture, CIFAR10-DVS): its number of
     * time steps with the family's own default. Default: 4.
     */
    default int timeSteps() { return 4; }

    /** The reference optimizer (plus its clipping rules) over this model, from meta.json's {@code optimizer}. */
    Stepper optimizer(Map<String, Object> optimizerMeta);

    /**
     * Family-specific parity groups beyond the common ones (e.g. MPIS {@code grads_implicit}); computed on a fresh
     * model loaded from {@code model.pth}. Default: none.
     */
    default List<ParityGroup> extraGroups(Map<String, Object> io, Map<String, Object> meta) { return List.of(); }

    /** One optimizer: {@code zeroGrad()} before backward, {@code step()} after (clipping included). */
    interface Stepper {
        void zeroGrad();

        void step();
    }

    /** A named comparison: actual vs expected tensors (by key), with a tolerance. */
    record ParityGroup(String name, Map<String, Tensor> actual, Map<String, Tensor> expected, double atol, double rtol) {}
}
