package dev.spikerev.train.distributed;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import dev.spikerev.nn.StateDictIO;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * What makes N processes train like one (manual DDP):
 * <ul>
 * <li>{@link #broadcastModule}: every rank starts from rank 0's parameters and buffers;</li>
 * <li>{@link #allReduceMean}: after backward, every rank's gradients become the mean over the ranks. With a
 *     mean-reduced loss and equal shard sizes this is the gradient of the whole (global) batch, so clipping and the
 *     optimizer step then run identically on every rank and the weights stay equal without further communication.</li>
 * </ul>
 * The gradients are flattened into one buffer per dtype/device (one collective per step instead of one per tensor),
 * followed by one "defined" flag per parameter: a parameter whose {@code .grad} is undefined on every rank stays
 * undefined (so the optimizer still skips it); one with a gradient on some rank only gets {@code sum / world} with
 * zeros for the others, like DDP.
 */
public final class GradSync {
    private GradSync() {}

    /** Overwrites every parameter and buffer with rank 0's value (no-grad, in place). */
    public static void broadcastModule(DistGroup g, Module m) {
        try (PointerScope s = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            for (Tensor t : StateDictIO.stateDict(m).values()) g.broadcastFromMain(t);
        }
    }

    /** Replaces each parameter's gradient by its mean over all ranks. Call after backward, before clipping/step. */
    public static void allReduceMean(DistGroup g, List<Tensor> params) {
        if (g.world() == 1) return;
        try (PointerScope s = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Map<String, List<Tensor>> buckets = new LinkedHashMap<>();
            for (Tensor p : params)
                buckets.computeIfAbsent(p.scalar_type().value + "@" + p.device().str().getString(), k -> new ArrayList<>()).add(p);
            for (List<Tensor> bucket : buckets.values()) reduceBucket(g, bucket);
        }
    }

    private static void reduceBucket(DistGroup g, List<Tensor> ps) {
        int n = ps.size();
        TensorVector parts = new TensorVector();
        double[] flags = new double[n];
        for (int i = 0; i < n; i++) {
            Tensor p = ps.get(i), gr = p.grad();
            flags[i] = gr.defined() ? 1 : 0;
            parts.push_back(gr.defined() ? gr.reshape(-1) : zeros_like(p).reshape(-1));
        }
        Tensor first = ps.get(0);
        parts.push_back(Tensor.create(flags).to(first.device(), first.scalar_type()));
        Tensor flat = cat(parts); // a fresh contiguous buffer
        g.allReduceSum(flat);
        flat.div_(new Scalar((double) g.world()));
        long off = 0, total = flat.numel() - n;
        for (int i = 0; i < n; i++) {
            Tensor p = ps.get(i), gr = p.grad();
            long k = p.numel();
            Tensor slice = flat.narrow(0, off, k).view_as(p);
            off += k;
            if (gr.defined()) {
                gr.copy_(slice);
            } else if (flat.select(0, total + i).item_double() > 0) {
                p.mutable_grad().put(slice.clone()); // some rank had a gradient: take the mean (zeros elsewhere)
            }
        }
    }
}
