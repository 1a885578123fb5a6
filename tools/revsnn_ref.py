"""Import the RevSNN reference (a local clone of github.com/mi804/RevSNN) with only torch installed.

Used by tools/bench_reference.py (--family revsnn). Nothing of the reference is copied; this module only makes
its imports resolvable and builds its CIFAR models:

* spikingjelly: the reference pins 0.0.0.0.12 (CuPy kernels), which cannot be installed here. When
  ``spikingjelly.clock_driven`` does not import, a minimal stand-in of the few names the reference imports is
  installed (``functional.reset_net``, ``neuron.MultiStepIFNode`` / ``MultiStepLIFNode``, ``layer.SeqToANNContainer``,
  ``surrogate.ATan`` / ``Sigmoid``, ``base.MemoryModule``), written from the RevSNN spec section 2: IF / LIF
  (decay_input, hard reset to 0, ``detach_reset=True``), spike iff ``H >= v_th``, surrogate-gradient BPTT through
  time in one fused autograd Function per neuron call (as the CuPy backend does), state kept until ``reset()``.
* timm: ``revmodel.py`` imports ``to_2tuple, trunc_normal_, DropPath, register_model, _cfg, create_model``. The
  real timm is used when it imports (a missing torchvision is replaced by inert placeholders); otherwise a stand-in.
* torchvision: ``revs_resnet.py`` imports it without using it; inert placeholders when it is missing.
"""
import importlib
import importlib.machinery
import importlib.util
import math
import os
import sys
import types

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trevsnn_ref import _InertModules, _drop_modules  # noqa: E402

SPIKINGJELLY_SOURCE = None  # "spikingjelly X" or "stand-in (tools/revsnn_ref.py)", set by load()
TIMM_SOURCE = None


# ----------------------------------------------------------------------------------------------
# minimal SpikingJelly stand-in (clock_driven API of 0.0.0.0.12, only what RevSNN uses)
# ----------------------------------------------------------------------------------------------

class ATan:
    """g'(x) = (alpha/2) / (1 + (pi/2 * alpha * x)^2)."""

    def __init__(self, alpha=2.0, spiking=True):
        self.alpha = alpha

    def derivative(self, x):
        return (self.alpha / 2) / (1 + (math.pi / 2 * self.alpha * x).square())

    def __call__(self, x):
        return (x >= 0).to(x.dtype)


class Sigmoid:
    """g'(x) = alpha * s * (1 - s), s = sigmoid(alpha * x)."""

    def __init__(self, alpha=4.0, spiking=True):
        self.alpha = alpha

    def derivative(self, x):
        s = torch.sigmoid(self.alpha * x)
        return self.alpha * s * (1 - s)

    def __call__(self, x):
        return (x >= 0).to(x.dtype)


class _MultiStepSpike(torch.autograd.Function):
    """Spikes of T steps of an IF (tau None) or LIF neuron on x_seq [T, N] from v0 [N]; returns (spikes, last V)."""

    @staticmethod
    def forward(ctx, x_seq, v0, tau, v_th, sg):
        h_seq, s_seq = torch.empty_like(x_seq), torch.empty_like(x_seq)
        rt = torch.tensor(1.0 / tau, dtype=x_seq.dtype) if tau is not None else None
        v = v0
        for t in range(x_seq.shape[0]):
            h = v + rt * (x_seq[t] - v) if tau is not None else v + x_seq[t]
            s = (h >= v_th).to(x_seq.dtype)
            h_seq[t], s_seq[t] = h, s
            v = h * (1 - s)  # hard reset to 0
        ctx.save_for_backward(h_seq, s_seq)
        ctx.tau, ctx.v_th, ctx.sg = tau, v_th, sg
        return s_seq, v

    @staticmethod
    def backward(ctx, g_s, g_v):
        h_seq, s_seq = ctx.saved_tensors
        tau = ctx.tau
        k = (1.0 - 1.0 / tau) if tau is not None else 1.0
        g_x = torch.empty_like(h_seq)
        gh = None
        for t in range(h_seq.shape[0] - 1, -1, -1):
            carry = gh * k * (1 - s_seq[t]) if gh is not None else 0.0  # detach_reset: dV/dH = 1 - S
            gh = g_s[t] * ctx.sg.derivative(h_seq[t] - ctx.v_th) + carry
            g_x[t] = gh / tau if tau is not None else gh
        return g_x, None, None, None, None


class MemoryModule(nn.Module):
    def reset(self):
        self.v = 0.0


class MultiStepIFNode(MemoryModule):
    tau = None

    def __init__(self, v_threshold=1.0, v_reset=0.0, surrogate_function=None, detach_reset=False, backend="torch", **kwargs):
        super().__init__()
        if v_reset != 0.0 or not detach_reset:
            raise NotImplementedError("spikingjelly stand-in: only hard reset to 0 with detach_reset=True (what RevSNN uses)")
        self.v_threshold = v_threshold
        self.surrogate_function = surrogate_function if surrogate_function is not None else Sigmoid()
        self.v = 0.0

    def forward(self, x_seq):
        flat = x_seq.flatten(1)
        v0 = self.v if isinstance(self.v, torch.Tensor) else torch.zeros_like(flat[0])
        s, v = _MultiStepSpike.apply(flat, v0, self.tau, self.v_threshold, self.surrogate_function)
        self.v = v.detach()
        return s.view(x_seq.shape)


class MultiStepLIFNode(MultiStepIFNode):
    def __init__(self, tau=2.0, decay_input=True, v_threshold=1.0, v_reset=0.0, surrogate_function=None,
                 detach_reset=False, backend="torch", **kwargs):
        if not decay_input:
            raise NotImplementedError("spikingjelly stand-in: only decay_input=True (what RevSNN uses)")
        super().__init__(v_threshold, v_reset, surrogate_function, detach_reset, backend)
        self.tau = tau


class MultiStepParametricLIFNode(MemoryModule):
    def __init__(self, *a, **k):
        raise NotImplementedError("spikingjelly stand-in: MultiStepParametricLIFNode is imported but not used by RevSNN")


class SeqToANNContainer(nn.Sequential):
    """Stateless layers on the time-merged [T*B, ...] tensor (an nn.Sequential, so keys get .0, .1, ...)."""

    def forward(self, x_seq):
        y = super().forward(x_seq.flatten(0, 1))
        return y.view(x_seq.shape[0], x_seq.shape[1], *y.shape[1:])


def reset_net(net):
    for m in net.modules():
        if hasattr(m, "reset"):
            m.reset()


def _module(name, package=False):
    """A stand-in module with a spec (torch._dynamo calls find_spec on some module names)."""
    m = types.ModuleType(name)
    m.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=package)
    if package:
        m.__path__ = []
    return m


def _install_spikingjelly_standin():
    _drop_modules("spikingjelly")
    root = _module("spikingjelly", True)
    cd = _module("spikingjelly.clock_driven", True)
    subs = {
        "functional": {"reset_net": reset_net},
        "neuron": {"MultiStepIFNode": MultiStepIFNode, "MultiStepLIFNode": MultiStepLIFNode,
                   "MultiStepParametricLIFNode": MultiStepParametricLIFNode},
        "layer": {"SeqToANNContainer": SeqToANNContainer},
        "surrogate": {"ATan": ATan, "Sigmoid": Sigmoid},
        "base": {"MemoryModule": MemoryModule},
    }
    sys.modules["spikingjelly"], sys.modules["spikingjelly.clock_driven"] = root, cd
    root.clock_driven = cd
    for name, attrs in subs.items():
        m = _module("spikingjelly.clock_driven." + name)
        m.__dict__.update(attrs)
        setattr(cd, name, m)
        sys.modules[m.__name__] = m


# ----------------------------------------------------------------------------------------------
# minimal timm stand-in (the names revmodel.py imports)
# ----------------------------------------------------------------------------------------------

class DropPath(nn.Module):
    def __init__(self, drop_prob=0.0, scale_by_keep=True):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


def _to_2tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x, x)


def _install_timm_standin():
    _drop_modules("timm")
    mods = {n: _module(n, n in ("timm", "timm.models")) for n in ("timm", "timm.models", "timm.models.layers",
                                                                   "timm.models.registry", "timm.models.vision_transformer")}
    layers = mods["timm.models.layers"]
    layers.to_2tuple, layers.DropPath = _to_2tuple, DropPath
    layers.trunc_normal_ = lambda t, mean=0.0, std=1.0, a=-2.0, b=2.0: nn.init.trunc_normal_(t, mean, std, a, b)
    mods["timm.models.registry"].register_model = lambda fn: fn
    mods["timm.models.vision_transformer"]._cfg = lambda url="", **kw: dict(url=url, **kw)

    def create_model(*a, **k):
        raise NotImplementedError("timm stand-in: create_model is not available; build the model class directly")
    mods["timm.models"].create_model = create_model
    mods["timm"].models = mods["timm.models"]
    mods["timm.models"].layers = layers
    mods["timm.models"].registry = mods["timm.models.registry"]
    mods["timm.models"].vision_transformer = mods["timm.models.vision_transformer"]
    sys.modules.update(mods)


# ----------------------------------------------------------------------------------------------

class Ref:
    """The imported reference modules: revtorch, revs_resnet, revmodel, functional (reset_net)."""


def _importable(name):
    try:
        importlib.import_module(name)
        return True
    except Exception:  # noqa: BLE001 - missing or broken install
        return False


def load(ref_dir):
    """Makes the reference's CIFAR folder importable (REF or REF/cifar10) and imports its model files."""
    global SPIKINGJELLY_SOURCE, TIMM_SOURCE
    d = os.path.abspath(ref_dir)
    if not os.path.isfile(os.path.join(d, "revtorch.py")) and os.path.isfile(os.path.join(d, "cifar10", "revtorch.py")):
        d = os.path.join(d, "cifar10")
    if not os.path.isfile(os.path.join(d, "revtorch.py")) or not os.path.isfile(os.path.join(d, "revs_resnet.py")):
        raise SystemExit("--ref-dir %s: revtorch.py / revs_resnet.py not found (not a RevSNN clone or its cifar10 folder)" % ref_dir)
    if importlib.util.find_spec("torchvision") is None:
        sys.meta_path.insert(0, _InertModules("torchvision"))
    if _importable("spikingjelly.clock_driven.neuron") and _importable("spikingjelly.clock_driven.layer"):
        SPIKINGJELLY_SOURCE = "spikingjelly " + getattr(sys.modules["spikingjelly"], "__version__", "?")
    else:
        _install_spikingjelly_standin()
        SPIKINGJELLY_SOURCE = "stand-in (tools/revsnn_ref.py)"
    if _importable("timm.models.layers") and _importable("timm.models.registry") and _importable("timm.models.vision_transformer"):
        TIMM_SOURCE = "timm " + getattr(sys.modules["timm"], "__version__", "?")
    else:
        _install_timm_standin()
        TIMM_SOURCE = "stand-in (tools/revsnn_ref.py)"
    if d not in sys.path:
        sys.path.insert(0, d)
    r = Ref()
    r.revtorch = importlib.import_module("revtorch")
    r.revs_resnet = importlib.import_module("revs_resnet")
    r.revmodel = importlib.import_module("revmodel")
    r.functional = importlib.import_module("spikingjelly.clock_driven.functional")
    return r


def build(r, ctor):
    """The CIFAR model of a constructor dict (reference argument names, as spikerev bench speed passes them)."""
    nc, T = int(ctor["num_classes"]), int(ctor["T"])
    if ctor["cls"] == "RevSResNet":
        return r.revs_resnet.RevSResNet(r.revs_resnet.BasicResidualBlock, list(ctor["layers"]), list(ctor["planes"]),
                                        num_classes=nc, T=T)
    if ctor["cls"] == "rev_vit_snn":
        return r.revmodel.rev_vit_snn(img_size_h=32, img_size_w=32, patch_size=4, in_channels=3, num_classes=nc,
                                      embed_dims=int(ctor["embed_dims"]), num_heads=int(ctor["num_heads"]),
                                      mlp_ratios=ctor.get("mlp_ratios", 4), qkv_bias=False, depths=int(ctor["depths"]),
                                      sr_ratios=1, T=T)
    raise SystemExit("revsnn: constructor cls must be RevSResNet or rev_vit_snn, found %r" % ctor["cls"])


def make_plain(r):
    """Runs every ReversibleSequence of the reference as plain autograd (same math: y1 = x1 + F(x2), y2 = x2 + G(y1)):
    the BPTT comparison of --save-memory 0. Patches the class (process-wide)."""
    RS = r.revtorch.ReversibleSequence

    def forward(self, x):
        for blk in self.reversible_blocks:
            x1, x2 = torch.chunk(x, 2, dim=blk.split_along_dim)
            y1 = x1 + blk.f_block(x2)
            x = torch.cat([y1, x2 + blk.g_block(y1)], dim=blk.split_along_dim)
        r.functional.reset_net(self.reversible_blocks)
        return x
    RS.forward = forward
