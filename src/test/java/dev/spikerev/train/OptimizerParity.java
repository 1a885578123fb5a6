package dev.spikerev.train;

import org.bytedeco.pytorch.Tensor;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the same optimizer steps in Java and Python and compares parameters, grads and state. */
final class OptimizerParity {
    private OptimizerParity() {}

    /**
     * @param pyBuild Python statements defining {@code opt} over {@code params} (may use revcol_groups()/timm_groups())
     * @return the largest difference seen
     */
    static double run(String label, OptimCase c, Optimizer opt, String pyBuild, int steps, double tol) {
        String script = TimmLambPy.SOURCE + "\n" + OptimCase.PY_SETUP + "\n" + pyBuild + "\n"
                + "for s in range(" + steps + "):\n    set_grads(s)\n    opt.step()\n"
                + "out_params('p.')\nout_state(opt, 's.')\n";
        PyBridge.Result py = PyBridge.run(script, c.inputs());
        for (int s = 0; s < steps; s++) {
            c.setGrads(opt, s);
            opt.step();
        }
        return compare(label, c, opt, py, "", tol);
    }

    static double compare(String label, OptimCase c, Optimizer opt, PyBridge.Result py, String pyPrefix, double tol) {
        double maxP = 0, maxG = 0, maxS = 0;
        for (Map.Entry<String, Tensor> e : c.params.entrySet()) {
            maxP = Math.max(maxP, check(label + " param " + e.getKey(), e.getValue(), py.t(pyPrefix + "p." + e.getKey()), tol));
            Tensor g = e.getValue().grad();
            boolean pyHas = py.tensors.containsKey(pyPrefix + "p.grad." + e.getKey());
            assertEquals(pyHas, g.defined(), label + " grad presence of " + e.getKey());
            if (pyHas) maxG = Math.max(maxG, check(label + " grad " + e.getKey(), g, py.t(pyPrefix + "p.grad." + e.getKey()), tol));
        }
        List<Tensor> flat = opt.params();
        int stateTensors = 0;
        for (int i = 0; i < flat.size(); i++) {
            for (Map.Entry<String, Object> e : opt.state(i).entrySet()) {
                if (!(e.getValue() instanceof Tensor t)) continue;
                String key = pyPrefix + "s." + i + "." + e.getKey();
                assertTrue(py.tensors.containsKey(key), label + ": Java has state " + i + "." + e.getKey() + ", Python does not");
                maxS = Math.max(maxS, check(label + " state " + i + "." + e.getKey(), t, py.t(key), tol));
                stateTensors++;
            }
        }
        long pyStateTensors = py.tensors.keySet().stream().filter(k -> k.startsWith(pyPrefix + "s.") && !k.contains("group")).count();
        assertEquals(pyStateTensors, stateTensors, label + ": number of state tensors");
        for (int gi = 0; gi < opt.paramGroups().size(); gi++) {
            String key = pyPrefix + "s.group" + gi + ".step";
            Object st = opt.paramGroups().get(gi).options().get("step");
            if (py.tensors.containsKey(key)) {
                assertTrue(st instanceof Tensor, label + ": group " + gi + " has no step tensor");
                maxS = Math.max(maxS, check(label + " group step " + gi, (Tensor) st, py.t(key), 0));
            } else {
                assertFalse(st instanceof Tensor, label + ": unexpected group step");
            }
        }
        System.out.printf("[parity] %-28s max|dparam| %.3g  max|dgrad| %.3g  max|dstate| %.3g%n", label, maxP, maxG, maxS);
        return Math.max(maxP, Math.max(maxG, maxS));
    }

    static double check(String what, Tensor t, double[] expected, double tol) {
        double d = PyBridge.maxAbsDiff(t, expected);
        assertTrue(d <= tol, what + ": max abs diff " + d + " > " + tol);
        return d;
    }
}
