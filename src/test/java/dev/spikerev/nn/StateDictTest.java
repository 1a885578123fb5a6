package dev.spikerev.nn;

import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.spikerev.tensor.Natives;
import dev.spikerev.testutil.Python;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class StateDictTest {

    @BeforeAll
    static void init() {
        Natives.setThreads(1);
    }

    static final class Inner extends SpikeModule {
        final Tensor w;
        Inner() { w = register_parameter("w", randn(2, 2)); }
    }

    static final class Block extends SpikeModule {
        final LinearImpl lin;
        final Tensor alpha, mask;
        final Inner inner;
        Block() {
            lin = register_module("lin", new LinearImpl(4, 4));   // child first: still listed after own params
            alpha = register_parameter("alpha", ones(4));
            mask = register_buffer("mask", zeros(4));
            inner = register_module("inner", new Inner());
        }
    }

    static final class Net extends SpikeModule {
        final Tensor scale, step, tied;
        final Conv2dImpl conv;
        final BatchNorm2dImpl bn;
        final SpikeList<Block> layers;
        final LinearImpl fc;
        Net() {
            scale = register_parameter("scale", ones(1));
            Conv2dOptions co = new Conv2dOptions(3, 4, new LongPointer(3, 3));
            co.bias().put(false);
            conv = register_module("conv", new Conv2dImpl(co));
            bn = register_module("bn", new BatchNorm2dImpl(new BatchNormOptions(4)));
            step = register_buffer("step", zeros(new long[] {1}, new TensorOptions(ScalarType.Long)));
            layers = register_module("layers", new SpikeList<>());
            layers.add(new Block());
            layers.add(new Block());
            fc = register_module("fc", new LinearImpl(4, 2));
            tied = register_parameter("tied", fc.weight()); // weight tying: same tensor under two names
        }
    }

    static final String PY_NET = String.join("\n",
            "import torch, torch.nn as nn",
            "class Inner(nn.Module):",
            "    def __init__(self):",
            "        super().__init__(); self.w = nn.Parameter(torch.randn(2, 2))",
            "class Block(nn.Module):",
            "    def __init__(self):",
            "        super().__init__()",
            "        self.lin = nn.Linear(4, 4)",
            "        self.alpha = nn.Parameter(torch.ones(4))",
            "        self.register_buffer('mask', torch.zeros(4))",
            "        self.inner = Inner()",
            "class Net(nn.Module):",
            "    def __init__(self):",
            "        super().__init__()",
            "        self.scale = nn.Parameter(torch.ones(1))",
            "        self.conv = nn.Conv2d(3, 4, 3, bias=False)",
            "        self.bn = nn.BatchNorm2d(4)",
            "        self.register_buffer('step', torch.zeros(1, dtype=torch.long))",
            "        self.layers = nn.ModuleList([Block(), Block()])",
            "        self.fc = nn.Linear(4, 2)",
            "        self.tied = self.fc.weight",
            "for k, v in Net().state_dict().items():",
            "    print(k, list(v.shape), str(v.dtype).replace('torch.', ''))",
            "");

    @Test
    void keysOrderShapesAndDtypesMatchPython() {
        String py = Python.run(PY_NET);
        List<String> expect = new ArrayList<>(Arrays.asList(py.strip().split("\\R")));
        try (PointerScope scope = new PointerScope()) {
            Net net = new Net();
            List<String> actual = new ArrayList<>();
            for (Map.Entry<String, Tensor> e : net.stateDict().entrySet())
                actual.add(e.getKey() + " " + Arrays.toString(StateDictIO.shape(e.getValue())).replace(" ", "")
                        .replace(",", ", ") + " " + StateDictIO.dtypeName(e.getValue()));
            System.out.println("python state_dict:\n  " + String.join("\n  ", expect));
            assertEquals(expect, actual);
            assertEquals(net.stateDictKeys(), actual.stream().map(s -> s.split(" ")[0]).toList());
            // the alias shares storage with fc.weight
            LinkedHashMap<String, Tensor> sd = net.stateDict();
            assertEquals(sd.get("tied").data_ptr().address(), sd.get("fc.weight").data_ptr().address());
            assertFalse(sd.get("fc.weight").requires_grad(), "state_dict values are detached");
        }
    }

    @Test
    void roundTripLoadCopiesEverythingIncludingBuffers() {
        try (PointerScope scope = new PointerScope()) {
            manual_seed(1);
            Net a = new Net();
            try (NoGradGuard ng = new NoGradGuard()) {
                a.bn.forward(randn(2, 4, 3, 3)); // moves running stats, num_batches_tracked = 1
                a.step.fill_(new Scalar(7));
            }
            a.bn.train(true);
            a.bn.forward(randn(2, 4, 3, 3));
            manual_seed(2);
            Net b = new Net();
            StateDictIO.LoadResult r = b.loadStateDict(a.stateDict(), true);
            assertTrue(r.missingKeys().isEmpty() && r.unexpectedKeys().isEmpty());
            LinkedHashMap<String, Tensor> sa = a.stateDict(), sb = b.stateDict();
            for (String k : sa.keySet()) assertTrue(sa.get(k).equal(sb.get(k)), k);
            assertEquals(2, b.stateDict().get("bn.num_batches_tracked").item_long());
            assertEquals(7, b.step.item_long());
            assertTrue(b.fc.weight().requires_grad(), "parameters keep requires_grad after load");
        }
    }

    @Test
    void strictLoadListsEveryProblemInOneException() {
        try (PointerScope scope = new PointerScope()) {
            Net net = new Net();
            Tensor before = net.conv.weight().clone();
            LinkedHashMap<String, Tensor> sd = net.stateDict();
            sd.remove("fc.bias");
            sd.remove("layers.1.mask");
            sd.put("extra.weight", ones(3));
            sd.put("module.conv.weight", ones(3));
            sd.put("conv.weight", ones(4, 3, 5, 5));
            sd.put("bn.num_batches_tracked", zeros(new long[] {}, new TensorOptions(ScalarType.Float)));
            sd.put("layers.0.alpha", ones(4).to(ScalarType.Double));
            StateDictException e = assertThrows(StateDictException.class, () -> net.loadStateDict(sd, true));
            System.out.println(e.getMessage());
            assertEquals(List.of("layers.1.mask", "fc.bias"), e.missingKeys());
            assertEquals(List.of("extra.weight", "module.conv.weight"), e.unexpectedKeys());
            assertEquals(3, e.mismatches().size(), e.mismatches().toString());
            for (String s : List.of("\"fc.bias\"", "\"layers.1.mask\"", "\"extra.weight\"", "\"module.conv.weight\"",
                    "conv.weight: shape [4, 3, 5, 5] in state_dict, [4, 3, 3, 3] in model",
                    "bn.num_batches_tracked: dtype float32 in state_dict, int64 in model",
                    "layers.0.alpha: dtype float64 in state_dict, float32 in model", "Hint:"))
                assertTrue(e.getMessage().contains(s), "message lacks " + s);
            assertTrue(net.conv.weight().equal(before), "a failed load must not change the module");
            assertInstanceOf(IllegalArgumentException.class, e);
        }
    }

    @Test
    void nonStrictLoadSkipsMissingAndUnexpectedButNotMismatches() {
        try (PointerScope scope = new PointerScope()) {
            Net net = new Net();
            LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>();
            sd.put("fc.bias", full(new long[] {2}, new Scalar(3.0)));
            sd.put("layers.1.inner.w", zeros(2, 2));
            sd.put("head.weight", ones(1));
            StateDictIO.LoadResult r = net.loadStateDict(sd, false);
            assertEquals(List.of("head.weight"), r.unexpectedKeys());
            assertEquals(net.stateDictKeys().size() - 2, r.missingKeys().size());
            assertEquals(3.0, net.fc.bias().get(1).item_double());
            assertEquals(0.0, net.layers.get(1).inner.w.abs().sum().item_double());

            sd.put("fc.weight", ones(5, 5));
            StateDictException e = assertThrows(StateDictException.class, () -> net.loadStateDict(sd, false));
            assertEquals(List.of("fc.weight: shape [5, 5] in state_dict, [2, 4] in model"), e.mismatches());
            assertTrue(e.missingKeys().isEmpty() && e.unexpectedKeys().isEmpty());
        }
    }

    @Test
    void worksOnPlainModulesAndSurvivesGc() {
        try (PointerScope scope = new PointerScope()) {
            Net net = new Net();
            System.gc();
            net.zero_grad(true); // the SpikeList and blocks are still reachable: no NPE from virtual calls
            List<String> keys = StateDictIO.keys(net.bn);
            assertEquals(List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"), keys);
        }
    }
}
