package dev.spikerev.bench;

import dev.spikerev.models.mpis.MpisConfig;
import dev.spikerev.models.mpis.MpisModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import static org.bytedeco.pytorch.global.torch.*;

/**
 * {@code bench speed --family mpis}: an MPIS preset ({@link MemoryBench#mpisPreset}) with the reference recipe:
 * {@code CrossEntropyLoss}, SGD (momentum 0.9, wd 5e-4; lr 0.01 static / 0.1 neuro, the scripts' defaults) over all
 * unique parameters, backward through the one-step gradient (what the reference computes, every simulation step
 * run) or the implicit (Broyden adjoint) gradient. Input: static N(0,1) images {@code [B,3,8h,8w]}; neuro
 * Bernoulli(0.2) events {@code [B,2,4h,4w,T]}.
 */
public final class MpisSpeed {
    private MpisSpeed() {}

    /**
     * The preset at {@code t} time steps (null: the preset's own T) with the gradient mode {@code gradient};
     * {@code allSteps}: also run the simulation steps the first-step read-out never reads, as the reference does.
     */
    public static MpisConfig config(String model, Integer t, String gradient, boolean allSteps) {
        if (!MemoryBench.MPIS_MODELS.contains(model))
            throw new IllegalArgumentException("bench speed: unknown mpis model '" + model + "' (available: "
                    + String.join(", ", MemoryBench.MPIS_MODELS) + ")");
        MpisConfig.Gradient g = switch (gradient) {
            case "one-step" -> MpisConfig.Gradient.ONE_STEP;
            case "implicit" -> MpisConfig.Gradient.IMPLICIT;
            default -> throw new IllegalArgumentException("--gradient must be one-step or implicit, found '" + gradient + "'");
        };
        if (t != null && t < 1) throw new IllegalArgumentException("--T must be >= 1, found " + t);
        MpisConfig c = MemoryBench.mpisPreset(model);
        if (t != null) c = c.withTimeStep(t);
        return c.withOptions(c.options().withGradient(g).withSimulateAllSteps(allSteps));
    }

    /** The reference constructor arguments ({@code cfg['MODEL']} names, as in fixtures' meta.json) of {@code c}. */
    public static Map<String, Object> constructor(MpisConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean stat = c.kind() == MpisConfig.Kind.STATIC;
        m.put("kind", stat ? "static" : "neuro");
        m.put("c_in", c.cIn());
        m.put("c_hidden", c.cHidden());
        m.put("c_s1", c.cS1());
        m.put("c_s2", c.cS2());
        if (stat) m.put("c_s3", c.cS3());
        m.put("num_classes", c.numClasses());
        m.put("kernel_size_x", c.kernelSizeX());
        m.put("stride_x", c.strideX());
        m.put("padding_x", c.paddingX());
        m.put("pooling_x", c.poolingX());
        m.put("kernel_size_s", c.kernelSizeS());
        m.put("h_hidden", c.hHidden());
        m.put("w_hidden", c.wHidden());
        m.put("dropout", c.dropout());
        m.put("threshold", c.threshold());
        m.put("time_step", c.timeStep());
        m.put("vth", c.vth());
        m.put("leaky", c.leaky());
        m.put("solver", c.solver() == null ? "broy" : c.solver());
        m.put("fusion_channels", c.fusionChannels());
        return m;
    }

    /** The scripts' SGD: lr 0.01 (static_data.py) / 0.1 (neuro_data.py), momentum 0.9, weight decay 5e-4. */
    public static Map<String, Object> optimizer(MpisConfig c) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("name", "SGD");
        o.put("lr", c.kind() == MpisConfig.Kind.STATIC ? 0.01 : 0.1);
        o.put("momentum", 0.9);
        o.put("weight_decay", 5e-4);
        return o;
    }

    /** Builds the model ({@code manual_seed(0)}), a random batch and times it with {@link StepTimer}. */
    public static SpeedCase run(String model, Integer t, String gradient, boolean allSteps, int batch, int steps, int warmup) {
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, found " + batch);
        MpisConfig c = config(model, t, gradient, allSteps);
        manual_seed(0);
        MpisModel m = new MpisModel(c);
        boolean neuro = c.kind() == MpisConfig.Kind.NEURO;
        Tensor x = neuro
                ? rand(new long[]{batch, c.cIn(), c.hHidden() * 4L, c.wHidden() * 4L, c.timeStep()}).lt(new Scalar(0.2)).to(ScalarType.Float)
                : randn(batch, c.cIn(), c.hHidden() * 8L, c.wHidden() * 8L);
        Tensor y = randint(c.numClasses(), new long[]{batch}, new TensorOptions(ScalarType.Long));
        Map<String, Object> opt = optimizer(c);
        StepTimer.Timing timing = StepTimer.run(m, m.optimizer(opt), x, y, steps, warmup);
        return new SpeedCase("mpis", model, batch, c.timeStep(), constructor(c), opt, gradient, timing);
    }

    /** Gradient modes for {@code --gradient}. */
    public static final List<String> GRADIENTS = List.of("one-step", "implicit");
}
