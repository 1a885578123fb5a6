package dev.spikerev.train.distributed;

import java.time.Duration;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * A joined process group: this rank, the world size and the c10d backend, with collectives that wait at most
 * {@link #timeout()} (a dead or stuck peer makes the call throw instead of hanging). Create one per process with
 * {@link #join}; close it at the end of the run.
 */
public final class DistGroup implements AutoCloseable {
    private final int rank;
    private final int world;
    private final DistBackend kind;
    private final Duration timeout;
    private final Store store;
    private final Backend backend;
    private final long failAtStep;
    private final int failRank;
    /** Where the host-number collectives' tensors live: null (CPU) for gloo, this rank's GPU for NCCL. */
    private final org.bytedeco.pytorch.Device commDevice;

    private DistGroup(DistOptions o, DistBackend kind, Store store, Backend backend, org.bytedeco.pytorch.Device commDevice) {
        this.commDevice = commDevice;
        this.rank = o.rank();
        this.world = o.world();
        this.kind = kind;
        this.timeout = o.timeout();
        this.store = store;
        this.backend = backend;
        this.failAtStep = o.failAtStep();
        this.failRank = o.failRank();
    }

    /**
     * Meets the other ranks through the rendezvous store and builds the backend for {@code device} (this rank's
     * device: NCCL collectives need CUDA tensors, so {@link #sum}/{@link #checkSame} then run on it).
     */
    public static DistGroup join(DistOptions o, String device) {
        DistBackend kind = DistBackend.forDevice(device);
        org.bytedeco.pytorch.Device commDevice = kind == DistBackend.NCCL
                ? dev.spikerev.tensor.Devices.parse(device, "train.device").device() : null;
        Store store = o.rendezvous().open(o.rank(), o.world(), o.timeout());
        store.retainReference();
        Backend backend = ProcessGroups.create(kind, store, o.rank(), o.world(), o.timeout(), o.rendezvous().loopback());
        backend.retainReference();
        return new DistGroup(o, kind, store, backend, commDevice);
    }

    public int rank() { return rank; }

    public int world() { return world; }

    /** Rank 0: the one that writes checkpoints, metrics and plots. */
    public boolean isMain() { return rank == 0; }

    public DistBackend backend() { return kind; }

    public Duration timeout() { return timeout; }

    /** In-place sum over all ranks. */
    public void allReduceSum(Tensor t) {
        try (PointerScope s = new PointerScope()) {
            await(backend.allreduce(new TensorVector(t)), "allreduce");
        }
    }

    /** In-place maximum over all ranks. */
    public void allReduceMax(Tensor t) {
        try (PointerScope s = new PointerScope()) {
            AllreduceOptions o = new AllreduceOptions();
            o.reduceOp(new ReduceOp(ReduceOp.RedOpType.MAX));
            await(backend.allreduce(new TensorVector(t), o), "allreduce(max)");
        }
    }

    /** Overwrites {@code t} with rank 0's value. */
    public void broadcastFromMain(Tensor t) {
        try (PointerScope s = new PointerScope()) {
            BroadcastOptions o = new BroadcastOptions();
            o.rootRank(0);
            await(backend.broadcast(new TensorVector(t), o), "broadcast");
        }
    }

    /** Waits until every rank got here. */
    public void barrier() {
        try (PointerScope s = new PointerScope()) {
            await(backend.barrier(), "barrier");
        }
    }

    /** Element-wise sums of {@code values} over all ranks (float64). */
    public double[] sum(double... values) {
        try (PointerScope s = new PointerScope()) {
            Tensor t = tensor(values);
            allReduceSum(t);
            return toDoubles(t, values.length);
        }
    }

    /** Mean of a scalar over all ranks. */
    public double mean(double v) { return sum(v)[0] / world; }

    /**
     * Fails with a message naming {@code what} when the ranks disagree on {@code value} (e.g. the step every rank
     * resumed from).
     */
    public void checkSame(String what, long value) {
        try (PointerScope s = new PointerScope()) {
            Tensor t = tensor((double) value, (double) -value);
            allReduceMax(t);
            double[] mm = toDoubles(t, 2);
            if (mm[0] != value || -mm[1] != value)
                throw new IllegalStateException("ranks disagree on " + what + ": this rank (" + rank + ") has " + value
                        + ", the others range over [" + (long) -mm[1] + ", " + (long) mm[0] + "]; hint: every rank must read the same run folder");
        }
    }

    /** Test hook ({@code --fail-at-step}): throws on the configured rank before global step {@code step}. */
    public void failpoint(long step) {
        if (step == failAtStep && rank == failRank)
            throw new IllegalStateException("injected failure at step " + step + " on rank " + rank + " (--fail-at-step)");
    }

    private void await(Work w, String op) {
        boolean done;
        try {
            done = w._wait(new Milliseconds(timeout.toMillis()));
        } catch (RuntimeException e) {
            throw new IllegalStateException(kind.lowerName() + " " + op + " failed on rank " + rank + " of " + world
                    + " (a peer probably died): " + firstLine(e.getMessage()), e);
        }
        if (!done)
            throw new IllegalStateException(kind.lowerName() + " " + op + " timed out after " + timeout.toSeconds() + " s on rank "
                    + rank + " of " + world + " (a peer is stuck or gone; see --dist-timeout)");
    }

    private Tensor tensor(double... v) {
        Tensor t = Tensor.create(v).clone(); // own the memory (create may wrap the Java array's copy)
        return commDevice == null ? t : t.to(commDevice, t.scalar_type());
    }

    private static double[] toDoubles(Tensor t, int n) {
        Tensor h = t.cpu();
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = h.select(0, i).item_double();
        return out;
    }

    static String firstLine(String m) {
        if (m == null) return "";
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Releases the backend and the store (no collective runs after this). */
    @Override
    public void close() {
        backend.releaseReference();
        store.releaseReference();
    }
}
