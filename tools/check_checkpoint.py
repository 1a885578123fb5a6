#!/usr/bin/env python3
"""Check that a T-RevSNN state_dict written by spikerev (Java) is what PyTorch and the reference expect.

    python tools/check_checkpoint.py CKPT --keys keys-tiny.txt [--key model] [--io IO.pt]
                                     [--ref-dir DIR [--timm auto|real|shim] [--atol 1e-4]]

(a) ``torch.load(CKPT, weights_only=True)``; CKPT is a plain state_dict or a training checkpoint with the
    state_dict under ``--key`` (default: ``model`` when present).
(b) Line-for-line comparison with a keys listing (``key | shape | dtype | kind | alias-of``, as in
    shared/fixtures/t-revsnn/keys-*.txt): same keys in the same order, same shapes and dtypes, buffers where
    the listing says buffer, and the same alias groups (keys that share one storage in the file).
(c) With ``--ref-dir`` (a local clone of github.com/BICLab/T-RevSNN): builds the reference model with its
    factory (``tiny``/``small``, else ``FullNet``), ``load_state_dict(strict=True)``, runs it in eval mode on
    ``IO['input']`` and compares with the logits spikerev computed (``IO['logits']``, final head, and
    ``IO['logits_heads']``, all heads, when present). Needs only torch: see tools/trevsnn_ref.py.

Exit status 0 when every requested check passes, 1 otherwise. Requires torch only.
"""
import argparse
import os
import sys

import torch

BUFFER_LEAVES = ("running_mean", "running_var", "num_batches_tracked")
DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16", torch.bfloat16: "bfloat16",
          torch.int64: "int64", torch.int32: "int32", torch.uint8: "uint8", torch.bool: "bool"}


def read_keys(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 5:
                raise SystemExit("%s: malformed line: %s" % (path, line))
            rows.append(dict(key=parts[0], shape=parts[1], dtype=parts[2], kind=parts[3], alias=parts[4]))
    return rows


def storage_id(t):
    return (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()))


def describe(sd):
    """Rows like the keys listing, from a loaded state_dict (alias-of = first key with the same storage)."""
    first = {}
    rows = []
    for k, v in sd.items():
        sid = storage_id(v)
        alias = first.setdefault(sid, k)
        leaf = k.rsplit(".", 1)[-1]
        rows.append(dict(key=k, shape=str(list(v.shape)), dtype=DTYPES.get(v.dtype, str(v.dtype)),
                         kind="buffer" if leaf in BUFFER_LEAVES else "param", alias="" if alias == k else alias))
    return rows


def compare_rows(got, want, label):
    problems = []
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else None
        w = want[i] if i < len(want) else None
        if g is None or w is None:
            problems.append("line %d: %s only in %s" % (i + 1, (g or w)["key"], label if g else "keys file"))
            continue
        for field in ("key", "shape", "dtype", "kind", "alias"):
            if g[field] != w[field]:
                problems.append("line %d (%s): %s %r, keys file %r" % (i + 1, w["key"], field, g[field], w[field]))
    return problems


def arch_of(sd):
    chans = [sd["subnet0.level%d.blocks.0.dwconv1.weight" % i].shape[0] for i in range(4)]
    kernel = sd["subnet0.level0.blocks.0.dwconv1.weight"].shape[-1]
    nc = sd["cls_blocks.0.classifier.0.weight"].shape[0]
    ns = len({k.split(".")[0] for k in sd if k.startswith("subnet")})
    name = {(64, 128, 256, 384): "tiny", (96, 192, 384, 512): "small"}.get(tuple(chans))
    return name, chans, kernel, nc, ns


def check_reference(sd, io, a):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import trevsnn_ref
    ref = trevsnn_ref.load(a.ref_dir, a.timm)
    name, chans, kernel, nc, ns = arch_of(sd)
    torch.manual_seed(0)
    if name is not None and ns == 4:
        model = trevsnn_ref.build(ref, name, kernel, nc)
        how = "reference %s(save_memory=True, num_classes=%d, kernel_size=%d)" % (name, nc, kernel)
    else:
        model = ref.FullNet(chans, [1, 1, 1, 1], ns, kernel_size=kernel, num_classes=nc, save_memory=True)
        how = "reference FullNet(%s, num_subnet=%d, kernel_size=%d, num_classes=%d)" % (chans, ns, kernel, nc)
    print("(c) %s; timm: %s" % (how, trevsnn_ref.TIMM_SOURCE))
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        print("(c) FAIL load_state_dict(strict=True): %s" % str(e)[:1500])
        return False
    print("(c) load_state_dict(strict=True): OK (%d entries)" % len(sd))
    ok = True
    # the reference's own listing (kinds from named_buffers, aliases from storage) must equal the file's
    bufs = {k for k, _ in model.named_buffers()}
    own = describe(model.state_dict())
    for r in own:
        r["kind"] = "buffer" if r["key"] in bufs else "param"
    probs = compare_rows(describe(sd), own, "file")
    if probs:
        ok = False
        print("(c) FAIL file listing vs reference model: %d differences, first: %s" % (len(probs), probs[:5]))
    else:
        print("(c) key order, shapes, dtypes, kinds and alias groups equal the reference model's")
    if io is None:
        return ok
    x = io["input"].float()
    model.eval()
    with torch.no_grad():
        outs = model(x)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    got = outs[-1]
    exp = io["logits"].float()
    d = (got - exp).abs().max().item()
    print("(c) eval logits (final head) %s: max_abs_diff %.3g (atol %g), argmax equal %s, |logits| max %.3g"
          % (tuple(got.shape), d, a.atol, bool((got.argmax(1) == exp.argmax(1)).all()), exp.abs().max().item()))
    ok = ok and d <= a.atol
    if "logits_heads" in io:
        dh = (torch.stack(list(outs)) - io["logits_heads"].float()).abs().max().item()
        print("(c) eval logits (all %d heads): max_abs_diff %.3g" % (len(outs), dh))
        ok = ok and dh <= a.atol
    return ok


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ckpt")
    p.add_argument("--keys", required=True, help="keys listing (key | shape | dtype | kind | alias-of)")
    p.add_argument("--key", default=None, help="top-level key of a training checkpoint holding the state_dict")
    p.add_argument("--io", default=None, help="torch file with 'input' and Java's 'logits' (and 'logits_heads')")
    p.add_argument("--ref-dir", default=None, help="local clone of BICLab/T-RevSNN: run check (c)")
    p.add_argument("--timm", default="auto", choices=["auto", "real", "shim"])
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    try:
        obj = torch.load(a.ckpt, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        print("(a) FAIL torch.load(weights_only=True): %s: %s" % (type(e).__name__, str(e).splitlines()[0][:300]))
        return 1
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        sd, where = obj, "the file"
    else:
        key = a.key or ("model" if isinstance(obj, dict) and "model" in obj else None)
        if key is None or not isinstance(obj.get(key), dict):
            print("(a) FAIL: no state_dict (top-level: %s)" % (list(obj)[:10] if isinstance(obj, dict) else type(obj)))
            return 1
        sd, where = obj[key], "key %r" % key
    print("(a) torch.load(weights_only=True): OK; state_dict from %s, %s with %d entries"
          % (where, type(sd).__name__, len(sd)))

    want = read_keys(a.keys)
    probs = compare_rows(describe(sd), want, "file")
    groups = {}
    for r in want:
        if r["alias"]:
            groups.setdefault(r["alias"], []).append(r["key"])
    if probs:
        print("(b) FAIL: %d differences from %s" % (len(probs), a.keys))
        for line in probs[:20]:
            print("    " + line)
        ok = False
    else:
        print("(b) OK: %d lines equal %s (keys, order, shapes, dtypes, kinds; %d alias groups, %d alias keys)"
              % (len(want), os.path.basename(a.keys), len(groups), sum(len(v) for v in groups.values())))
        ok = True

    if a.ref_dir:
        io = torch.load(a.io, map_location="cpu", weights_only=True) if a.io else None
        ok = check_reference(sd, io, a) and ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
