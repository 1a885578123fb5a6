package dev.spikerev.train;

import dev.spikerev.tensor.Natives;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Losses (value and gradient) and gradient clipping against torch / timm (transcribed). */
class LossesClipTest {
    @BeforeAll
    static void natives() {
        Natives.init();
    }

    static final String TIMM_LOSS_PY = """
            import torch.nn.functional as F
            class LabelSmoothingCrossEntropy(torch.nn.Module):   # timm/loss/cross_entropy.py
                def __init__(self, smoothing=0.1):
                    super().__init__()
                    self.smoothing = smoothing
                    self.confidence = 1. - smoothing
                def forward(self, x, target):
                    logprobs = F.log_softmax(x, dim=-1)
                    nll_loss = -logprobs.gather(dim=-1, index=target.unsqueeze(1))
                    nll_loss = nll_loss.squeeze(1)
                    smooth_loss = -logprobs.mean(dim=-1)
                    loss = self.confidence * nll_loss + self.smoothing * smooth_loss
                    return loss.mean()
            class SoftTargetCrossEntropy(torch.nn.Module):
                def forward(self, x, target):
                    loss = torch.sum(-target * F.log_softmax(x, dim=-1), dim=-1)
                    return loss.mean()
            def one_hot(x, num_classes, on_value=1., off_value=0.):   # timm/data/mixup.py
                x = x.long().view(-1, 1)
                return torch.full((x.size()[0], num_classes), off_value, device=x.device).scatter_(1, x, on_value)
            def mixup_target(target, num_classes, lam=1., smoothing=0.0):
                off_value = smoothing / num_classes
                on_value = 1. - smoothing + off_value
                y1 = one_hot(target, num_classes, on_value=on_value, off_value=off_value)
                y2 = one_hot(target.flip(0), num_classes, on_value=on_value, off_value=off_value)
                return y1 * lam + y2 * (1. - lam)
            def compound_loss_only_cls(output_label, targets, criterion_ce):   # T-RevSNN loss.py
                cls_loss = []
                for i, label in enumerate(output_label):
                    ratio_c = (i + 1) / len(output_label)
                    l = criterion_ce(label, targets) * ratio_c
                    cls_loss.append(l)
                final_cls_loss = criterion_ce(output_label[-1], targets)
                cls_loss.append(final_cls_loss)
                return torch.sum(torch.stack(cls_loss), dim=0)
            def unitwise_norm(x, norm_type=2.0):   # timm/utils/agc.py
                if x.ndim <= 1:
                    return x.norm(norm_type)
                return x.norm(norm_type, dim=tuple(range(1, x.ndim)), keepdim=True)
            def adaptive_clip_grad(parameters, clip_factor=0.01, eps=1e-3, norm_type=2.0):
                for p in parameters:
                    if p.grad is None:
                        continue
                    p_data = p.detach()
                    g_data = p.grad.detach()
                    max_norm = unitwise_norm(p_data, norm_type=norm_type).clamp_(min=eps).mul_(clip_factor)
                    grad_norm = unitwise_norm(g_data, norm_type=norm_type)
                    clipped_grad = g_data * (max_norm / grad_norm.clamp(min=1e-6))
                    new_grads = torch.where(grad_norm < max_norm, g_data, clipped_grad)
                    p.grad.detach().copy_(new_grads)
            """;

    @Test
    void lossesMatchTimmAndTorch() {
        SplittableRandom rnd = new SplittableRandom(7);
        long n = 6, classes = 5;
        List<Tensor> heads = new ArrayList<>();
        for (int h = 0; h < 4; h++) heads.add(PyBridge.random(rnd, 3, n, classes).requires_grad_(true));
        Tensor target = Tensor.create(new long[] {0, 4, 2, 2, 1, 3}, n);
        LinkedHashMap<String, Tensor> in = new LinkedHashMap<>();
        for (int h = 0; h < 4; h++) in.put("h" + h, heads.get(h).detach());

        record Case(String name, java.util.function.Supplier<Tensor> java, String py) {}
        List<Case> cases = List.of(
                new Case("ls_ce", () -> Losses.labelSmoothingCrossEntropy(heads.get(0), target, 0.1),
                        "LabelSmoothingCrossEntropy(0.1)(HS[0], y)"),
                new Case("ls_ce_0.3", () -> Losses.labelSmoothingCrossEntropy(heads.get(1), target, 0.3),
                        "LabelSmoothingCrossEntropy(0.3)(HS[1], y)"),
                new Case("soft_ce_lam1", () -> Losses.softTargetCrossEntropy(heads.get(2), Losses.mixupTarget(target, classes, 1.0, 0.1)),
                        "SoftTargetCrossEntropy()(HS[2], mixup_target(y, 5, 1.0, 0.1))"),
                new Case("soft_ce_lam0.7", () -> Losses.softTargetCrossEntropy(heads.get(3), Losses.mixupTarget(target, classes, 0.7, 0.1)),
                        "SoftTargetCrossEntropy()(HS[3], mixup_target(y, 5, 0.7, 0.1))"),
                new Case("ce", () -> Losses.crossEntropy(heads.get(0), target), "torch.nn.CrossEntropyLoss()(HS[0], y)"),
                new Case("compound", () -> Losses.intermediateSupervision(heads, target,
                        (h, y) -> Losses.labelSmoothingCrossEntropy(h, y, 0.1)),
                        "compound_loss_only_cls(HS, y, LabelSmoothingCrossEntropy(0.1))"));
        StringBuilder py = new StringBuilder(TIMM_LOSS_PY).append("""
                D = load(sys.argv[1])
                y = torch.tensor([0, 4, 2, 2, 1, 3])
                """);
        for (Case c : cases) {
            py.append("HS = [D['h%d' % i].clone().requires_grad_(True) for i in range(4)]\n")
                    .append("loss = ").append(c.py()).append("\nloss.backward()\n")
                    .append("outf('").append(c.name()).append("', loss.item())\n")
                    .append("for i in range(4):\n    out('").append(c.name()).append(".g%d' % i, HS[i].grad if HS[i].grad is not None else torch.zeros(6, 5))\n");
        }
        PyBridge.Result r = PyBridge.run(py.toString(), in);
        for (Case c : cases) {
            for (Tensor h : heads) if (h.grad().defined()) h.mutable_grad().reset();
            Tensor loss = c.java().get();
            loss.backward();
            double dl = Math.abs(loss.item_double() - r.f(c.name()));
            assertTrue(dl <= 1e-6, c.name() + ": loss " + loss.item_double() + " vs " + r.f(c.name()));
            double dg = 0;
            for (int i = 0; i < 4; i++) {
                Tensor g = heads.get(i).grad();
                Tensor gg = g.defined() ? g : Tensor.create(new float[30], 6, 5);
                dg = Math.max(dg, OptimizerParity.check(c.name() + " grad " + i, gg, r.t(c.name() + ".g" + i), 1e-7));
            }
            System.out.printf("[loss] %-14s value %.8f  |dloss| %.3g  max|dgrad| %.3g%n", c.name(), loss.item_double(), dl, dg);
        }
    }

    @Test
    void clippingMatchesTorchAndTimm() {
        String[] pyCalls = {
                "total = torch.nn.utils.clip_grad_norm_(ps, 1.0)",
                "total = torch.nn.utils.clip_grad_norm_(ps, 0.3, norm_type=float('inf'))",
                "total = torch.nn.utils.clip_grad_norm_(ps, 2.0, norm_type=1.0)",
                "total = torch.nn.utils.clip_grad_norm_(ps, 1000.0)",
                "torch.nn.utils.clip_grad_value_(ps, 0.5); total = torch.tensor(0.)",
                "adaptive_clip_grad(ps, 0.02, 1e-3); total = torch.tensor(0.)",
        };
        for (int k = 0; k < pyCalls.length; k++) {
            OptimCase c = new OptimCase(50 + k, 1);
            String script = TIMM_LOSS_PY + TimmLambPy.SOURCE + OptimCase.PY_SETUP
                    + "set_grads(0)\nps = list(params.values())\n" + pyCalls[k] + "\noutf('total', total)\nout_params('p.')\n";
            PyBridge.Result r = PyBridge.run(script, c.inputs());
            try (SGD holder = new SGD(ParamGroups.all(c.params), Map.of("lr", 0.1))) {
                c.setGrads(holder, 0);
            }
            List<Tensor> ps = new ArrayList<>(c.params.values());
            double total = switch (k) {
                case 0 -> GradClip.clipGradNorm(ps, 1.0);
                case 1 -> GradClip.clipGradNorm(ps, 0.3, Double.POSITIVE_INFINITY);
                case 2 -> GradClip.clipGradNorm(ps, 2.0, 1.0);
                case 3 -> GradClip.clipGradNorm(ps, 1000.0);
                case 4 -> { GradClip.clipGradValue(ps, 0.5); yield 0.0; }
                default -> { GradClip.adaptiveClipGrad(ps, 0.02, 1e-3, 2.0); yield 0.0; }
            };
            double dn = Math.abs(total - r.f("total"));
            assertTrue(dn <= 1e-6 * Math.max(1, Math.abs(total)), pyCalls[k] + ": total norm " + total + " vs " + r.f("total"));
            double dg = 0;
            for (Map.Entry<String, Tensor> e : c.params.entrySet()) {
                Tensor g = e.getValue().grad();
                assertEquals(r.tensors.containsKey("p.grad." + e.getKey()), g.defined());
                if (g.defined()) dg = Math.max(dg, OptimizerParity.check(pyCalls[k] + " " + e.getKey(), g, r.t("p.grad." + e.getKey()), 1e-7));
            }
            System.out.printf("[clip] %-70s total %.6f |dnorm| %.3g max|dgrad| %.3g%n", pyCalls[k], total, dn, dg);
        }
    }
}
