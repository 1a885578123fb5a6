package dev.spikerev.jmh;

import static org.bytedeco.pytorch.global.torch.grad;
import static org.bytedeco.pytorch.global.torch.randn;

import dev.spikerev.autograd.Surrogate;
import dev.spikerev.autograd.SurrogateSpike;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Surrogate spike op ({@link SurrogateSpike#apply(Tensor, Surrogate, SurrogateSpike.Mode)}) forward + backward on a
 * float32 {@code [T*B, C, H, W]} membrane potential: Heaviside forward, then {@code torch::autograd::grad} of the
 * spikes w.r.t. the input with a fixed upstream gradient. One invocation = one forward + one backward, inside its own
 * {@link PointerScope} (so every tensor of the step, the HOOK-mode hook included, is freed when it ends).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g", "-XX:+UseSerialGC"})
public class SurrogateSpikeBench {

    /** SAVED_GRAD (default mode), PRIMITIVE or HOOK; see {@link SurrogateSpike.Mode}. */
    @Param({"SAVED_GRAD", "PRIMITIVE", "HOOK"})
    public String mode;

    /** A {@link Surrogate#parse(String)} spec: sigmoid, atan, rectangular, triangle (optionally with parameters). */
    @Param({"sigmoid"})
    public String surrogate;

    @Param({"4"}) public int T;
    @Param({"8"}) public int B;
    @Param({"64"}) public int C;
    @Param({"32"}) public int HW;

    /** libtorch intra-op threads; 0 = libtorch's default (or SPIKEREV_THREADS). */
    @Param({"0"}) public int threads;

    private Surrogate sg;
    private SurrogateSpike.Mode m;
    private Tensor x;
    private Tensor gout;

    @Setup(Level.Trial)
    public void setUp() {
        JmhSupport.init(threads);
        sg = Surrogate.parse(surrogate);
        m = SurrogateSpike.Mode.valueOf(mode);
        x = randn((long) T * B, C, HW, HW);
        gout = randn((long) T * B, C, HW, HW);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        int pending = SurrogateSpike.pendingHooks();   // HOOK mode: every hook must have fired in backward
        SurrogateSpike.discardPendingHooks();
        x.close();
        gout.close();
        if (pending != 0) throw new IllegalStateException(pending + " spike hooks did not fire in backward");
    }

    @Benchmark
    public void forwardBackward(Blackhole bh) {
        try (PointerScope scope = new PointerScope()) {
            Tensor xi = x.detach();          // fresh leaf on the same storage: no .grad accumulates across calls
            xi.requires_grad_(true);
            Tensor s = SurrogateSpike.apply(xi, sg, m);
            TensorVector dx = grad(new TensorVector(s), new TensorVector(xi), new TensorVector(gout),
                    new BoolOptional(false), false, false);
            bh.consume(dx);
        }
    }
}
