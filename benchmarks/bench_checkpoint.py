"""Checkpointing: peak memory and time of forward plus backward, with and without.

    OMP_NUM_THREADS=1 python benchmarks/bench_checkpoint.py [--layers 64] [--width 512]

A 64-layer MLP (Linear + ReLU), 512 wide, batch 256, float32; the checkpointed
copy recomputes every run of 8 layers during the backward sweep
(``cr.nn.Sequential(..., checkpoint_every=16)``: 16 modules = 8 Linear+ReLU
layers). Peak memory is tracemalloc's (NumPy reports its arrays to it),
counted from just before the forward pass; the gradients are checked identical.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402


def run(model: cr.nn.Sequential, x: cr.Tensor) -> tuple[float, float, list[np.ndarray]]:
    model.zero_grad()
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    cr.sum(model(x)).backward()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20, seconds, [p.grad.numpy().copy() for p in model.parameters()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=64)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--every", type=int, default=8, help="layers per segment")
    args = parser.parse_args()
    cr.random.seed(0)
    layers = []
    for _ in range(args.layers):
        layers += [cr.nn.Linear(args.width, args.width), cr.nn.ReLU()]
    plain = cr.nn.Sequential(*layers)
    checked = cr.nn.Sequential(*layers, checkpoint_every=2 * args.every)
    x = cr.tensor(np.random.default_rng(0).standard_normal((args.batch, args.width)),
                  dtype="float32")
    run(plain, x)  # warm up
    best = {}
    for name, model in (("plain", plain), ("checkpointed", checked)):
        peaks, times = [], []
        for _ in range(3):
            peak, seconds, grads = run(model, x)
            peaks.append(peak)
            times.append(seconds)
        best[name] = (min(peaks), min(times), grads)
    same = all(np.array_equal(a, b) for a, b in zip(best["plain"][2], best["checkpointed"][2]))
    grads_mb = sum(p.data.nbytes for p in plain.parameters()) / 2**20
    print(f"MLP {args.layers} x {args.width}, batch {args.batch}, float32, checkpoint every "
          f"{args.every} layers (parameter gradients alone: {grads_mb:.0f} MiB)")
    for name, (peak, seconds, _) in best.items():
        print(f"  {name:13s} peak {peak:8.1f} MiB   forward+backward {seconds * 1e3:8.1f} ms")
    p, c = best["plain"], best["checkpointed"]
    print(f"  ratio: memory {c[0] / p[0]:.2f}x, time {c[1] / p[1]:.2f}x; gradients identical: "
          f"{same}")
    print(f"  memory beyond the parameter gradients both must hold: "
          f"{(c[0] - grads_mb) / (p[0] - grads_mb):.2f}x")


if __name__ == "__main__":
    main()
