#!/usr/bin/env python3
"""Compare a state_dict file with a keys listing, line for line (any model family).

    python tools/check_keys.py CKPT KEYS.txt [--key NAME] [--strip-prefix PREFIX]

CKPT is loaded with ``torch.load(weights_only=True)``. It may be a plain state_dict or a training checkpoint
holding one under ``--key`` (default: the first of model, state_dict, model_state_dict, net that is a dict of
tensors). ``--strip-prefix`` removes a prefix from every key (default: ``module.`` when every key has it, as
DataParallel writes).

KEYS.txt is a listing as in shared/fixtures/<family>/keys-*.txt: one line per entry,
``key | shape | dtype | kind | alias-of`` (``#`` lines are comments; shapes as ``(a, b)`` or ``[a, b]``;
``alias-of`` = the first key holding the same tensor, empty for a canonical entry). Checked: the same keys in
the same order, the same shapes and dtypes, and the same alias groups (keys sharing one storage in the file).
``kind`` (param/buffer) cannot be seen in a file and is only counted.

Exit status 0 when everything matches, 1 otherwise. Requires torch only. Importable: read_keys, describe,
compare, unwrap.
"""
import argparse
import re
import sys

import torch

MODEL_KEYS = ("model", "state_dict", "model_state_dict", "net")


def read_keys(path):
    """Rows {key, shape (tuple), dtype, kind, alias} of a keys listing."""
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 4:
                raise SystemExit("%s:%d: malformed line (want key | shape | dtype | kind | alias-of): %s" % (path, n, line))
            parts += [""] * (5 - len(parts))
            shape = tuple(int(s) for s in re.findall(r"-?\d+", parts[1]))
            rows.append(dict(key=parts[0], shape=shape, dtype=parts[2].replace("torch.", ""), kind=parts[3], alias=parts[4]))
    return rows


def _is_sd(o):
    return isinstance(o, dict) and len(o) > 0 and all(isinstance(k, str) and torch.is_tensor(v) for k, v in o.items())


def unwrap(obj, key=None, strip_prefix=None):
    """The state_dict inside a loaded checkpoint, prefix removed; returns (state_dict, where, prefix)."""
    where = "file"
    if key:
        sd, where = obj[key], "key '%s'" % key
    elif _is_sd(obj):
        sd = obj
    else:
        found = [k for k in MODEL_KEYS if isinstance(obj, dict) and _is_sd(obj.get(k))]
        if not found:
            raise SystemExit("no state_dict found (top-level keys: %s); pass --key" % (list(obj) if isinstance(obj, dict) else type(obj)))
        sd, where = obj[found[0]], "key '%s'" % found[0]
    if strip_prefix is None:
        strip_prefix = "module." if sd and all(k.startswith("module.") for k in sd) else ""
    if strip_prefix:
        bad = [k for k in sd if not k.startswith(strip_prefix)]
        if bad:
            raise SystemExit("--strip-prefix %r: key %r does not have it" % (strip_prefix, bad[0]))
        sd = type(sd)((k[len(strip_prefix):], v) for k, v in sd.items())
    return sd, where, strip_prefix


def describe(sd):
    """Rows like the listing from a state_dict (alias = first key with the same storage, offset, shape, stride)."""
    first, rows = {}, []
    for k, v in sd.items():
        sid = (v.untyped_storage().data_ptr(), v.storage_offset(), tuple(v.shape), tuple(v.stride()))
        a = first.setdefault(sid, k)
        rows.append(dict(key=k, shape=tuple(v.shape), dtype=str(v.dtype).replace("torch.", ""), alias="" if a == k else a))
    return rows


def compare(expected, actual, limit=10):
    """Problems (strings) between listing rows and describe() rows; empty when they match line for line."""
    problems = []
    if len(expected) != len(actual):
        problems.append("%d entries in the listing, %d in the file" % (len(expected), len(actual)))
    for i, (e, a) in enumerate(zip(expected, actual), 1):
        for f in ("key", "shape", "dtype", "alias"):
            if e[f] != a[f]:
                problems.append("line %d (%s): %s %r in the listing, %r in the file" % (i, e["key"], f, e[f], a[f]))
                break
        if len(problems) >= limit:
            problems.append("...")
            break
    ek, ak = [r["key"] for r in expected], [r["key"] for r in actual]
    missing, extra = sorted(set(ek) - set(ak)), sorted(set(ak) - set(ek))
    if missing:
        problems.append("missing in the file (%d): %s" % (len(missing), missing[:limit]))
    if extra:
        problems.append("not in the listing (%d): %s" % (len(extra), extra[:limit]))
    return problems


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ckpt")
    p.add_argument("keys")
    p.add_argument("--key", default=None)
    p.add_argument("--strip-prefix", default=None)
    a = p.parse_args(argv)
    obj = torch.load(a.ckpt, map_location="cpu", weights_only=True)
    sd, where, prefix = unwrap(obj, a.key, a.strip_prefix)
    exp, act = read_keys(a.keys), describe(sd)
    problems = compare(exp, act)
    kinds = {}
    for r in exp:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    if problems:
        print("FAIL %s (%s%s) vs %s:" % (a.ckpt, where, ", prefix %r stripped" % prefix if prefix else "", a.keys))
        for q in problems:
            print("  " + q)
        return 1
    print("OK %s (%s%s): %d entries equal %s line for line (keys, order, shapes, dtypes, %d aliases); kinds %s" % (
        a.ckpt, where, ", prefix %r stripped" % prefix if prefix else "", len(act), a.keys,
        sum(1 for r in act if r["alias"]), kinds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
