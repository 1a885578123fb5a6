package dev.spikerev.train;

import dev.spikerev.tensor.Natives;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Native-memory hygiene: long loops keep Pointer.totalCount() flat; state survives the caller's per-step scope. */
class OptimizerMemoryTest {
    @BeforeAll
    static void natives() {
        Natives.init();
    }

    @Test
    void twoHundredStepsKeepPointerCountFlat() {
        List<Function<OptimCase, Optimizer>> makers = List.of(
                c -> new Lamb(ParamGroups.revcolWeightDecay(c.params, Set.of(), Set.of()), Map.of("lr", 2e-3, "trust_clip", true)),
                c -> new AdamW(ParamGroups.timmWeightDecay(c.params, 0.05, List.of()), Map.of("lr", 1e-3, "amsgrad", true)),
                c -> new SGD(ParamGroups.all(c.params), Map.of("lr", 0.01, "momentum", 0.9, "nesterov", true)));
        for (Function<OptimCase, Optimizer> make : makers) {
            OptimCase c = new OptimCase(61, 3);
            Optimizer opt = make.apply(c);
            ModelEma ema = new ModelEma(c.params, 0.99, ModelEma.Mode.FAITHFUL);
            LrSchedule sched = LrSchedule.revcolCosine(1e-3, 1e-5, 1e-6, 5, 50);
            long after1 = -1;
            System.gc();
            Pointer.deallocateReferences(); // garbage of earlier tests in this JVM must not be freed mid-measurement
            for (int step = 0; step < 200; step++) {
                // the trainer's per-step scope (doc 8b): state created lazily inside it must survive
                try (PointerScope scope = new PointerScope()) {
                    sched.apply(opt, step / 4.0);
                    c.setGrads(opt, step % 3);
                    GradClip.adaptiveClipGrad(opt.params(), 0.02, 1e-3, 2.0);
                    GradClip.clipGradNorm(opt.params(), 5.0);
                    opt.step();
                    ema.update(c.params);
                    Tensor loss = Losses.labelSmoothingCrossEntropy(c.params.get("fc.weight").detach(),
                            Tensor.create(new long[] {0, 1, 2, 3, 0}, 5), 0.1);
                    loss.item_double();
                }
                if (step == 0) after1 = Pointer.totalCount();
            }
            long after200 = Pointer.totalCount();
            String name = opt.getClass().getSimpleName();
            System.out.printf("[memory] %-6s Pointer.totalCount after step 1: %d, after step 200: %d%n", name, after1, after200);
            // a per-step leak grows the count by >= 199; a GC freeing other tests' garbage can only lower it
            assertTrue(after200 <= after1 + 10, name + ": native handles leak per step: " + after1 + " -> " + after200);
            // state is still valid (not freed by the per-step scopes)
            for (Map.Entry<String, Tensor> e : c.params.entrySet()) assertFalse(Double.isNaN(e.getValue().sum().item_double()));
            opt.stateDict();
            opt.close();
            ema.close();
            assertTrue(Pointer.totalCount() < after200, name + ": close() released nothing");
        }
    }

    @Test
    void zeroGradSemantics() {
        OptimCase c = new OptimCase(62, 1);
        try (SGD opt = new SGD(ParamGroups.all(c.params), Map.of("lr", 0.1))) {
            c.setGrads(opt, 0);
            assertTrue(c.params.get("fc.weight").grad().defined());
            opt.zeroGrad(false);
            assertTrue(c.params.get("fc.weight").grad().defined());
            assertEquals(0.0, c.params.get("fc.weight").grad().abs().sum().item_double());
            opt.zeroGrad();
            assertFalse(c.params.get("fc.weight").grad().defined(), "zero_grad(set_to_none=True) leaves grad None");
            assertFalse(c.params.get("nograd.weight").grad().defined());
        }
    }

    @Test
    void rejectsUnknownOptionsAndDuplicateParams() {
        OptimCase c = new OptimCase(63, 1);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Lamb(ParamGroups.all(c.params), Map.of("learning_rate", 1e-3)));
        Tensor p = c.params.get("fc.weight");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new SGD(List.of(ParamGroup.of(List.of(p)), ParamGroup.of(List.of(p))), Map.of()));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new SGD(ParamGroups.all(c.params), Map.of("nesterov", true)));
    }
}
