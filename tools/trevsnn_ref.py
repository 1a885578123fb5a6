"""Import the T-RevSNN reference (a local clone of github.com/BICLab/T-RevSNN) with only torch installed.

Used by tools/check_checkpoint.py, tools/bench_reference.py and tools/ref_resume.py. Nothing of the
reference is copied; this module only makes its imports resolvable:

* timm: the reference model needs ``timm.models.layers.ScaledStdConv2d`` and ``trunc_normal_``, and
  ``utils.py`` needs ``timm.utils.get_state_dict``. With ``timm="auto"`` the real timm is used when it
  imports (a missing torchvision, which timm imports at load time, is replaced by inert placeholder
  modules); otherwise, or with ``timm="shim"``, a minimal stand-in written from the T-RevSNN spec
  (section 2.2: weight standardization via ``F.batch_norm`` exactly as timm calls it) is installed.
* yacs / apex: stand-ins only if missing (config.py and optimizer.py import them).
"""
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import types
import warnings

warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)

import torch
import torch.nn as nn
import torch.nn.functional as F

TIMM_SOURCE = None  # "timm X.Y.Z" or "shim", set by load()


# ----------------------------------------------------------------------------------------------
# placeholders for an absent torchvision (timm only references names from it at import time)
# ----------------------------------------------------------------------------------------------

class _Inert(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert(name, (), {})

    def __call__(cls, *a, **k):
        raise RuntimeError("placeholder %s: the package it comes from is not installed" % cls.__name__)


class _InertModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, root):
        self.root = root

    def find_spec(self, fullname, path, target=None):
        if fullname == self.root or fullname.startswith(self.root + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        m = types.ModuleType(spec.name)
        m.__path__ = []

        def __getattr__(name):
            if name.startswith("__"):
                raise AttributeError(name)
            return _Inert(name, (), {})
        m.__getattr__ = __getattr__
        return m

    def exec_module(self, module):
        pass


def _drop_modules(prefix):
    for k in [k for k in sys.modules if k == prefix or k.startswith(prefix + ".")]:
        del sys.modules[k]


# ----------------------------------------------------------------------------------------------
# minimal timm stand-in
# ----------------------------------------------------------------------------------------------

class ScaledStdConv2d(nn.Conv2d):
    """Conv2d with per-output-channel weight standardization, gain and fan-in scale (spec 2.2)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=None, dilation=1,
                 groups=1, bias=True, gamma=1.0, eps=1e-6, gain_init=1.0):
        if padding is None:
            k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
            s = stride if isinstance(stride, int) else stride[0]
            padding = ((s - 1) + dilation * (k - 1)) // 2
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias)
        self.gain = nn.Parameter(torch.full((self.out_channels, 1, 1, 1), float(gain_init)))
        self.scale = gamma * self.weight[0].numel() ** -0.5
        self.eps = eps

    def forward(self, x):
        w = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None,
                         weight=(self.gain * self.scale).view(-1), training=True, momentum=0.0,
                         eps=self.eps).reshape_as(self.weight)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


def _trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    return nn.init.trunc_normal_(tensor, mean=mean, std=std, a=a, b=b)


def _get_state_dict(model, unwrap_fn=None):
    m = model.module if hasattr(model, "module") else model
    return m.state_dict()


def _install_timm_shim():
    _drop_modules("timm")
    root = types.ModuleType("timm")
    root.__path__ = []
    models = types.ModuleType("timm.models")
    models.__path__ = []
    layers = types.ModuleType("timm.models.layers")
    layers.ScaledStdConv2d = ScaledStdConv2d
    layers.trunc_normal_ = _trunc_normal_
    utils = types.ModuleType("timm.utils")
    utils.get_state_dict = _get_state_dict
    root.models, models.layers, root.utils, root.layers = models, layers, utils, layers
    for name, mod in (("timm", root), ("timm.models", models), ("timm.models.layers", layers),
                      ("timm.layers", layers), ("timm.utils", utils)):
        sys.modules[name] = mod


def _install_yacs_standin():
    class CfgNode(dict):
        def __init__(self, init_dict=None, key_list=None, new_allowed=False):
            super().__init__({k: CfgNode(v) if type(v) is dict else v for k, v in (init_dict or {}).items()})
            self.__dict__["__immutable__"] = False

        def __getattr__(self, name):
            if name in self:
                return self[name]
            raise AttributeError(name)

        def __setattr__(self, name, value):
            if self.__dict__.get("__immutable__"):
                raise AttributeError("frozen config: " + name)
            self[name] = value

        def _walk(self, flag):
            self.__dict__["__immutable__"] = flag
            for v in self.values():
                if isinstance(v, CfgNode):
                    v._walk(flag)

        def freeze(self):
            self._walk(True)

        def defrost(self):
            self._walk(False)

    CfgNode.__module__ = "yacs.config"
    pkg = types.ModuleType("yacs")
    pkg.__path__ = []
    sub = types.ModuleType("yacs.config")
    sub.CfgNode = sub.CN = CfgNode
    pkg.config = sub
    sys.modules["yacs"], sys.modules["yacs.config"] = pkg, sub


def _install_apex_standin():
    pkg = types.ModuleType("apex")
    pkg.__path__ = []
    sub = types.ModuleType("apex.optimizers")
    sub.FusedAdam = sub.FusedLAMB = None
    pkg.optimizers = sub
    sys.modules["apex"], sys.modules["apex.optimizers"] = pkg, sub


def load(ref_dir, timm="auto"):
    """Makes the reference importable; returns its ``models.spike_rev_reuse`` module."""
    global TIMM_SOURCE
    if not os.path.isfile(os.path.join(ref_dir, "models", "spike_rev_reuse.py")):
        raise SystemExit("--ref-dir %s: models/spike_rev_reuse.py not found (not a T-RevSNN clone)" % ref_dir)
    if timm not in ("auto", "real", "shim"):
        raise SystemExit("timm must be auto, real or shim")
    if timm != "shim":
        try:
            if importlib.util.find_spec("torchvision") is None:
                sys.meta_path.insert(0, _InertModules("torchvision"))
            real = importlib.import_module("timm")
            importlib.import_module("timm.models.layers")
            importlib.import_module("timm.utils")
            TIMM_SOURCE = "timm " + getattr(real, "__version__", "?")
        except Exception as e:  # noqa: BLE001 - any import failure means: use the stand-in
            if timm == "real":
                raise SystemExit("real timm requested but it does not import: %s: %s" % (type(e).__name__, e))
            _drop_modules("timm")
    if TIMM_SOURCE is None:
        _install_timm_shim()
        TIMM_SOURCE = "shim (tools/trevsnn_ref.py)"
    if importlib.util.find_spec("yacs") is None:
        _install_yacs_standin()
    if importlib.util.find_spec("apex") is None:
        _install_apex_standin()
    ref_dir = os.path.abspath(ref_dir)
    if ref_dir not in sys.path:
        sys.path.insert(0, ref_dir)
    return importlib.import_module("models.spike_rev_reuse")


def build(net_module, name, kernel, num_classes, save_memory=True):
    """The reference factory tiny()/small() (FullNet for channels given as 'c0,c1,c2,c3')."""
    if name in ("tiny", "small"):
        return getattr(net_module, name)(save_memory, inter_supv=True, num_classes=num_classes, kernel_size=kernel)
    chans = [int(c) for c in name.split(",")]
    return net_module.FullNet(chans, [1, 1, 1, 1], 4, kernel_size=kernel, num_classes=num_classes,
                              save_memory=save_memory, inter_supv=True)
