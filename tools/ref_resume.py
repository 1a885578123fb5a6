#!/usr/bin/env python3
"""Resume the T-RevSNN reference from a checkpoint with the reference's own ``utils.load_checkpoint``.

    python tools/ref_resume.py CKPT --ref-dir DIR [--model-ema 1] [--io IO.pt --expect KEY] [--timm auto|real|shim]

Builds the reference model for the checkpoint's architecture (factory tiny/small, else FullNet), a minimal
config with MODEL.RESUME=CKPT, MODEL_EMA, EVAL_MODE=False, TRAIN.START_EPOCH=0, a ModelEma-like holder and a
logger, and calls ``utils.load_checkpoint(config, model, None, logger, model_ema)`` unchanged. That call uses
``torch.load(path, map_location="cpu")``, i.e. torch's default ``weights_only`` (True since torch 2.6).
Prints the resumed START_EPOCH and max_accuracy, which weights went into the model, and, with ``--io``, the
model's eval logits on IO['input'] against IO[--expect]. Exit 0 when load_checkpoint succeeds (and the logits
match within --atol). Requires torch only (plus the reference clone).
"""
import argparse
import copy
import logging
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trevsnn_ref  # noqa: E402


class Cfg(dict):
    """Attribute dict with yacs' defrost()/freeze() (all that load_checkpoint uses)."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k)

    def __setattr__(self, k, v):
        self[k] = v

    def defrost(self):
        pass

    def freeze(self):
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ckpt")
    p.add_argument("--ref-dir", required=True)
    p.add_argument("--model-ema", type=int, default=1)
    p.add_argument("--io", default=None)
    p.add_argument("--expect", default="logits_eval_after_steps")
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--timm", default="auto", choices=["auto", "real", "shim"])
    a = p.parse_args()
    torch.set_num_threads(2)

    net = trevsnn_ref.load(a.ref_dir, a.timm)
    import utils as ref_utils  # the reference's utils.py (load_checkpoint)

    # architecture from the file itself (read with weights_only=True: the same reader load_checkpoint gets)
    peek = torch.load(a.ckpt, map_location="cpu", weights_only=True)
    sd = peek["model"]
    chans = [sd["subnet0.level%d.blocks.0.dwconv1.weight" % i].shape[0] for i in range(4)]
    kernel = sd["subnet0.level0.blocks.0.dwconv1.weight"].shape[-1]
    nc = sd["cls_blocks.0.classifier.0.weight"].shape[0]
    ns = len({k.split(".")[0] for k in sd if k.startswith("subnet")})
    model = net.FullNet(chans, [1, 1, 1, 1], ns, kernel_size=kernel, num_classes=nc, save_memory=True)
    holder = type("Ema", (), {})()
    holder.ema = copy.deepcopy(model)

    config = Cfg(MODEL=Cfg(RESUME=a.ckpt), MODEL_EMA=bool(a.model_ema), EVAL_MODE=False, TRAIN=Cfg(START_EPOCH=0))
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="  [reference] %(message)s")
    log = logging.getLogger("ref_resume")
    print("timm: %s; torch %s; top-level keys: %s" % (trevsnn_ref.TIMM_SOURCE, torch.__version__, list(peek)))
    try:
        max_acc = ref_utils.load_checkpoint(config, model, None, log, holder if a.model_ema else None)
    except Exception as e:  # noqa: BLE001
        print("FAIL: reference load_checkpoint raised %s: %s" % (type(e).__name__, str(e).splitlines()[0][:400]))
        return 1
    src = "state_dict_ema" if "state_dict_ema" in peek else "model"
    same = all(torch.equal(model.state_dict()[k], peek[src][k]) for k in peek[src])
    print("load_checkpoint OK: START_EPOCH=%d max_accuracy=%r; model weights from %r (equal to the file: %s)"
          % (config.TRAIN.START_EPOCH, max_acc, src, same))
    ok = same
    if a.model_ema:
        esame = all(torch.equal(holder.ema.state_dict()[k], peek[src][k]) for k in peek[src])
        print("model_ema.ema weights from %r (equal to the file: %s)" % (src, esame))
        ok = ok and esame
    if a.io:
        io = torch.load(a.io, map_location="cpu", weights_only=True)
        model.eval()
        with torch.no_grad():
            got = model(io["input"].float())[-1]
        d = (got - io[a.expect].float()).abs().max().item()
        print("eval logits vs %s: max_abs_diff %.3g (atol %g)" % (a.expect, d, a.atol))
        ok = ok and d <= a.atol
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
