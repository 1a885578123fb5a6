#!/usr/bin/env python3
"""torch.save / torch.load(weights_only=True) throughput in MB/s, the Python side of the JMH CheckpointIOBench.

    python tools/bench_checkpoint_io.py FILE [--tensors 12] [--elements 1048576] [--reps 10] [--warmup 2]
                                             [--threads N] [--keep]

Builds the same data as ``CheckpointIOBench`` with its default parameters: a ``collections.OrderedDict`` state_dict
of ``--tensors`` float32 tensors of ``--elements`` random elements each, keys ``layer0.weight`` ... (12 x 2^20
elements = 50.3 MB of tensor data). It then times ``torch.save(sd, FILE)`` and ``torch.load(FILE,
weights_only=True)`` ``--reps`` times each, after ``--warmup`` untimed calls, and prints one line per operation:
the median, min and max time per call and the median throughput in MB/s, where 1 MB is 10^6 bytes of tensor data
(as in the JMH ``:mbPerSecond`` rows). FILE is written and read in place (use the same file system as the Java run:
``-p dir=...`` there), so the load mostly reads the page cache, like the Java benchmark. FILE is deleted at the end
unless ``--keep``. Requires torch only.
"""
import argparse
import collections
import os
import statistics
import sys
import time

import torch


def make_state_dict(tensors, elements, seed=0):
    g = torch.Generator().manual_seed(seed)
    return collections.OrderedDict(
        ("layer%d.weight" % i, torch.randn(elements, generator=g, dtype=torch.float32)) for i in range(tensors))


def timed(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def report(name, times, megabytes):
    med = statistics.median(times)
    print("%-10s median %8.2f ms  min %8.2f ms  max %8.2f ms  (%d calls)  %9.1f MB/s"
          % (name, med * 1e3, min(times) * 1e3, max(times) * 1e3, len(times), megabytes / med))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="checkpoint file to write and read (deleted at the end unless --keep)")
    ap.add_argument("--tensors", type=int, default=12, help="number of tensors (default 12)")
    ap.add_argument("--elements", type=int, default=1 << 20, help="float32 elements per tensor (default 1048576)")
    ap.add_argument("--reps", type=int, default=10, help="timed calls per operation (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed calls before timing (default 2)")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: torch's own)")
    ap.add_argument("--keep", action="store_true", help="keep FILE afterwards")
    a = ap.parse_args(argv)
    for name in ("tensors", "elements", "reps"):
        if getattr(a, name) < 1:
            ap.error("--%s must be >= 1, found %d" % (name, getattr(a, name)))
    if a.warmup < 0:
        ap.error("--warmup must be >= 0, found %d" % a.warmup)
    if a.threads > 0:
        torch.set_num_threads(a.threads)

    sd = make_state_dict(a.tensors, a.elements)
    nbytes = sum(t.numel() * t.element_size() for t in sd.values())
    megabytes = nbytes / 1e6
    try:
        torch.save(sd, a.file)
        print("torch %s, %d threads: %d float32 tensors x %d elements = %.1f MB of tensor data, file %d bytes, %s"
              % (torch.__version__, torch.get_num_threads(), a.tensors, a.elements, megabytes,
                 os.path.getsize(a.file), a.file))
        report("torch.save", timed(lambda: torch.save(sd, a.file), a.reps, a.warmup), megabytes)
        back = torch.load(a.file, weights_only=True)
        if list(back) != list(sd) or not all(torch.equal(back[k], sd[k]) for k in sd):
            print("error: torch.load returned different data", file=sys.stderr)
            return 1
        del back
        report("torch.load", timed(lambda: torch.load(a.file, weights_only=True), a.reps, a.warmup), megabytes)
    finally:
        if not a.keep and os.path.exists(a.file):
            os.remove(a.file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
