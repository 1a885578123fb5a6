package dev.spikerev.nn;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * Where the synaptic layers (convolutions, linear layers, spike matrix products) report each call, so that an energy
 * meter ({@code dev.spikerev.bench.Energy}) can count MACs and synaptic operations on real data. Off by default: one
 * volatile read per layer call. A layer reports its input and the number of multiply-accumulates the call performed
 * (over the whole batch, all time steps).
 */
public final class OpCounter {
    /** Receives one call of a synaptic layer. */
    public interface Listener {
        /**
         * @param layer the module (null for a functional op inside {@code owner})
         * @param owner the module that ran a functional op (or the layer itself)
         * @param op    short op name ("conv2d", "linear", "matmul", ...)
         * @param inputs the operand(s) whose values drive the additions: the input of a layer; both factors of a
         *               matrix product (the meter uses the first spike-valued one)
         * @param macs   multiply-accumulates of this call if the input were dense
         */
        void record(Module layer, Module owner, String op, Tensor[] inputs, long macs);
    }

    private static volatile Listener listener;

    private OpCounter() {}

    public static void install(Listener l) { listener = l; }

    public static void uninstall() { listener = null; }

    public static boolean active() { return listener != null; }

    /** Conv: MACs = output elements x (input channels / groups) x kernel elements. */
    public static void conv(Module layer, String op, Tensor input, Tensor output, long inPerGroup, long kernelElems) {
        Listener l = listener;
        if (l != null) l.record(layer, layer, op, new Tensor[]{input}, output.numel() * inPerGroup * kernelElems);
    }

    /** Linear {@code y = x W^T}: MACs = output elements x in_features. */
    public static void linear(Module layer, Tensor input, Tensor output, long inFeatures) {
        Listener l = listener;
        if (l != null) l.record(layer, layer, "linear", new Tensor[]{input}, output.numel() * inFeatures);
    }

    /** A matrix product {@code a @ b} inside {@code owner}: MACs = output elements x the contracted size. */
    public static void matmul(Module owner, String op, Tensor a, Tensor b, Tensor output) {
        Listener l = listener;
        if (l == null) return;
        l.record(null, owner, op, new Tensor[]{a, b}, output.numel() * a.size(-1));
    }
}
