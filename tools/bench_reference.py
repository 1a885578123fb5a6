#!/usr/bin/env python3
"""Time a Python reference the way ``spikerev bench speed`` times the Java port (torch only + your clone).

    python tools/bench_reference.py [--family t-revsnn] --ref-dir DIR [--model tiny|small|c0,c1,c2,c3] [--kernel 3]
           [--classes 1000] [--img 64] [--batch 8] [--threads 2] [--steps 10] [--warmup 2] [--save-memory 1]
           [--timm auto|real|shim]
    python tools/bench_reference.py --family revsnn --ref-dir DIR --ctor JSON [--save-memory 1] [--batch 8] ...
    python tools/bench_reference.py --family mpis --ref-dir DIR --ctor JSON [--batch 8] ...

t-revsnn (a clone of BICLab/T-RevSNN), training step (reference recipe, fp32, no AMP): train-mode forward of the
reference model + compound loss (label smoothing 0.1; heads weighted (i+1)/4, last head once more) + zero_grad +
backward (the reference's reversible autograd Function when save_memory) + adaptive gradient clipping (0.02, eps
1e-3) + a Lamb step (timm's algorithm: global grad-norm clip 1.0, bias correction, weight decay 0.01 with trust ratio
clipped at 1 in the decayed group, lr 2e-3, eps 1e-8). The loss, clipping and optimizer are written here (torch only)
with the same arithmetic as the reference's timm-based ones; the model is the reference's own.

revsnn (a clone of mi804/RevSNN, its root or cifar10 folder; see tools/revsnn_ref.py for the SpikingJelly stand-in),
CIFAR input [B,3,32,32]: RevSResNet cross-entropy + SGD (lr 0.1, momentum 0.9, wd 1e-4); RevSFormer
label-smoothing cross-entropy 0.1 + AdamW (lr 5e-4, wd 0.06 except 1-d params and biases, eps 1e-8), backward
through the reference's ReversibleSequence (or plain autograd with --save-memory 0), reset_net after every batch.

mpis (a clone of kiritozc/MPIS-SNNs, see tools/mpis_ref.py): CrossEntropyLoss + SGD (momentum 0.9, wd 5e-4; lr
0.01 static / 0.1 neuro) over model.parameters(), the reference's own (one-step) backward. Input: static N(0,1)
images [B,c_in,8h,8w]; neuro Bernoulli(0.2) events [B,c_in,4h,4w,T].

--device cuda[:N] (t-revsnn): model, batch and optimizer state on that GPU, every timed call ends with
torch.cuda.synchronize(), and "cuda_memory" reports torch.cuda's allocated bytes when the measured training steps
and inference start (train_base_bytes / infer_base_bytes) and their peaks (train_peak_bytes / infer_peak_bytes).
--amp bf16|fp16: forward + loss + backward under torch.autocast (fp16 with torch.amp.GradScaler: scale, unscale
before the clipping, step, update), as spikerev bench speed --amp does.

--ctor: the constructor arguments as JSON (reference names), as ``spikerev bench speed --json`` records them under
"constructor". Inference: eval-mode forward under no_grad. Phases: forward+loss (with zero_grad) / backward /
optimizer (clipping, step and the per-batch reset). Prints one JSON line (last line of stdout). Only the timing
matters here: the weights are the reference initialisation after torch.manual_seed(0).
"""
import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trevsnn_ref  # noqa: E402


def ce_smooth(logits, y, smoothing=0.1):
    logp = F.log_softmax(logits, dim=-1)
    nll = -logp.gather(dim=-1, index=y.unsqueeze(1)).squeeze(1)
    return ((1.0 - smoothing) * nll + smoothing * (-logp.mean(dim=-1))).mean()


def compound_loss(outs, y):
    n = len(outs)
    terms = [ce_smooth(o, y) * (i + 1) / n for i, o in enumerate(outs)] + [ce_smooth(outs[-1], y)]
    return torch.stack(terms).sum()


def unitwise_norm(x):
    return x.norm(2.0) if x.ndim <= 1 else x.norm(2.0, dim=tuple(range(1, x.ndim)), keepdim=True)


@torch.no_grad()
def agc(params, clip=0.02, eps=1e-3):
    for p in params:
        if p.grad is None:
            continue
        max_norm = unitwise_norm(p).clamp_(min=eps).mul_(clip)
        g_norm = unitwise_norm(p.grad)
        scaled = p.grad * (max_norm / g_norm.clamp(min=1e-6))
        p.grad.copy_(torch.where(g_norm < max_norm, p.grad, scaled))


class Lamb:
    def __init__(self, groups, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, max_grad_norm=1.0):
        self.groups, self.lr, self.betas, self.eps, self.mgn = groups, lr, betas, eps, max_grad_norm
        self.state = {}
        for g in groups:
            g["step"] = 0

    def zero_grad(self):
        for g in self.groups:
            for p in g["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self):
        b1, b2 = self.betas
        grads = [p.grad for g in self.groups for p in g["params"] if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        clip = torch.clamp(norm / self.mgn, min=1.0)
        for g in self.groups:
            g["step"] += 1
            bc1, bc2 = 1 - b1 ** g["step"], 1 - b2 ** g["step"]
            wd = g["weight_decay"]
            for p in g["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.div_(clip)
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = (torch.zeros_like(p), torch.zeros_like(p))
                m, v = st
                m.mul_(b1).add_(grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                u = (m / bc1) / (v.sqrt() / math.sqrt(bc2) + self.eps)
                if wd != 0:
                    u.add_(p, alpha=wd)
                    w_norm, u_norm = p.norm(2.0), u.norm(2.0)
                    r = torch.where(w_norm > 0, torch.where(u_norm > 0, w_norm / u_norm, 1.0), 1.0).clamp(max=1.0)
                    u.mul_(r)
                p.add_(u, alpha=-self.lr)


def groups_of(model):
    decay, no_decay = [], []
    for name, p in model.named_parameters():  # de-duplicated, as the reference's set_weight_decay sees them
        if not p.requires_grad:
            continue
        (no_decay if p.ndim == 1 or name.endswith(".bias") else decay).append(p)
    return [dict(params=decay, weight_decay=0.01), dict(params=no_decay, weight_decay=0.0)]


def stats(xs, prefix):
    s = sorted(xs)
    q = statistics.quantiles(s, n=4, method="inclusive") if len(s) > 1 else [s[0]] * 3
    return {prefix + "_s": statistics.median(s), prefix + "_min_s": s[0], prefix + "_max_s": s[-1],
            prefix + "_q1_s": q[0], prefix + "_q3_s": q[2]}


def revsnn_case(a):
    import revsnn_ref
    ctor = json.loads(a.ctor)
    r = revsnn_ref.load(a.ref_dir)
    if not a.save_memory:
        revsnn_ref.make_plain(r)
    torch.manual_seed(0)
    model = revsnn_ref.build(r, ctor)
    resnet = ctor["cls"] == "RevSResNet"
    if resnet:
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    else:
        decay, no_decay = [], []
        for name, p in model.named_parameters():
            if p.requires_grad:
                (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
        opt = torch.optim.AdamW([dict(params=no_decay, weight_decay=0.0), dict(params=decay, weight_decay=0.06)],
                                lr=5e-4, eps=1e-8, betas=(0.9, 0.999))
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, int(ctor["num_classes"]), (a.batch,))
    crit = F.cross_entropy if resnet else ce_smooth

    def after():
        r.functional.reset_net(model)
    return dict(model=model, x=x, loss=lambda out: crit(out, y), zero_grad=lambda: opt.zero_grad(set_to_none=True),
                step=lambda: (opt.step(), after()), after_infer=after,
                versions={"spikingjelly": revsnn_ref.SPIKINGJELLY_SOURCE, "timm": revsnn_ref.TIMM_SOURCE})


def mpis_case(a):
    import mpis_ref
    ctor = json.loads(a.ctor)
    r = mpis_ref.load(a.ref_dir)
    torch.manual_seed(0)
    model = mpis_ref.build(r, ctor)
    static = ctor["kind"] == "static"
    opt = torch.optim.SGD(model.parameters(), lr=0.01 if static else 0.1, momentum=0.9, weight_decay=5e-4)
    h, w, c = int(ctor["h_hidden"]), int(ctor["w_hidden"]), int(ctor["c_in"])
    x = torch.randn(a.batch, c, 8 * h, 8 * w) if static else \
        (torch.rand(a.batch, c, 4 * h, 4 * w, int(ctor["time_step"])) < 0.2).float()
    y = torch.randint(0, int(ctor["num_classes"]), (a.batch,))
    return dict(model=model, x=x, loss=lambda out: F.cross_entropy(out, y),
                zero_grad=lambda: opt.zero_grad(set_to_none=True), step=opt.step, after_infer=lambda: None,
                versions={"stand_ins": ",".join(mpis_ref.STAND_INS) or "none"})


def trevsnn_case(a):
    net = trevsnn_ref.load(a.ref_dir, a.timm)
    torch.manual_seed(0)
    model = trevsnn_ref.build(net, a.model, a.kernel, a.classes, save_memory=bool(a.save_memory))
    if not a.save_memory and not hasattr(net.SubNet, "_forward_nonreverse"):
        raise SystemExit("the reference has no plain (save_memory=False) path (SubNet._forward_nonreverse)")
    x = torch.randn(a.batch, 3, a.img, a.img)
    y = torch.randint(0, a.classes, (a.batch,))
    model, x, y = model.to(a.dev), x.to(a.dev), y.to(a.dev)
    opt = Lamb(groups_of(model))
    params = [q for g in opt.groups for q in g["params"]]
    scaler = torch.amp.GradScaler("cuda") if a.amp == "fp16" else None

    def step():
        if scaler is not None:
            scaler.unscale_(opt_shim)
        agc(params)
        if scaler is not None:
            scaler.step(opt_shim)
            scaler.update()
        else:
            opt.step()

    class _Shim(torch.optim.Optimizer):  # GradScaler needs a torch Optimizer: this one delegates to the Lamb above
        def __init__(self):
            super().__init__(params, {})

        def step(self, closure=None):
            opt.step()
    opt_shim = _Shim() if scaler is not None else None
    return dict(model=model, x=x, loss=lambda outs: compound_loss([o.float() for o in outs], y), zero_grad=opt.zero_grad,
                step=step, after_infer=lambda: None, versions={"timm": trevsnn_ref.TIMM_SOURCE},
                backward=(lambda l: scaler.scale(l).backward()) if scaler is not None else None)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--family", default="t-revsnn", choices=["t-revsnn", "revsnn", "mpis"])
    p.add_argument("--ref-dir", required=True)
    p.add_argument("--model", default="tiny")
    p.add_argument("--ctor", default=None, help="revsnn / mpis: constructor arguments as JSON")
    p.add_argument("--kernel", type=int, default=3)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--img", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--save-memory", type=int, default=1)
    p.add_argument("--timm", default="auto", choices=["auto", "real", "shim"])
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (t-revsnn only)")
    p.add_argument("--amp", default="none", choices=["none", "bf16", "fp16"])
    a = p.parse_args()
    a.dev = torch.device(a.device if a.device != "cuda" else "cuda:0")
    if a.family != "t-revsnn" and (a.dev.type != "cpu" or a.amp != "none"):
        p.error("--device/--amp: implemented for --family t-revsnn only")
    if a.dev.type == "cuda" and not torch.cuda.is_available():
        p.error("--device %s: torch %s sees no CUDA device" % (a.device, torch.__version__))
    if a.amp == "fp16" and a.dev.type != "cuda":
        p.error("--amp fp16 needs --device cuda")
    if a.family != "t-revsnn" and not a.ctor:
        p.error("--family %s needs --ctor JSON (spikerev bench speed passes it; see its --json 'constructor')" % a.family)
    if a.steps < 1 or a.warmup < 0 or a.batch < 1:
        p.error("--steps >= 1, --warmup >= 0, --batch >= 1")
    torch.set_num_threads(a.threads)
    c = {"t-revsnn": trevsnn_case, "revsnn": revsnn_case, "mpis": mpis_case}[a.family](a)
    model, x = c["model"], c["x"]
    cuda = a.dev.type == "cuda"
    sync = (lambda: torch.cuda.synchronize(a.dev)) if cuda else (lambda: None)
    autocast = (lambda: torch.autocast(a.dev.type, dtype=torch.bfloat16 if a.amp == "bf16" else torch.float16)) \
        if a.amp != "none" else contextlib.nullcontext
    backward = c.get("backward") or (lambda l: l.backward())
    mem = {}

    def window(what):
        if cuda:
            sync()
            mem[what + "_base_bytes"] = torch.cuda.memory_allocated(a.dev)
            torch.cuda.reset_peak_memory_stats(a.dev)

    def peak(what):
        if cuda:
            sync()
            mem[what + "_peak_bytes"] = torch.cuda.max_memory_allocated(a.dev)
    steps, phases = [], [[], [], []]
    model.train()
    for i in range(a.warmup + a.steps):
        if i == a.warmup:
            window("train")
        t0 = time.perf_counter()
        with autocast():
            loss = c["loss"](model(x))
            c["zero_grad"]()
            sync()
            t1 = time.perf_counter()
            backward(loss)
            sync()
        t2 = time.perf_counter()
        c["step"]()
        sync()
        t3 = time.perf_counter()
        del loss
        if i >= a.warmup:
            steps.append(t3 - t0)
            for k, d in enumerate((t1 - t0, t2 - t1, t3 - t2)):
                phases[k].append(d)
        print("  step %d: %.4f s" % (i, t3 - t0), file=sys.stderr, flush=True)
    peak("train")
    model.eval()
    infer = []
    with torch.no_grad():
        for i in range(a.warmup + a.steps):
            if i == a.warmup:
                window("infer")
            t0 = time.perf_counter()
            with autocast():
                model(x)
            c["after_infer"]()
            sync()
            dt = time.perf_counter() - t0
            if i >= a.warmup:
                infer.append(dt)
    peak("infer")
    res = {"family": a.family, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "load_avg": os.getloadavg()[0]}
    res.update(c["versions"])
    res["device"], res["amp"] = str(a.dev), a.amp
    if cuda:
        res["device_name"] = torch.cuda.get_device_name(a.dev)
        res["cuda_memory"] = mem
    res.update(stats(steps, "python_step"))
    res.update(stats(infer, "python_infer"))
    res["python_phases"] = {"forward_loss_s": statistics.median(phases[0]), "backward_s": statistics.median(phases[1]),
                            "optimizer_s": statistics.median(phases[2])}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
