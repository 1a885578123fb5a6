package dev.spikerev.jmh;

import static org.bytedeco.pytorch.global.torch.backward;
import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.randn;

import dev.spikerev.autograd.AdditiveCoupling;
import dev.spikerev.autograd.ReversibleSequence;
import dev.spikerev.autograd.Surrogate;
import dev.spikerev.autograd.SurrogateSpike;
import dev.spikerev.nn.SpikeModule;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
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
 * One additive-coupling block step ({@code y1 = x1 + F(x2)}, {@code y2 = x2 + G(y1)}, F and G = conv3x3(C -> C) +
 * surrogate spike) forward + backward on {@code [N, 2C, H, W]}, two ways:
 * <ul>
 * <li>{@code reversible}: through a {@link ReversibleSequence} (forward without graph, backward rebuilds the inputs
 *     and recomputes F and G locally: one extra F and G forward per step, no activations kept);</li>
 * <li>{@code plain}: the same block and weights through ordinary autograd.</li>
 * </ul>
 * Both accumulate the parameter gradients and the input gradient ({@code backward} with a fixed upstream gradient);
 * the parameter grads are dropped ({@code zero_grad(set_to_none)}) at the start of every invocation. One invocation =
 * one step inside its own {@link PointerScope}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g", "-XX:+UseSerialGC"})
public class ReversibleBlockBench {

    @Param({"reversible", "plain"})
    public String impl;

    /** Channels per stream (the block's input has 2C channels). */
    @Param({"32"}) public int C;
    /** Batch (T*B for a multi-step SNN). */
    @Param({"16"}) public int N;
    @Param({"32"}) public int HW;

    /** libtorch intra-op threads; 0 = libtorch's default (or SPIKEREV_THREADS). */
    @Param({"0"}) public int threads;

    private SpikeModule net;
    private Block block;
    private ReversibleSequence rev;
    private Tensor x;
    private Tensor gout;

    @Setup(Level.Trial)
    public void setUp() {
        JmhSupport.init(threads);
        net = new SpikeModule();
        block = net.register_module("block", new Block(C));
        rev = new ReversibleSequence(List.of(block), 1, ReversibleSequence.StatsPolicy.RESTORE);
        x = randn(N, 2L * C, HW, HW);
        gout = randn(N, 2L * C, HW, HW);
        if (!impl.equals("reversible") && !impl.equals("plain"))
            throw new IllegalArgumentException("impl must be reversible or plain, found " + impl);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        int pending = rev.pendingBackwards();
        rev.discardPending();
        x.close();
        gout.close();
        net.zero_grad(true);
        if (pending != 0) throw new IllegalStateException(pending + " reversible backward hooks did not fire");
    }

    @Benchmark
    public void forwardBackward(Blackhole bh) {
        try (PointerScope scope = new PointerScope()) {
            net.zero_grad(true);
            Tensor xi = x.detach();          // fresh leaf (the "stem output"): its grad is freed with the scope
            xi.requires_grad_(true);
            Tensor z;
            if (impl.equals("reversible")) {
                z = rev.apply(xi);
            } else {
                TensorVector parts = xi.chunk(2, 1);
                Tensor[] y = block.forward(new Tensor(parts.get(0)), new Tensor(parts.get(1)));
                z = cat(new TensorVector(y[0], y[1]), 1);
            }
            backward(new TensorVector(z), new TensorVector(gout), new BoolOptional(false), false, new TensorVector());
            bh.consume(xi.grad());
        }
    }

    /** The coupling block: F, G = conv3x3(C -> C, padding 1) + sigmoid surrogate spike (default SAVED_GRAD mode). */
    static final class Block extends AdditiveCoupling {
        private static final Surrogate SPIKE = Surrogate.sigmoid();
        final Conv2dImpl fConv, gConv;

        Block(int c) {
            fConv = register_module("f_conv", conv(c));   // fields keep the Java objects reachable
            gConv = register_module("g_conv", conv(c));
        }

        private static Conv2dImpl conv(int c) {
            Conv2dOptions o = new Conv2dOptions(c, c, new LongPointer(3, 3));
            o.padding().put(new LongPointer(1, 1));
            return new Conv2dImpl(o);
        }

        @Override protected Tensor f(Tensor x2) { return spike(fConv.forward(x2)); }

        @Override protected Tensor g(Tensor y1) { return spike(gConv.forward(y1)); }

        private static Tensor spike(Tensor t) {
            Tensor s = SurrogateSpike.apply(t, SPIKE);
            t.close();
            return s;
        }
    }
}
