package dev.spikerev.train;

import dev.spikerev.tensor.Natives;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

class AdamSgdTest {
    @BeforeAll
    static void natives() {
        Natives.init();
    }

    /** RevSFormer recipe: AdamW over timm param_groups_weight_decay (no-decay group first), wd 0.06, lr 5e-4. */
    @Test
    void adamwTimmGroupsMatchesTorch() {
        OptimCase c = new OptimCase(21, 3);
        try (AdamW opt = new AdamW(ParamGroups.timmWeightDecay(c.params, 0.06, List.of()),
                Map.of("lr", 5e-4, "betas", List.of(0.9, 0.999), "eps", 1e-8))) {
            OptimizerParity.run("adamw timm groups", c, opt,
                    "opt = torch.optim.AdamW(timm_groups(0.06), lr=5e-4, betas=(0.9, 0.999), eps=1e-8)", 3, 1e-6);
        }
    }

    @Test
    void adamwAmsgradMaximizeMatchesTorch() {
        OptimCase c = new OptimCase(22, 4);
        try (AdamW opt = new AdamW(ParamGroups.all(c.params), Map.of("lr", 1e-2, "amsgrad", true, "weight_decay", 0.1, "maximize", true))) {
            OptimizerParity.run("adamw amsgrad+maximize", c, opt,
                    "opt = torch.optim.AdamW(list(params.values()), lr=1e-2, amsgrad=True, weight_decay=0.1, maximize=True)", 4, 1e-6);
        }
    }

    /** MPIS alternative: Adam with coupled (L2) weight decay. */
    @Test
    void adamCoupledDecayMatchesTorch() {
        OptimCase c = new OptimCase(23, 3);
        try (Adam opt = new Adam(ParamGroups.all(c.params), Map.of("lr", 1e-2, "weight_decay", 5e-4))) {
            OptimizerParity.run("adam L2", c, opt,
                    "opt = torch.optim.Adam(list(params.values()), lr=1e-2, weight_decay=5e-4)", 3, 1e-6);
        }
    }

    /** RevSResNet / MPIS recipe: SGD momentum 0.9, weight decay, all params (those without grad are skipped). */
    @Test
    void sgdMomentumMatchesTorch() {
        OptimCase c = new OptimCase(31, 3);
        try (SGD opt = new SGD(ParamGroups.all(c.params), Map.of("lr", 0.1, "momentum", 0.9, "dampening", 0.0, "weight_decay", 1e-4, "nesterov", false))) {
            OptimizerParity.run("sgd momentum", c, opt,
                    "opt = torch.optim.SGD(list(params.values()), lr=0.1, momentum=0.9, dampening=0.0, weight_decay=1e-4, nesterov=False)", 3, 1e-6);
        }
    }

    /** T-RevSNN's 'sgd' branch: nesterov, two groups. */
    @Test
    void sgdNesterovGroupsMatchesTorch() {
        OptimCase c = new OptimCase(32, 3);
        try (SGD opt = new SGD(ParamGroups.timmWeightDecay(c.params, 0.05, List.of()), Map.of("lr", 0.05, "momentum", 0.9, "nesterov", true))) {
            OptimizerParity.run("sgd nesterov", c, opt,
                    "opt = torch.optim.SGD(timm_groups(0.05), lr=0.05, momentum=0.9, nesterov=True)", 3, 1e-6);
        }
    }

    @Test
    void sgdDampeningMaximizeAndPlainMatchTorch() {
        OptimCase c = new OptimCase(33, 3);
        try (SGD opt = new SGD(ParamGroups.all(c.params), Map.of("lr", 0.05, "momentum", 0.5, "dampening", 0.3, "maximize", true))) {
            OptimizerParity.run("sgd dampening+maximize", c, opt,
                    "opt = torch.optim.SGD(list(params.values()), lr=0.05, momentum=0.5, dampening=0.3, maximize=True)", 3, 1e-6);
        }
        OptimCase d = new OptimCase(34, 2);
        try (SGD opt = new SGD(ParamGroups.all(d.params), Map.of("lr", 0.1))) {
            OptimizerParity.run("sgd plain", d, opt, "opt = torch.optim.SGD(list(params.values()), lr=0.1)", 2, 1e-6);
        }
    }
}
