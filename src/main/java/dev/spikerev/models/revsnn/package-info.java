/**
 * RevSNN (Zhang &amp; Zhang, AAAI 2024; reference mi804/RevSNN @ 7521f75a): reversible spiking ResNets
 * ({@link dev.spikerev.models.revsnn.RevSResNet}: revs_resnet21/37/109 CIFAR, revs_resnet24 DVS) and reversible
 * spiking transformers ({@link dev.spikerev.models.revsnn.RevSFormer}: 2/4-384 CIFAR, 2-256 DVS).
 *
 * <p>Every model comes in two variants with the same layers and state_dict ({@code RevSNNConfig.reversible}):
 * reversible (activations of the reversible sequences are not kept; backward reconstructs each block's input from its
 * output and recomputes F/G, in the reference's order) and plain (ordinary autograd through all T steps, BPTT).
 * Both reproduce the reference's BatchNorm double update inside F/G (quirk Q1). Neurons
 * ({@link dev.spikerev.nn.IFNeuron}, {@link dev.spikerev.nn.LIFNeuron}) start from rest on every call, which is what
 * the reference's {@code reset_net} around sequences and recomputes amounts to, so the recompute sees exactly the
 * forward's neuron state. {@link dev.spikerev.models.revsnn.RevSNNFamily} wires the models into
 * {@code spikerev parity} and {@code spikerev bench memory --family revsnn}.
 */
package dev.spikerev.models.revsnn;
