#!/usr/bin/env python3
"""Check an MPIS-SNNs checkpoint written by spikerev (Java) against PyTorch and, optionally, the reference.

    python tools/check_checkpoint_mpis.py CKPT [--keys KEYS.txt] [--fixture CASE_DIR [--expect KEY]]
                                          [--ref-dir DIR [--resume] [--next-step FILE]]

(a) ``torch.load(CKPT, weights_only=True)``. CKPT is a bare state_dict or a training checkpoint in the layout of
    the reference scripts (static_data.py / neuro_data.py): {epoch: int, state_dict: 'module.'-prefixed,
    acc: float, best_acc: float, optimizer: SGD state_dict}; the layout is validated (types, prefix, one
    param group with the SGD options, momentum_buffer entries only).
(b) ``--keys``: the state_dict against a keys listing line for line (tools/check_keys.py).
(c) ``--ref-dir`` (a checkout of github.com/kiritozc/MPIS-SNNs) with ``--fixture`` (a shared/fixtures/mpis case,
    for the constructor, input and expected logits): builds the reference MPIS_static / MPIS_neuro (CPU:
    Tensor.cuda becomes the identity; the fusion conv, hard-coded 256/32 upstream, is rebuilt at the fixture's
    fusion_channels; script-only imports such as matplotlib are stubbed when missing), ``load_state_dict(strict=True)``, eval logits vs
    ``io.pt[--expect]`` (default logits_eval_after_steps for a training checkpoint, else logits_eval) within
    meta.json's atol/rtol. The number of optimizer params and the momentum buffer shapes are checked against the
    reference's ``model.parameters()``.
(d) ``--resume``: runs the scripts' resume code on CKPT: DataParallel(model), optim.SGD(model.parameters(), lr,
    momentum, weight_decay) from meta.json, ``checkpoint = torch.load(CKPT)`` (the installed torch's default
    weights_only), best_acc/start_epoch, ``model.load_state_dict(checkpoint['state_dict'])``,
    ``optimizer.load_state_dict(checkpoint['optimizer'])``; then eval logits as in (c) and, with
    ``--next-step FILE`` (a state_dict spikerev wrote after one more SGD step on the fixture batch), one training
    step in the reference compared with FILE (meta.json after_steps tolerance).

Exit status 0 when every requested check passes, 1 otherwise. (a)/(b) need torch only.
"""
import argparse
import copy
import json
import os
import sys
import types

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_keys  # noqa: E402

TOP = ["epoch", "state_dict", "acc", "best_acc", "optimizer"]
SGD_KEYS = ["lr", "momentum", "dampening", "weight_decay", "nesterov"]


def fail(msg):
    print("FAIL " + msg)
    return 1


def check_layout(ck):
    """Problems in a training checkpoint's top-level layout (empty list = the scripts' layout)."""
    p = []
    if list(ck) != TOP:
        p.append("top-level keys %s, the scripts write %s" % (list(ck), TOP))
    if not isinstance(ck.get("epoch"), int):
        p.append("epoch is %s, not int" % type(ck.get("epoch")).__name__)
    for k in ("acc", "best_acc"):
        if not isinstance(ck.get(k), (float, int)) and not (torch.is_tensor(ck.get(k)) and ck[k].numel() == 1):
            p.append("%s is %s, not a number" % (k, type(ck.get(k)).__name__))
    sd = ck.get("state_dict")
    if not check_keys._is_sd(sd):
        p.append("state_dict is not a dict of tensors")
    elif not all(k.startswith("module.") for k in sd):
        p.append("state_dict keys lack DataParallel's 'module.' prefix")
    opt = ck.get("optimizer")
    if not isinstance(opt, dict) or list(opt) != ["state", "param_groups"]:
        p.append("optimizer is not an optimizer state_dict (state, param_groups)")
        return p
    if len(opt["param_groups"]) != 1:
        p.append("%d param groups, the scripts use 1" % len(opt["param_groups"]))
    g = opt["param_groups"][0]
    for k in SGD_KEYS + ["params"]:
        if k not in g:
            p.append("param group lacks '%s' (not an SGD state)" % k)
    for i, st in opt["state"].items():
        if list(st) != ["momentum_buffer"] or not torch.is_tensor(st["momentum_buffer"]):
            p.append("state[%s] holds %s, SGD keeps only momentum_buffer" % (i, list(st)))
            break
        if i not in g.get("params", []):
            p.append("state[%s] names no parameter of the group" % i)
            break
    return p


# ----------------------------------------------------------------------------------------- reference
IMPORT_ONLY = ("termcolor", "matplotlib", "matplotlib.pyplot", "progress", "progress.bar", "tqdm", "torchvision",
               "torchvision.transforms")


def _stub(name):
    """An inert module: every attribute is a do-nothing class (the reference only imports these for its scripts)."""
    m = types.ModuleType(name)
    m.__path__ = []

    class _Inert:
        def __init__(self, *a, **k):
            pass

        def __call__(self, *a, **k):
            return a[0] if a else None

        def __getattr__(self, _):
            return _Inert()

    def attr(name):
        if name.startswith("__"):
            raise AttributeError(name)
        return (lambda s, *a, **k: s) if name == "colored" else _Inert

    m.__getattr__ = attr
    return m


def import_reference(ref_dir):
    """Imports models.MPIS_SNNs from REF_DIR; modules only its scripts use are stubbed when not installed."""
    torch.Tensor.cuda = lambda self, *a, **k: self          # the reference hard-codes .cuda() in forward
    stubbed = []
    for name in IMPORT_ONLY:
        try:
            __import__(name)
        except Exception:
            sys.modules[name] = _stub(name)
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, sys.modules[name])
            stubbed.append(name)
    sys.path.insert(0, ref_dir)
    import models.MPIS_SNNs as M
    if stubbed:
        print("reference import: stubbed %s (script-only imports; no effect on the model)" % ", ".join(stubbed))
    return M


def build_reference(M, ctor):
    static = ctor["kind"] == "static"
    m = {k: ctor[k] for k in ("c_in", "c_hidden", "num_classes", "kernel_size_x", "stride_x", "padding_x", "pooling_x",
                              "c_s1", "c_s2", "kernel_size_s", "h_hidden", "w_hidden", "dropout", "threshold",
                              "time_step", "vth", "leaky")}
    if static:
        m["c_s3"] = ctor["c_s3"]
    model = (M.MPIS_static if static else M.MPIS_neuro)({"MODEL": m, "OPTIM": {"solver": ctor.get("solver", "broy")}})
    width = ctor.get("fusion_channels", ctor["c_s1"] if static else ctor["c_hidden"])
    if model.snn_func.downsample0_1.in_channels != width:   # upstream hard-codes 256 / 32
        for f, frozen in ((model.snn_func, False), (model.snn_func_copy, True)):
            f.downsample0_1 = torch.nn.Conv2d(width, width, kernel_size=3, stride=2, padding=1)
            f.downsample0_1.requires_grad_(not frozen)
    return model


def close(a, b, atol, rtol):
    return bool(torch.allclose(a, b, atol=atol, rtol=rtol)), (a - b).abs().max().item()


def tol(meta, key):
    t = meta.get("tolerances", {}).get(key)
    if isinstance(t, list):
        return float(t[0]), float(t[1])
    if isinstance(t, dict):
        return float(t["atol"]), float(t["rtol"])
    return float(meta["atol"]), float(meta["rtol"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt")
    ap.add_argument("--keys")
    ap.add_argument("--fixture")
    ap.add_argument("--expect", default=None)
    ap.add_argument("--ref-dir")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--next-step")
    a = ap.parse_args(argv)
    rc = 0
    obj = torch.load(a.ckpt, map_location="cpu", weights_only=True)
    training = isinstance(obj, dict) and "optimizer" in obj and "state_dict" in obj
    sd, where, prefix = check_keys.unwrap(obj)
    print("torch.load(weights_only=True): OK (%s, %d state_dict entries in %s%s)" % (
        "training checkpoint" if training else "state_dict", len(sd), where, ", prefix %r" % prefix if prefix else ""))
    if training:
        probs = check_layout(obj)
        if probs:
            rc = fail("layout: " + "; ".join(probs))
        else:
            g = obj["optimizer"]["param_groups"][0]
            print("layout: OK (epoch %d, acc %s, best_acc %s, SGD lr %g momentum %g wd %g, %d params, %d momentum buffers)" % (
                obj["epoch"], obj["acc"], obj["best_acc"], g["lr"], g["momentum"], g["weight_decay"], len(g["params"]),
                len(obj["optimizer"]["state"])))
    if a.keys:
        probs = check_keys.compare(check_keys.read_keys(a.keys), check_keys.describe(sd))
        if probs:
            rc = fail("keys vs %s: %s" % (a.keys, "; ".join(probs)))
        else:
            print("keys: OK (%d entries equal %s line for line)" % (len(sd), a.keys))
    if not a.ref_dir:
        return rc
    if not a.fixture:
        return fail("--ref-dir needs --fixture CASE_DIR (constructor, input, expected logits)")
    with open(os.path.join(a.fixture, "meta.json")) as f:
        meta = json.load(f)
    io = torch.load(os.path.join(a.fixture, "io.pt"), map_location="cpu", weights_only=True)
    expect = a.expect or ("logits_eval_after_steps" if training else "logits_eval")
    M = import_reference(a.ref_dir)
    ctor, atol, rtol = meta["constructor"], float(meta["atol"]), float(meta["rtol"])

    model = build_reference(M, ctor)
    try:
        model.load_state_dict(sd, strict=True)
        print("reference load_state_dict(strict=True): OK (%d keys)" % len(sd))
    except RuntimeError as e:
        return fail("reference load_state_dict(strict=True): %s" % str(e).splitlines()[0][:400])
    model.eval()
    with torch.no_grad():
        logits = model(io["input"].clone())
    ok, d = close(logits, io[expect], atol, rtol)
    print("reference eval logits vs io.pt[%s]: max_abs_diff %.3e (atol %g, rtol %g) -> %s" % (expect, d, atol, rtol, "PASS" if ok else "FAIL"))
    rc |= 0 if ok else 1
    if training:
        params = list(model.parameters())
        g = obj["optimizer"]["param_groups"][0]
        bad = [i for i, st in obj["optimizer"]["state"].items() if st["momentum_buffer"].shape != params[i].shape]
        if len(g["params"]) != len(params) or bad:
            rc = fail("optimizer: %d params in the group, reference model.parameters() has %d; buffer shape mismatch at %s"
                      % (len(g["params"]), len(params), bad[:5]))
        else:
            print("optimizer vs reference model.parameters(): OK (%d params, %d momentum buffers with matching shapes)" % (
                len(params), len(obj["optimizer"]["state"])))

    if a.resume:
        if not training:
            return fail("--resume needs a training checkpoint")
        o = meta["optimizer"]
        model = torch.nn.DataParallel(build_reference(M, ctor))                     # the scripts' wrapping (CPU: no devices)
        optimizer = torch.optim.SGD(model.parameters(), lr=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"])
        checkpoint = torch.load(a.ckpt)                                             # as the scripts call it
        best_acc = checkpoint["best_acc"]
        start_epoch = checkpoint["epoch"]
        model.load_state_dict(checkpoint["state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        print("reference resume code: OK (torch %s, torch.load default weights_only; start_epoch %d, best_acc %s, %d momentum buffers)"
              % (torch.__version__, start_epoch, best_acc, len(optimizer.state)))
        model.eval()
        with torch.no_grad():
            logits = model(io["input"].clone())
        ok, d = close(logits, io[expect], atol, rtol)
        print("resumed eval logits vs io.pt[%s]: max_abs_diff %.3e -> %s" % (expect, d, "PASS" if ok else "FAIL"))
        rc |= 0 if ok else 1
        if a.next_step:
            model.train()
            out = model(io["input"].clone())
            loss = torch.nn.CrossEntropyLoss()(out, io["target"])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            java = check_keys.unwrap(torch.load(a.next_step, map_location="cpu", weights_only=True))[0]
            ref_sd = model.module.state_dict()
            sat, srt = tol(meta, "after_steps")
            worst, failing = 0.0, []
            for k, v in ref_sd.items():
                w = java[k]
                if v.dtype == torch.int64:
                    if not torch.equal(v, w):
                        failing.append(k)
                    continue
                okk, dk = close(w, v, sat, srt)
                worst = max(worst, dk)
                if not okk:
                    failing.append(k)
            print("one more SGD step in the reference (loss %.6f) vs spikerev's %s: %d keys, max_abs_diff %.3e (atol %g, rtol %g) -> %s%s"
                  % (loss.item(), os.path.basename(a.next_step), len(ref_sd), worst, sat, srt,
                     "PASS" if not failing else "FAIL", "" if not failing else " " + str(failing[:5])))
            rc |= 1 if failing else 0
    return rc


if __name__ == "__main__":
    sys.exit(main())
