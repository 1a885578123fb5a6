"""Dumps a fixture case's model.pth / io.pt / checkpoint.pth tensors as raw little-endian files + index.txt.

Interim bridge until dev.spikerev.checkpoint.TorchFile lands: the Java tests read index.txt
(name <TAB> dtype <TAB> shape (comma-separated, empty for 0-d) <TAB> file). Names:
  model/<state_dict key>, io/<key>[/<nested key>...], ckpt/<key>[/...].
Non-tensor scalars (ints/floats) are written as 0-d float64 tensors; other objects are skipped.
"""
import os
import sys

import torch

case_dir, out_dir = sys.argv[1], sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
rows = []
DT = {torch.float32: 'float32', torch.float64: 'float64', torch.int64: 'int64', torch.uint8: 'uint8',
      torch.int32: 'int32', torch.bool: 'bool'}


def put(name, t):
    if isinstance(t, bool):
        t = torch.tensor(float(t), dtype=torch.float64)
    elif isinstance(t, (int, float)):
        t = torch.tensor(float(t), dtype=torch.float64)
    if not isinstance(t, torch.Tensor):
        return
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    fn = 't%05d.bin' % len(rows)
    with open(os.path.join(out_dir, fn), 'wb') as f:
        f.write(t.numpy().tobytes())
    rows.append('%s\t%s\t%s\t%s' % (name, DT[t.dtype], ','.join(str(s) for s in t.shape), fn))


def walk(prefix, obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            walk(prefix + '/' + str(k), v)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            walk(prefix + '/' + str(i), v)
    else:
        put(prefix, obj)


walk('model', torch.load(os.path.join(case_dir, 'model.pth'), map_location='cpu', weights_only=True))
walk('io', torch.load(os.path.join(case_dir, 'io.pt'), map_location='cpu', weights_only=True))
ck = os.path.join(case_dir, 'checkpoint.pth')
if os.path.exists(ck):
    walk('ckpt', torch.load(ck, map_location='cpu', weights_only=True))
with open(os.path.join(out_dir, 'index.txt'), 'w') as f:
    f.write('\n'.join(rows) + '\n')
print(len(rows))
