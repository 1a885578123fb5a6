"""Import the MPIS-SNNs reference (a local clone of github.com/kiritozc/MPIS-SNNs) with only torch installed.

Used by tools/bench_reference.py (--family mpis). Nothing of the reference is copied; this module only makes its
imports resolvable and builds MPIS_static / MPIS_neuro from a constructor dict:

* packages the reference imports at load time but never calls on the training path (its ``utils`` package pulls in
  matplotlib, torchvision and progress; ``modules/broyden*.py`` import ``scipy.optimize.root``): inert placeholders
  when they are missing. ``tqdm`` and ``termcolor.colored`` get pass-through stand-ins (they are called).
* the reference hard-codes ``torch.zeros(...).cuda()`` for state buffers: on a CPU run ``Tensor.cuda`` becomes the
  identity (process-wide; the benchmark never uses CUDA).
* the reference hard-codes its fusion conv ``downsample0_1`` as Conv2d(256, 256) (static) / Conv2d(32, 32) (neuro);
  for other widths (``fusion_channels`` = c_s1 static / c_hidden neuro) it is replaced by a conv of that width right
  after the reference constructor of SNNFuncStatic / SNNFuncNeuro ran (before the model deep-copies it).
"""
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trevsnn_ref import _InertModules  # noqa: E402

STAND_INS = []  # names of the packages replaced by stand-ins, set by load()
_FUSION = {"width": None}


def _missing(name):
    try:
        importlib.import_module(name)
        return False
    except Exception:  # noqa: BLE001 - missing or broken install
        for k in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[k]
        return True


def _install_passthrough():
    if _missing("tqdm"):
        m = types.ModuleType("tqdm")
        m.__spec__ = importlib.machinery.ModuleSpec("tqdm", None)  # torch._dynamo probes find_spec("tqdm")
        m.tqdm = lambda it=None, *a, **k: it
        sys.modules["tqdm"] = m
        STAND_INS.append("tqdm")
    if _missing("termcolor"):
        m = types.ModuleType("termcolor")
        m.__spec__ = importlib.machinery.ModuleSpec("termcolor", None)
        m.colored = lambda text, *a, **k: text
        sys.modules["termcolor"] = m
        STAND_INS.append("termcolor")


def _patch_fusion(sm):
    """Wraps SNNFuncStatic / SNNFuncNeuro.__init__: a fusion conv of _FUSION['width'] where it differs from 256 / 32."""
    for cls in (sm.SNNFuncStatic, sm.SNNFuncNeuro):
        orig = cls.__init__
        if getattr(orig, "_spikerev_fusion", False):
            continue

        def init(self, *a, _orig=orig, **k):
            _orig(self, *a, **k)
            w = _FUSION["width"]
            if w is not None and self.downsample0_1.in_channels != w:
                self.downsample0_1 = nn.Conv2d(w, w, kernel_size=3, stride=2, padding=1)
        init._spikerev_fusion = True
        cls.__init__ = init


class Ref:
    """The imported reference modules: models (MPIS_static, MPIS_neuro)."""


def load(ref_dir):
    d = os.path.abspath(ref_dir)
    if not os.path.isfile(os.path.join(d, "models", "MPIS_SNNs.py")):
        raise SystemExit("--ref-dir %s: models/MPIS_SNNs.py not found (not an MPIS-SNNs clone)" % ref_dir)
    _install_passthrough()
    for name in ("matplotlib", "torchvision", "progress", "scipy"):
        if importlib.util.find_spec(name) is None or _missing(name):
            sys.meta_path.insert(0, _InertModules(name))
            STAND_INS.append(name)
    torch.Tensor.cuda = lambda self, *a, **k: self
    if d not in sys.path:
        sys.path.insert(0, d)
    r = Ref()
    r.models = importlib.import_module("models.MPIS_SNNs")
    _patch_fusion(importlib.import_module("modules.snn_modules"))
    return r


def build(r, ctor):
    """MPIS_static / MPIS_neuro from a constructor dict (cfg['MODEL'] names plus kind and fusion_channels)."""
    static = ctor["kind"] == "static"
    keys = ["c_in", "c_hidden", "c_s1", "c_s2", "num_classes", "kernel_size_x", "stride_x", "padding_x", "pooling_x",
            "kernel_size_s", "h_hidden", "w_hidden", "dropout", "threshold", "time_step", "vth", "leaky"]
    if static:
        keys.append("c_s3")
    cfg = {"MODEL": {k: ctor[k] for k in keys}, "OPTIM": {"solver": ctor.get("solver", "broy")}}
    _FUSION["width"] = int(ctor.get("fusion_channels") or (ctor["c_s1"] if static else ctor["c_hidden"]))
    try:
        return (r.models.MPIS_static if static else r.models.MPIS_neuro)(cfg)
    finally:
        _FUSION["width"] = None
