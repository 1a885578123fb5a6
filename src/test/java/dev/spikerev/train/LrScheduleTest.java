package dev.spikerev.train;

import dev.spikerev.tensor.Natives;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every schedule against Python: timm CosineLRScheduler (transcribed), torch schedulers (real), T-RevSNN and MPIS rules. */
class LrScheduleTest {
    @BeforeAll
    static void natives() {
        Natives.init();
    }

    /** timm 1.0.29 timm/scheduler/scheduler.py + cosine_lr.py, transcribed (noise omitted: none of the references use it). */
    static final String TIMM_COSINE_PY = """
            class CosineLRScheduler:
                def __init__(self, optimizer, t_initial, lr_min=0., cycle_mul=1., cycle_decay=1., cycle_limit=1,
                             warmup_t=0, warmup_lr_init=0., warmup_prefix=False, t_in_epochs=True,
                             noise_range_t=None, noise_pct=0.67, noise_std=1.0, noise_seed=42, k_decay=1.0,
                             initialize=True):
                    self.optimizer = optimizer
                    self.param_group_field = 'lr'
                    self._initial_param_group_field = 'initial_lr'
                    for group in optimizer.param_groups:
                        group.setdefault('initial_lr', group['lr'])
                    self.base_values = [group['initial_lr'] for group in optimizer.param_groups]
                    self.metric = None
                    self.t_in_epochs = t_in_epochs
                    self.noise_range_t = noise_range_t
                    self.noise_pct = noise_pct
                    self.noise_type = 'normal'
                    self.noise_std = noise_std
                    self.noise_seed = noise_seed if noise_seed is not None else 42
                    self.update_groups(self.base_values)
                    self.t_initial = t_initial
                    self.lr_min = lr_min
                    self.cycle_mul = cycle_mul
                    self.cycle_decay = cycle_decay
                    self.cycle_limit = cycle_limit
                    self.warmup_t = warmup_t
                    self.warmup_lr_init = warmup_lr_init
                    self.warmup_prefix = warmup_prefix
                    self.k_decay = k_decay
                    if self.warmup_t:
                        self.warmup_steps = [(v - warmup_lr_init) / self.warmup_t for v in self.base_values]
                        self.update_groups(self.warmup_lr_init)
                    else:
                        self.warmup_steps = [1 for _ in self.base_values]
                def state_dict(self):
                    return {key: value for key, value in self.__dict__.items() if key != 'optimizer'}
                def update_groups(self, values):
                    if not isinstance(values, (list, tuple)):
                        values = [values] * len(self.optimizer.param_groups)
                    for param_group, value in zip(self.optimizer.param_groups, values):
                        param_group['lr'] = value
                def step(self, epoch, metric=None):
                    self.metric = metric
                    if self.t_in_epochs:
                        self.update_groups(self._get_lr(epoch))
                def step_update(self, num_updates, metric=None):
                    self.metric = metric
                    if not self.t_in_epochs:
                        self.update_groups(self._get_lr(num_updates))
                def _get_lr(self, t):
                    if t < self.warmup_t:
                        lrs = [self.warmup_lr_init + t * s for s in self.warmup_steps]
                    else:
                        if self.warmup_prefix:
                            t = t - self.warmup_t
                        if self.cycle_mul != 1:
                            i = math.floor(math.log(1 - t / self.t_initial * (1 - self.cycle_mul), self.cycle_mul))
                            t_i = self.cycle_mul ** i * self.t_initial
                            t_curr = t - (1 - self.cycle_mul ** i) / (1 - self.cycle_mul) * self.t_initial
                        else:
                            i = t // self.t_initial
                            t_i = self.t_initial
                            t_curr = t - (self.t_initial * i)
                        gamma = self.cycle_decay ** i
                        lr_max_values = [v * gamma for v in self.base_values]
                        k = self.k_decay
                        if i < self.cycle_limit:
                            lrs = [self.lr_min + 0.5 * (lr_max - self.lr_min) * (1 + math.cos(math.pi * t_curr ** k / t_i ** k))
                                   for lr_max in lr_max_values]
                        else:
                            lrs = [self.lr_min for _ in self.base_values]
                    return lrs
            def sgd(lr, groups=1):
                return torch.optim.SGD([{'params': [torch.zeros(1, requires_grad=True)]} for _ in range(groups)], lr=lr)
            """;

    private static void compareSeries(String label, List<Double> java, PyBridge.Result py, String prefix, double tol) {
        double max = 0;
        for (int i = 0; i < java.size(); i++) {
            double expected = py.f(prefix + i);
            double d = Math.abs(java.get(i) - expected);
            assertTrue(d <= tol, label + " point " + i + ": java " + java.get(i) + " python " + expected);
            max = Math.max(max, d);
        }
        System.out.printf("[lr] %-34s %4d points, max |diff| %.3g%n", label, java.size(), max);
    }

    @Test
    void trevsnnCosineMatchesReference() {
        // small.yaml scaled by 8 GPUs x 512 / 1024: BASE 2e-3*4, WARMUP 1e-5*4, MIN 1e-6*4; 20 warmup of 300 epochs
        LrSchedule s = LrSchedule.revcolCosine(8e-3, 4e-5, 4e-6, 20, 300);
        List<Double> ts = new ArrayList<>(), java = new ArrayList<>();
        int steps = 37;
        for (int epoch : new int[] {0, 1, 7, 19, 20, 21, 100, 150, 299})
            for (int idx = 0; idx < steps; idx += 3) ts.add(idx / (double) steps + epoch);
        StringBuilder py = new StringBuilder(TIMM_COSINE_PY).append("""
                class C: pass
                config = C(); config.TRAIN = C()
                config.TRAIN.BASE_LR, config.TRAIN.WARMUP_LR, config.TRAIN.MIN_LR = 8e-3, 4e-5, 4e-6
                config.TRAIN.WARMUP_EPOCHS, config.TRAIN.EPOCHS = 20, 300
                def step_update(epoch):   # T-RevSNN lr_scheduler.CosLRScheduler.step_update (optimizer part omitted)
                    if epoch < config.TRAIN.WARMUP_EPOCHS:
                        lr = (config.TRAIN.BASE_LR-config.TRAIN.WARMUP_LR) * epoch / config.TRAIN.WARMUP_EPOCHS + config.TRAIN.WARMUP_LR
                    else:
                        lr = config.TRAIN.MIN_LR + (config.TRAIN.BASE_LR - config.TRAIN.MIN_LR) * 0.5 * \\
                            (1. + math.cos(math.pi * (epoch - config.TRAIN.WARMUP_EPOCHS ) / (config.TRAIN.EPOCHS  - config.TRAIN.WARMUP_EPOCHS )))
                    return lr
                """);
        int i = 0;
        for (int epoch : new int[] {0, 1, 7, 19, 20, 21, 100, 150, 299})
            for (int idx = 0; idx < steps; idx += 3) py.append("outf('r").append(i++).append("', step_update(").append(idx).append(" / ").append(steps).append(" + ").append(epoch).append("))\n");
        for (double t : ts) java.add(s.lr(t));
        PyBridge.Result r = PyBridge.run(py.toString(), Map.of());
        compareSeries("t-revsnn CosLRScheduler", java, r, "r", 1e-12);
        assertEquals(4e-5, s.lr(0), 0); // the first logged lr of asserts/small.out (4.0e-5)
    }

    @Test
    void timmCosineMatchesTimm() {
        record Cfg(String label, LrSchedule.TimmCosine java, String py, int n, boolean perUpdate) {}
        List<Cfg> cfgs = List.of(
                new Cfg("timm revsformer cifar", LrSchedule.timmCosine(5e-4, 300).optLrMin(1e-5).optCycleDecay(0.1)
                        .optWarmup(20, 1e-5).build(),
                        "CosineLRScheduler(sgd(5e-4), t_initial=300, lr_min=1e-5, cycle_decay=0.1, warmup_t=20, warmup_lr_init=1e-5)", 311, false),
                new Cfg("timm dvs 96", LrSchedule.timmCosine(1e-3, 96).optLrMin(1e-5).optCycleDecay(0.1).optWarmup(10, 1e-5).build(),
                        "CosineLRScheduler(sgd(1e-3), t_initial=96, lr_min=1e-5, cycle_decay=0.1, warmup_t=10, warmup_lr_init=1e-5)", 107, false),
                new Cfg("timm cycles mul2 prefix k2", LrSchedule.timmCosine(0.1, 7).optLrMin(1e-3).optCycleMul(2).optCycleDecay(0.5)
                        .optCycleLimit(3).optWarmup(3, 1e-4).optWarmupPrefix(true).optKDecay(2).build(),
                        "CosineLRScheduler(sgd(0.1), t_initial=7, lr_min=1e-3, cycle_mul=2., cycle_decay=0.5, cycle_limit=3, warmup_t=3, warmup_lr_init=1e-4, warmup_prefix=True, k_decay=2.)", 60, false),
                new Cfg("timm cycles mul1 per-update", LrSchedule.timmCosine(0.05, 25).optCycleLimit(2).optCycleDecay(0.7)
                        .optTInEpochs(false).build(),
                        "CosineLRScheduler(sgd(0.05), t_initial=25, cycle_limit=2, cycle_decay=0.7, t_in_epochs=False)", 60, true));
        StringBuilder py = new StringBuilder(TIMM_COSINE_PY);
        for (int c = 0; c < cfgs.size(); c++) {
            Cfg cfg = cfgs.get(c);
            py.append("s = ").append(cfg.py()).append("\nopt = s.optimizer\n")
                    .append("outf('init").append(c).append("', opt.param_groups[0]['lr'])\n")
                    .append("for t in range(").append(cfg.n()).append("):\n")
                    .append(cfg.perUpdate() ? "    s.step_update(t)\n" : "    s.step(t)\n")
                    .append("    outf('c").append(c).append("_%d' % t, opt.param_groups[0]['lr'])\n");
        }
        PyBridge.Result r = PyBridge.run(py.toString(), Map.of());
        for (int c = 0; c < cfgs.size(); c++) {
            Cfg cfg = cfgs.get(c);
            List<Double> java = new ArrayList<>();
            for (int t = 0; t < cfg.n(); t++) java.add(cfg.java().lr(t));
            compareSeries(cfg.label(), java, r, "c" + c + "_", 1e-12);
            assertEquals(r.f("init" + c), cfg.java().initialLr(), 0, cfg.label() + " lr at construction");
        }
    }

    /** Java's timm scheduler state equals the lr_scheduler entry of the RevSFormer DVS fixture checkpoint. */
    @Test
    void timmCosineStateDictEqualsFixtureCheckpoint() {
        LrSchedule.TimmCosine s = LrSchedule.timmCosine(1e-3, 96).optLrMin(1e-5).optCycleDecay(0.1).optWarmup(10, 1e-5).optNumGroups(2).build();
        String path = dev.spikerev.testutil.Fixtures.of("revsnn", "revsformer_dvs_tiny", "checkpoint.pth").toString();
        String script = "ck = torch.load(" + PyBridge.pyRepr(path) + ", map_location='cpu', weights_only=False)\n"
                + "java = " + PyBridge.pyRepr(s.stateDict()) + "\n"
                + "same(ck['lr_scheduler'], java, 'lr_scheduler', 0)\nprint('OK')\n";
        PyBridge.Result r = PyBridge.run(script, Map.of());
        assertTrue(r.raw.contains("OK"), r.raw);
    }

    @Test
    void torchSchedulersMatchTorch() {
        record Cfg(String label, LrSchedule.TorchStepped java, String py, int n, double base) {}
        List<Cfg> cfgs = List.of(
                new Cfg("torch MultiStepLR c10", LrSchedule.multiStep(0.1, List.of(100, 150), 0.1),
                        "torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[100, 150], gamma=0.1)", 201, 0.1),
                new Cfg("torch MultiStepLR c100 repeated", LrSchedule.multiStep(0.1, List.of(60, 120, 120, 160), 0.2),
                        "torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[60, 120, 120, 160], gamma=0.2)", 201, 0.1),
                new Cfg("torch StepLR", LrSchedule.stepLr(0.05, 30, 0.1), "torch.optim.lr_scheduler.StepLR(opt, 30, 0.1)", 101, 0.05),
                new Cfg("torch CosineAnnealingLR", LrSchedule.cosineAnnealing(0.1, 10, 1e-4),
                        "torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=1e-4)", 46, 0.1));
        StringBuilder py = new StringBuilder(TIMM_COSINE_PY);
        for (int c = 0; c < cfgs.size(); c++) {
            Cfg cfg = cfgs.get(c);
            py.append("opt = sgd(").append(cfg.base()).append(")\ns = ").append(cfg.py()).append("\n")
                    .append("for t in range(").append(cfg.n()).append("):\n")
                    .append("    outf('c").append(c).append("_%d' % t, opt.param_groups[0]['lr'])\n")
                    .append("    if t < ").append(cfg.n() - 1).append(":\n        opt.step(); s.step()\n")
                    .append("ref = s.state_dict()\n")
                    .append("if 'milestones' in ref: ref['milestones'] = dict(ref['milestones'])  # collections.Counter\n")
                    .append("same(ref, ").append(PyBridge.pyRepr(cfg.java().stateDict(cfg.n() - 1, 1))).append(", 'sched', 1e-12)\n");
        }
        // the MultiStepLR state in the RevSResNet fixture checkpoint (constructed, never stepped)
        String path = dev.spikerev.testutil.Fixtures.of("revsnn", "revsresnet_cifar_tiny", "checkpoint.pth").toString();
        LinkedHashMap<Object, Object> fixtureLike = LrSchedule.multiStep(0.1, List.of(100, 150), 0.1).stateDict(0, 1);
        py.append("ck = torch.load(").append(PyBridge.pyRepr(path)).append(", map_location='cpu', weights_only=False)\n")
                .append("ref = ck['lr_scheduler']; ref['milestones'] = dict(ref['milestones'])\n")
                .append("same(ref, ").append(PyBridge.pyRepr(fixtureLike)).append(", 'fixture sched', 0)\nprint('OK')\n");
        PyBridge.Result r = PyBridge.run(py.toString(), Map.of());
        assertTrue(r.raw.contains("OK"), r.raw);
        for (int c = 0; c < cfgs.size(); c++) {
            Cfg cfg = cfgs.get(c);
            List<Double> java = new ArrayList<>();
            for (int t = 0; t < cfg.n(); t++) java.add(cfg.java().lr(t));
            compareSeries(cfg.label(), java, r, "c" + c + "_", 1e-12);
        }
    }

    /** MPIS: 500-iteration linear warm-up that overwrites the lr, x0.1 at milestone epochs (spec section 10). */
    @Test
    void mpisWarmupAndStepsMatchReferenceLoop() {
        int itersPerEpoch = 40;
        LrSchedule s = LrSchedule.mpis(0.01, 500, List.of(15, 40, 80, 100, 150, 200), 0.1, itersPerEpoch);
        String py = """
                base = 0.01
                lr = base
                opt = sgd(lr)
                it = 0
                for epoch in range(210):
                    if epoch in [15, 40, 80, 100, 150, 200]:
                        lr *= 0.1
                        for g in opt.param_groups: g['lr'] = lr
                    for i in range(40):
                        if it < 500:
                            for g in opt.param_groups: g['lr'] = lr * (it + 1) / 500
                        if it % 7 == 0 or it < 520:
                            outf('m%d' % it, opt.param_groups[0]['lr'])
                        it += 1
                """;
        PyBridge.Result r = PyBridge.run(TIMM_COSINE_PY + py, Map.of());
        double max = 0;
        int n = 0;
        for (int it = 0; it < 210 * itersPerEpoch; it++) {
            if (!(it % 7 == 0 || it < 520)) continue;
            double d = Math.abs(s.lr(it) - r.f("m" + it));
            assertTrue(d <= 1e-12, "iteration " + it + ": " + s.lr(it) + " vs " + r.f("m" + it));
            max = Math.max(max, d);
            n++;
        }
        System.out.printf("[lr] %-34s %4d points, max |diff| %.3g%n", "mpis warmup+steps", n, max);
    }
}
