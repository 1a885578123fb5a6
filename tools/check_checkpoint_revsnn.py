#!/usr/bin/env python3
"""Check a RevSNN training checkpoint (written by spikerev or by the reference scripts) the way the scripts resume it.

    python tools/check_checkpoint_revsnn.py CKPT [--ref-dir DIR] [--heads H] [--T T]

(a) ``torch.load(CKPT, weights_only=True)`` and the layout of one of the RevSNN training scripts (github.com/mi804/RevSNN):
    SCRIPT  cifar10|cifar100/train_resnet_origin.py, cifar10-dvs|dvs128-gesture/train.py and train_resnet.py:
            {model, optimizer, lr_scheduler, epoch, [args], max_test_acc1, test_acc5_at_max_test_acc1}
    TIMM    cifar10|cifar100/train.py (timm CheckpointSaver): {epoch, arch, state_dict, optimizer, version, [args], metric}
    (extra keys ``state_dict_ema`` and ``spikerev`` are allowed). Types are checked (epoch int, accuracies float,
    state_dict of tensors, optimizer state_dict, MultiStepLR ``milestones`` a Counter, timm scheduler fields).
(b) The scripts' resume code, run on CKPT with torch's default ``torch.load`` (``weights_only=True`` since torch 2.6):
    the model's ``load_state_dict(checkpoint[...])`` (strict), the script's optimizer type over the model's parameters
    (SGD / Adam over ``model.parameters()`` for train_resnet_origin.py; timm ``create_optimizer``'s ``AdamW`` over
    ``param_groups_weight_decay`` for the timm scripts) and ``optimizer.load_state_dict``, the scheduler's
    ``load_state_dict`` (torch ``MultiStepLR``; timm ``CosineLRScheduler`` when timm is installed, else its
    ``__dict__.update``), then ``start_epoch`` and the best accuracy as the scripts compute them. State tensors must
    have their parameter's shape; with ``--check-lr`` each group's lr must also be what the restored scheduler gives
    for ``start_epoch`` (true of files saved at an epoch end as the scripts do, and of spikerev's mid-epoch files).
    Without ``--ref-dir`` the model is a stand-in holding the file's tensors as parameters / buffers in file order
    (enough for the optimizer and scheduler); with ``--ref-dir`` (a RevSNN sub-folder: cifar10, cifar100,
    cifar10-dvs or dvs128-gesture) it is the reference model itself (RevSResNet / rev_vit_snn, architecture read
    from the state_dict's shapes; ``--heads`` only changes the computation, default the largest of 16, 12, 8, 4, 2, 1
    dividing D). Imports the reference needs but that are not installed (spikingjelly, timm, torchvision) are
    replaced by inert stand-ins that only build modules: no forward pass is run.
Prints ``RESULT {json}`` (layout, start_epoch, best accuracy, groups, ...) on success. Exit status 0 when every check
passes, 1 otherwise. Requires torch only.
"""
import argparse
import collections
import json
import math
import os
import sys
import types

import torch
import torch.nn as nn

SCRIPT_KEYS = ["model", "optimizer", "lr_scheduler", "epoch", "max_test_acc1", "test_acc5_at_max_test_acc1"]
TIMM_KEYS = ["epoch", "arch", "state_dict", "optimizer", "version", "metric"]
EXTRA = {"args", "state_dict_ema", "spikerev"}
BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
TIMM_COSINE_FIELDS = ["param_group_field", "base_values", "t_initial", "lr_min", "cycle_mul", "cycle_decay", "cycle_limit",
                      "warmup_t", "warmup_lr_init", "warmup_prefix", "t_in_epochs", "k_decay"]


def fail(msg):
    print("FAIL " + msg)
    return 1


def is_sd(o):
    return isinstance(o, dict) and all(isinstance(k, str) and torch.is_tensor(v) for k, v in o.items())


def strip_module(sd):
    if sd and all(k.startswith("module.") for k in sd):
        return collections.OrderedDict((k[len("module."):], v) for k, v in sd.items())
    return sd


# ----------------------------------------------------------------------------------------- layout
def layout_of(ck):
    if "model" in ck:
        return "SCRIPT"
    if "state_dict" in ck and "version" in ck:
        return "TIMM"
    return None


def check_layout(ck):
    """Problems in the top-level layout (empty list = a RevSNN script layout)."""
    p = []
    lay = layout_of(ck)
    if lay is None:
        return ["neither the SCRIPT {%s} nor the TIMM {%s} layout: keys %s" % (", ".join(SCRIPT_KEYS), ", ".join(TIMM_KEYS), list(ck))]
    want = SCRIPT_KEYS if lay == "SCRIPT" else TIMM_KEYS
    core = [k for k in ck if k not in EXTRA]
    if core != [k for k in want if k in ck] or any(k not in ck for k in want if k != "metric"):
        p.append("keys %s, the %s layout is %s" % (list(ck), lay, want))
    if not isinstance(ck.get("epoch"), int) or isinstance(ck.get("epoch"), bool):
        p.append("epoch is %s, not int" % type(ck.get("epoch")).__name__)
    num_keys = ["max_test_acc1", "test_acc5_at_max_test_acc1"] if lay == "SCRIPT" else (["metric"] if "metric" in ck else [])
    for k in num_keys:
        if not isinstance(ck.get(k), float):
            p.append("%s is %s, not float" % (k, type(ck.get(k)).__name__))
    sd = ck.get("model" if lay == "SCRIPT" else "state_dict")
    if not is_sd(sd) or not sd:
        p.append("the state_dict is not a dict of tensors")
    if lay == "TIMM" and ck.get("version") != 2:
        p.append("version is %r, timm's saver writes 2" % (ck.get("version"),))
    if lay == "TIMM" and not isinstance(ck.get("arch"), str):
        p.append("arch is not a string")
    opt = ck.get("optimizer")
    if not isinstance(opt, dict) or list(opt) != ["state", "param_groups"]:
        p.append("optimizer is not an optimizer state_dict (state, param_groups)")
    if lay == "SCRIPT":
        s = ck.get("lr_scheduler")
        if not isinstance(s, dict):
            p.append("lr_scheduler is not a state_dict")
        elif "milestones" in s:
            if not isinstance(s["milestones"], collections.Counter):
                p.append("lr_scheduler.milestones is %s, MultiStepLR keeps a collections.Counter" % type(s["milestones"]).__name__)
            for k in ("gamma", "base_lrs", "last_epoch", "_step_count", "_last_lr"):
                if k not in s:
                    p.append("lr_scheduler (MultiStepLR) lacks '%s'" % k)
        else:
            missing = [k for k in TIMM_COSINE_FIELDS if k not in s]
            if missing:
                p.append("lr_scheduler is neither MultiStepLR nor timm CosineLRScheduler (missing %s)" % missing)
    if "state_dict_ema" in ck and not is_sd(ck["state_dict_ema"]):
        p.append("state_dict_ema is not a dict of tensors")
    return p


# ----------------------------------------------------------------------------------------- reference import
def _module(name, **attrs):
    m = types.ModuleType(name)
    m.__path__ = []
    m.__dict__.update(attrs)
    sys.modules[name] = m
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, m)
    return m


class _Neuron(nn.Module):
    """Stand-in for SpikingJelly's multi-step neurons: no tensors (as upstream), no forward."""

    def __init__(self, *a, **k):
        super().__init__()

    def forward(self, x):
        raise RuntimeError("stand-in neuron: this checker builds the reference model but never runs it")


class _SeqToANNContainer(nn.Sequential):
    def __init__(self, *modules):
        super().__init__(*modules)


class _Surrogate:
    def __init__(self, *a, **k):
        pass


class _DropPath(nn.Module):
    def __init__(self, *a, **k):
        super().__init__()

    def forward(self, x):
        return x


def install_standins():
    """Minimal stand-ins for the reference's third-party imports that are missing; returns their names."""
    done = []
    try:
        import spikingjelly.clock_driven.neuron  # noqa: F401
    except Exception:
        _module("spikingjelly")
        _module("spikingjelly.clock_driven")
        _module("spikingjelly.clock_driven.neuron", MultiStepIFNode=_Neuron, MultiStepLIFNode=_Neuron,
                MultiStepParametricLIFNode=_Neuron)
        _module("spikingjelly.clock_driven.layer", SeqToANNContainer=_SeqToANNContainer)
        _module("spikingjelly.clock_driven.surrogate", ATan=_Surrogate, Sigmoid=_Surrogate)
        _module("spikingjelly.clock_driven.functional", reset_net=lambda net: None)
        done.append("spikingjelly")
    try:
        import timm.models.layers  # noqa: F401
        import timm.models.registry  # noqa: F401
    except Exception:
        for k in [k for k in sys.modules if k == "timm" or k.startswith("timm.")]:
            del sys.modules[k]
        _module("timm")
        _module("timm.models", create_model=None)
        _module("timm.models.layers", to_2tuple=lambda x: tuple(x) if isinstance(x, (tuple, list)) else (x, x),
                trunc_normal_=nn.init.trunc_normal_, DropPath=_DropPath)
        _module("timm.models.registry", register_model=lambda f: f)
        _module("timm.models.vision_transformer", _cfg=lambda **k: dict(k))
        done.append("timm")
    try:
        import torchvision  # noqa: F401
    except Exception:
        _module("torchvision")
        done.append("torchvision")
    try:
        import einops.layers.torch  # noqa: F401
    except Exception:
        _module("einops")
        _module("einops.layers")
        _module("einops.layers.torch", Rearrange=_DropPath)   # imported by dvs128-gesture/revmodel.py, unused
        done.append("einops")
    return done


def build_reference(ref_dir, sd, heads=None, T=4):
    """The reference model whose state_dict has ``sd``'s keys and shapes (architecture read from the shapes)."""
    standins = install_standins()
    sys.path.insert(0, os.path.abspath(ref_dir))
    dvs = os.path.basename(os.path.normpath(ref_dir)) in ("cifar10-dvs", "dvs128-gesture")
    if any(k.startswith("layer1.") for k in sd):
        import revs_resnet as R
        nstage = 3 if dvs else 4
        layers = [len({k.split(".")[2] for k in sd if k.startswith("layer%d.reversible_blocks." % (i + 1))}) for i in range(nstage)]
        planes = [sd["layer%d.reversible_blocks.0.f_block.conv1.0.weight" % (i + 1)].shape[0] for i in range(nstage)]
        nc = sd["fc.weight"].shape[0]
        model = R.RevSResNet(R.BasicResidualBlock, layers, planes, num_classes=nc, T=T)
        desc = "RevSResNet(layers=%s, planes=%s, num_classes=%d)" % (layers, planes, nc)
    else:
        import revmodel as M
        last = "patch_embed.proj4_conv.weight" if dvs else "patch_embed.block4_conv.weight"
        D = sd[last].shape[0]
        depths = len({k.split(".")[2] for k in sd if k.startswith("block.reversible_blocks.")})
        ratio = sd["block.reversible_blocks.0.g_block.mlp1_conv.weight"].shape[0] // D
        nc = sd["head.weight"].shape[0]
        h = heads or next(x for x in (16, 12, 8, 4, 2, 1) if D % x == 0)
        side = 128 if dvs else 32
        model = M.rev_vit_snn(img_size_h=side, img_size_w=side, patch_size=16 if dvs else 4, in_channels=2 if dvs else 3,
                              num_classes=nc, embed_dims=D, num_heads=h, mlp_ratios=ratio, depths=depths, sr_ratios=1, T=T)
        desc = "rev_vit_snn(embed_dims=%d, num_heads=%d, depths=%d, mlp_ratios=%d, num_classes=%d)" % (D, h, depths, ratio, nc)
    if standins:
        desc += " [stand-ins for %s]" % ", ".join(standins)
    return model, desc


class StandIn(nn.Module):
    """The file's tensors as a module: parameters (everything but BN buffers) and buffers, in file order."""

    def __init__(self, sd):
        super().__init__()
        self._keys = collections.OrderedDict()            # file key -> (is_buffer, attribute name)
        for i, (k, v) in enumerate(sd.items()):
            attr, buf = "t%d" % i, k.rsplit(".", 1)[-1] in BUFFERS
            if buf:
                self.register_buffer(attr, torch.empty_like(v))
            else:
                self.register_parameter(attr, nn.Parameter(torch.empty_like(v)))
            self._keys[k] = (buf, attr)

    def load_state_dict(self, sd, strict=True):
        if strict and list(sd) != list(self._keys):
            missing = [k for k in self._keys if k not in sd]
            unexpected = [k for k in sd if k not in self._keys]
            raise RuntimeError("Missing key(s): %s; unexpected key(s): %s" % (missing[:5], unexpected[:5]))
        with torch.no_grad():
            for k, v in sd.items():
                buf, attr = self._keys[k]
                (self._buffers if buf else self._parameters)[attr].copy_(v)
        return "<All keys matched successfully>"

    def named_parameters(self, *a, **k):
        for key, (buf, attr) in self._keys.items():
            if not buf:
                yield key, self._parameters[attr]

    def parameters(self, *a, **k):
        for _, p in self.named_parameters():
            yield p


def param_groups_weight_decay(model, weight_decay):
    """timm's ``param_groups_weight_decay`` (0.6.12 .. 1.0): no decay for ndim <= 1 and biases."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    return [{"params": no_decay, "weight_decay": 0.}, {"params": decay, "weight_decay": weight_decay}]


def timm_cosine_lr(s, t):
    """timm CosineLRScheduler._get_lr(t) from its state fields (first group)."""
    if t < s["warmup_t"]:
        return s["warmup_lr_init"] + t * s["warmup_steps"][0]
    if s["warmup_prefix"]:
        t -= s["warmup_t"]
    if s["cycle_mul"] != 1:
        i = math.floor(math.log(1 - t / s["t_initial"] * (1 - s["cycle_mul"]), s["cycle_mul"]))
        t_i = s["cycle_mul"] ** i * s["t_initial"]
        t_curr = t - (1 - s["cycle_mul"] ** i) / (1 - s["cycle_mul"]) * s["t_initial"]
    else:
        i = t // s["t_initial"]
        t_i = s["t_initial"]
        t_curr = t - (s["t_initial"] * i)
    lr_max = s["base_values"][0] * s["cycle_decay"] ** i
    if i < s["cycle_limit"]:
        return s["lr_min"] + 0.5 * (lr_max - s["lr_min"]) * (1 + math.cos(math.pi * t_curr ** s["k_decay"] / t_i ** s["k_decay"]))
    return s["lr_min"]


class _TimmSchedulerStandIn:
    """timm Scheduler.load_state_dict is ``self.__dict__.update(state_dict)``."""

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


# ----------------------------------------------------------------------------------------- resume
def resume(path, peek, ref_dir, heads, T, check_lr):
    """The scripts' resume code on ``path``; returns (rc, result dict)."""
    lay = layout_of(peek)
    sd0 = strip_module(peek["model" if lay == "SCRIPT" else "state_dict"])
    if ref_dir:
        model, desc = build_reference(ref_dir, sd0, heads, T)
    else:
        model, desc = StandIn(sd0), "stand-in module (%d tensors; no --ref-dir)" % len(sd0)
    groups = peek["optimizer"]["param_groups"]
    g0 = groups[-1]
    sched_state = peek.get("lr_scheduler") or {}
    multistep = "milestones" in sched_state
    one_group_script = lay == "SCRIPT" and multistep          # train_resnet_origin.py
    if one_group_script:
        if "betas" in g0:   # --adam
            optimizer = torch.optim.Adam(model.parameters(), lr=g0["initial_lr"] if "initial_lr" in g0 else g0["lr"],
                                         weight_decay=g0["weight_decay"])
            kind = "torch.optim.Adam(model.parameters())"
        else:
            optimizer = torch.optim.SGD(model.parameters(), lr=g0.get("initial_lr", g0["lr"]), momentum=g0["momentum"],
                                        weight_decay=g0["weight_decay"])
            kind = "torch.optim.SGD(model.parameters())"
        lr_scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=sorted(sched_state["milestones"].elements()),
                                                            gamma=sched_state["gamma"])
    else:                                                      # timm create_optimizer(args, model) with opt adamw
        wd = max(g["weight_decay"] for g in groups)
        params = param_groups_weight_decay(model, wd) if wd else model.parameters()
        optimizer = torch.optim.AdamW(params, lr=g0.get("initial_lr", g0["lr"]), eps=g0["eps"], betas=tuple(g0["betas"]),
                                      weight_decay=0.)   # timm passes 0 at the top level (the groups carry it)
        kind = "timm create_optimizer: torch.optim.AdamW(%s)" % ("param_groups_weight_decay(model, %g)" % wd if wd else "model.parameters()")
        lr_scheduler = None
        if lay == "SCRIPT":
            try:
                from timm.scheduler.cosine_lr import CosineLRScheduler
                lr_scheduler = CosineLRScheduler(optimizer, t_initial=sched_state["t_initial"])
            except Exception:
                lr_scheduler = _TimmSchedulerStandIn()
    model_without_ddp = model
    rc = 0
    out = {"layout": lay, "model": desc, "optimizer": kind}
    if lay == "SCRIPT":
        checkpoint = torch.load(path, map_location="cpu")        # as the scripts call it (torch's default weights_only)
        print("  " + str(model_without_ddp.load_state_dict(checkpoint["model"])))
        optimizer.load_state_dict(checkpoint["optimizer"])
        lr_scheduler.load_state_dict(checkpoint["lr_scheduler"])
        start_epoch = checkpoint["epoch"] + 1
        max_test_acc1 = checkpoint["max_test_acc1"]
        test_acc5_at_max_test_acc1 = checkpoint["test_acc5_at_max_test_acc1"]
        out.update(start_epoch=start_epoch, max_test_acc1=max_test_acc1, test_acc5_at_max_test_acc1=test_acc5_at_max_test_acc1)
    else:                                                      # timm resume_checkpoint(model, path, optimizer)
        checkpoint = torch.load(path, map_location="cpu")
        state_dict = strip_module(checkpoint["state_dict"])
        print("  " + str(model.load_state_dict(state_dict)))
        optimizer.load_state_dict(checkpoint["optimizer"])
        resume_epoch = checkpoint["epoch"]
        if "version" in checkpoint and checkpoint["version"] > 1:
            resume_epoch += 1
        start_epoch = resume_epoch
        out.update(start_epoch=start_epoch, metric=checkpoint.get("metric"))
        if "state_dict_ema" in checkpoint:                    # load_checkpoint(model_ema.module, path, use_ema=True)
            import copy
            ema = copy.deepcopy(model)
            print("  EMA: " + str(ema.load_state_dict(strip_module(checkpoint["state_dict_ema"]))))
    # optimizer state: one entry per parameter index at most, tensors of the parameter's shape
    params = [p for g in optimizer.param_groups for p in g["params"]]
    for i, st in optimizer.state_dict()["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v) and k != "step" and tuple(v.shape) != tuple(params[i].shape):
                rc = fail("optimizer state[%d].%s has shape %s, parameter %d has %s" % (i, k, tuple(v.shape), i, tuple(params[i].shape)))
    lrs = [g["lr"] for g in optimizer.param_groups]
    if lay == "SCRIPT":
        if multistep:
            s = lr_scheduler.state_dict()
            want = s["base_lrs"][0] * s["gamma"] ** sum(c for m, c in s["milestones"].items() if m <= s["last_epoch"])
            if s["last_epoch"] != start_epoch and check_lr:
                rc = fail("MultiStepLR last_epoch %d, the script steps it once per finished epoch: expected %d" % (s["last_epoch"], start_epoch))
        else:
            want = timm_cosine_lr(vars(lr_scheduler), start_epoch)
        if any(abs(lr - want) > 1e-12 + 1e-9 * abs(want) for lr in lrs):
            msg = "group lrs %s, the restored scheduler gives %.10g for epoch %d (the resumed script trains that epoch at the saved lr)" % (
                lrs, want, start_epoch)
            if check_lr:
                rc = fail(msg)
            else:
                print("NOTE " + msg)
    out.update(groups=[len(g["params"]) for g in optimizer.param_groups], lrs=lrs, state_entries=len(optimizer.state))
    return rc, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("--ref-dir")
    ap.add_argument("--heads", type=int)
    ap.add_argument("--T", type=int, default=4)
    ap.add_argument("--check-lr", action="store_true",
                    help="fail unless each group's lr (and MultiStepLR's last_epoch) is what the restored scheduler gives for "
                         "start_epoch, i.e. the file was saved the way the scripts save at an epoch end (or mid-epoch by spikerev)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    try:
        ck = torch.load(a.ckpt, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        return fail("torch.load(weights_only=True): %s" % str(e).splitlines()[0][:400])
    if not isinstance(ck, dict):
        return fail("not a dict: %s" % type(ck).__name__)
    print("torch.load(weights_only=True): OK (keys %s)" % list(ck))
    probs = check_layout(ck)
    if probs:
        return fail("layout: " + "; ".join(probs))
    print("layout: OK (%s)" % layout_of(ck))
    try:
        rc, out = resume(a.ckpt, ck, a.ref_dir, a.heads, a.T, a.check_lr)
    except Exception as e:  # noqa: BLE001
        return fail("resume: %s: %s" % (type(e).__name__, " ".join(str(e).split())[:600]))
    print("resume: %s (model %s, optimizer %s)" % ("OK" if rc == 0 else "FAILED", out["model"], out["optimizer"]))
    print("RESULT " + json.dumps(out, sort_keys=True))
    return rc


if __name__ == "__main__":
    sys.exit(main())
