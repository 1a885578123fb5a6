"""Canonical dump of torch.save files for the checkpoint tests (mirrors CanonicalDump.java).

usage: ckpt_dump.py [--weights-only] FILE...   prints 'FILE <path>' then one line per value.
Without --weights-only, files that weights_only=True refuses (argparse.Namespace, yacs CfgNode,
builtins.input) are loaded with a restricted unpickler that maps CfgNode to a dict subclass.
"""
import collections, hashlib, math, pickle, struct, sys, types
import torch


class CfgNode(dict):
    pass


CfgNode.__module__ = "yacs.config"


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("yacs.config", "CfgNode"):
            return CfgNode
        return super().find_class(module, name)


_pm = types.ModuleType("restricted_pickle")
_pm.Unpickler = _Unpickler
_pm.load = pickle.load


def load(path, weights_only_only):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        if weights_only_only:
            raise
        return torch.load(path, map_location="cpu", weights_only=False, pickle_module=_pm)


def seg(k):
    if isinstance(k, str):
        return "/" + k
    if isinstance(k, bool) or k is None:
        return "/?" + repr(k)
    if isinstance(k, int):
        return "/#" + str(k)
    return "/?" + repr(k)


def fsum_hex(t):
    vals = t.detach().double().flatten().tolist()
    if not all(math.isfinite(v) for v in vals):
        return "nonfinite"
    return struct.pack(">d", math.fsum(vals)).hex()


def tensor_line(path, t, groups):
    t = t.detach()
    ptr = t.untyped_storage().data_ptr()
    nbytes = t.untyped_storage().nbytes()
    if nbytes == 0:
        group = "-"
    else:
        group = groups.setdefault(ptr, path or "<root>")
    raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    dtype = str(t.dtype).replace("torch.", "")
    return "T %s %s %s %s %d %s %s %s" % (
        path or "<root>", dtype, list(t.shape), list(t.stride()), t.storage_offset(), group,
        hashlib.sha256(raw).hexdigest(), fsum_hex(t))


def walk(path, v, out, groups):
    p = path or "<root>"
    if isinstance(v, torch.Tensor):
        out.append(tensor_line(path, v, groups))
    elif type(v) in (dict, collections.OrderedDict):
        out.append("D %s %s %d" % (p, "OrderedDict" if type(v) is collections.OrderedDict else "dict", len(v)))
        for k, x in v.items():
            walk(path + seg(k), x, out, groups)
    elif type(v) is list:
        out.append("L %s %d" % (p, len(v)))
        for i, x in enumerate(v):
            walk(path + "/[%d]" % i, x, out, groups)
    elif type(v) in (tuple, torch.Size):
        out.append("U %s %d" % (p, len(v)))
        for i, x in enumerate(v):
            walk(path + "/[%d]" % i, x, out, groups)
    elif v is None:
        out.append("S %s None" % p)
    elif isinstance(v, bool):
        out.append("S %s bool %s" % (p, v))
    elif isinstance(v, int) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iu" and not isinstance(v, float)):
        out.append("S %s int %d" % (p, int(v)))
    elif isinstance(v, float):
        out.append("S %s float %s" % (p, struct.pack(">d", float(v)).hex()))
    elif isinstance(v, str):
        out.append("S %s str %s" % (p, v.encode("utf-8").hex()))
    elif isinstance(v, bytes):
        out.append("S %s bytes %s" % (p, v.hex()))
    else:
        if isinstance(v, (types.BuiltinFunctionType, types.FunctionType, type)):
            name = v.__module__ + "." + v.__qualname__
        else:
            name = type(v).__module__ + "." + type(v).__qualname__
        out.append("O %s %s" % (p, name))


def main():
    args = sys.argv[1:]
    wo = False
    if args and args[0] == "--weights-only":
        wo, args = True, args[1:]
    for f in args:
        out, groups = [], {}
        walk("", load(f, wo), out, groups)
        print("FILE " + f)
        print("\n".join(out))


main()
