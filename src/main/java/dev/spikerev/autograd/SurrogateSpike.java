package dev.spikerev.autograd;

import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;

/**
 * The spike nonlinearity: Heaviside forward ({@code x >= 0 -> 1}, same dtype as {@code x}), surrogate backward
 * ({@code dL/dx = dL/ds · g'(x)} with {@code g' = }{@link Surrogate#grad(Tensor)}).
 *
 * <p>Three implementations, all giving the exact Heaviside forward (see {@link Mode}):
 * <ul>
 * <li>{@link Mode#SAVED_GRAD} (default): {@code h + (x − x.detach())·g'(x)}, with {@code g'(x)} computed in forward
 *     without graph. Autograd saves exactly one activation-sized tensor ({@code g'(x)}); the backward is one multiply
 *     and bitwise equals the analytic formula. No Java callbacks, so it is safe on CUDA engine threads.</li>
 * <li>{@link Mode#PRIMITIVE}: {@code h + (p − p.detach())}, {@code p = g(x)} the surrogate's primitive (SpikingJelly's
 *     {@code check_manual_grad} identity). Autograd differentiates the primitive, which saves what its ops save:
 *     one tensor for sigmoid (its output), atan (its input) and rectangular (hardtanh's input), three for triangle.
 *     The gradient equals the analytic one up to float rounding (~1 ulp).</li>
 * <li>{@link Mode#HOOK}: {@code (x − x.detach()) + h} with a Java tensor hook that returns {@code g·g'(x)}, computed in
 *     backward from {@code x.detach()}. Autograd saves nothing; the hook keeps {@code x}'s storage alive (free when
 *     {@code x} is alive anyway, e.g. a neuron's membrane potential that autograd saves elsewhere). Costs a JNI upcall
 *     per spike op in backward. Pending hooks are held strongly by this class until they fire (a hook collected
 *     before it fires would crash backward); for a graph that is dropped without backward call
 *     {@link #discardPendingHooks()}.</li>
 * </ul>
 * Measured (SpikeMemoryTest, float32): tensors of x's size kept alive after the forward, output included:
 * SAVED_GRAD 2 for every surrogate; PRIMITIVE 2 (sigmoid, atan, rectangular) or 3 (triangle); HOOK 1.
 * Without grad mode, or when {@code x} does not require grad, every mode returns the plain Heaviside tensor.
 * All intermediates are closed eagerly, so inside a step-wide {@code PointerScope} nothing else stays alive.
 */
public final class SurrogateSpike {
    private SurrogateSpike() {}

    /** How the surrogate backward is attached; see the class comment for the memory/time trade-off. */
    public enum Mode { SAVED_GRAD, PRIMITIVE, HOOK }

    private static final PendingHooks<SpikeHook> PENDING = new PendingHooks<>(SpikeHook::release);

    /** Heaviside {@code x >= 0 -> 1.0 else 0.0}, same dtype as {@code x}, no graph. */
    public static Tensor heaviside(Tensor x) {
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor b = x.ge(new Scalar(0.0));
            Tensor h = b.to(x.scalar_type());
            b.close();
            return h;
        }
    }

    /** Spike with the default {@link Mode#SAVED_GRAD}. */
    public static Tensor apply(Tensor x, Surrogate sg) {
        return apply(x, sg, Mode.SAVED_GRAD);
    }

    /** Spike {@code s = H(x)} whose backward is {@code dL/ds · sg.grad(x)}. */
    public static Tensor apply(Tensor x, Surrogate sg, Mode mode) {
        Tensor h = heaviside(x);
        if (!GradMode.is_enabled() || !x.requires_grad()) return h;
        switch (mode) {
            case SAVED_GRAD: {
                Tensor g;
                try (NoGradGuard ng = new NoGradGuard()) {
                    Tensor xd = x.detach();
                    g = sg.grad(xd);
                    xd.close();
                }
                Tensor out = StraightThrough.apply(x, h, g);
                g.close(); h.close();
                return out;
            }
            case PRIMITIVE: {
                Tensor p = sg.primitive(x);
                Tensor pd = p.detach();
                Tensor delta = p.sub(pd);
                Tensor out = h.add(delta);
                p.close(); pd.close(); delta.close(); h.close();
                return out;
            }
            case HOOK: {
                Tensor xd = x.detach();
                Tensor carrier = x.sub(xd);
                Tensor out = carrier.add(h);
                carrier.close(); h.close();
                SpikeHook hook = new SpikeHook(xd, sg);
                PENDING.add(hook);
                out.register_hook(hook);
                return out;
            }
            default: throw new IllegalArgumentException("unknown mode " + mode);
        }
    }

    /** Number of {@link Mode#HOOK} hooks registered whose backward has not run yet. */
    public static int pendingHooks() { return PENDING.size(); }

    /**
     * Forgets every pending {@link Mode#HOOK} hook and frees the membrane potentials they hold. Only call this when
     * no graph that contains them will be backpropagated any more.
     */
    public static void discardPendingHooks() { PENDING.discardAll(); }

    private static final class SpikeHook extends TensorTensorHook {
        private Tensor x;
        private final Surrogate sg;

        SpikeHook(Tensor x, Surrogate sg) { this.x = x; this.sg = sg; }

        @Override public TensorBase call(TensorBase grad) {
            Tensor g = new Tensor(grad);
            Tensor sgx = sg.grad(x);
            Tensor r = g.mul(sgx);
            sgx.close(); g.close();
            release();
            PENDING.remove(this);
            return Hooks.handBack(grad, r);
        }

        void release() {
            if (x != null) { x.close(); x = null; }
        }
    }
}
