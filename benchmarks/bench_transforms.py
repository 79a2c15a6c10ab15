"""The newer transforms against their alternatives, one thread, best of many runs.

    OMP_NUM_THREADS=1 python benchmarks/bench_transforms.py

* per-example gradients of the digits MLP (64-256-10, batch 64): cr.vmap(cr.grad)
  vs torch.func.vmap(torch.func.grad) vs a Python loop of cr.grad;
* the 10th derivative of exp(sin x): cr.taylor (one sweep of truncated series)
  vs cr.grad nested ten times (one run: it takes seconds).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_jacobians import best_ms  # noqa: E402  (the same best-of timer)

import chainrule as cr  # noqa: E402

torch.set_num_threads(1)


def per_example_gradients(batch: int = 64) -> None:
    rng = np.random.default_rng(0)
    model = cr.nn.Sequential(cr.nn.Linear(64, 256), cr.nn.ReLU(), cr.nn.Linear(256, 10))
    params = {n: p.numpy() for n, p in model.named_parameters()}
    x = rng.standard_normal((batch, 64)).astype(np.float32)
    y = rng.integers(0, 10, size=batch)

    def loss(p, xi, yi):
        logits = cr.nn.functional_call(model, p, (xi[None],))
        return cr.nn.functional.cross_entropy(logits, yi[None])  # yi mapped: a gather

    vg = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))
    g = cr.grad(loss)
    # best of many: the machine is shared, and a run of ~1 ms is easily interrupted
    t_vmap = best_ms(lambda: vg(params, x, y), repeat=30)
    t_loop = best_ms(lambda: [g(params, x[k], y[k]) for k in range(batch)], repeat=7)

    tmodel = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(),
                                 torch.nn.Linear(256, 10))
    tparams = {n: torch.tensor(v) for n, v in params.items()}

    def tloss(p, xi, yi):
        return torch.nn.functional.cross_entropy(
            torch.func.functional_call(tmodel, p, (xi[None],)), yi[None])

    tvg = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))
    tx, ty = torch.tensor(x), torch.tensor(y)
    t_torch = best_ms(lambda: tvg(tparams, tx, ty), repeat=30)
    print(f"per-example gradients, MLP 64-256-10, batch {batch}, float32")
    print(f"  cr.vmap(cr.grad)                      {t_vmap:8.2f} ms")
    print(f"  torch.func.vmap(torch.func.grad)      {t_torch:8.2f} ms   "
          f"(chainrule / torch {t_vmap / t_torch:.2f})")
    print(f"  loop of cr.grad over examples         {t_loop:8.2f} ms   "
          f"(loop / vmap {t_loop / t_vmap:.1f}x)")


def tenth_derivative() -> None:
    def f(x):
        return cr.exp(cr.sin(x))

    t_taylor = best_ms(lambda: cr.derivative(f, order=10)(0.7))
    nested = f
    for _ in range(10):
        nested = cr.grad(nested)
    start = time.perf_counter()
    value = nested(0.7)
    t_nested = (time.perf_counter() - start) * 1e3
    assert abs(value - cr.derivative(f, order=10)(0.7)) <= 1e-9 * abs(value)
    print("10th derivative of exp(sin x) at 0.7")
    print(f"  cr.derivative(f, order=10) (Taylor)   {t_taylor:8.2f} ms")
    print(f"  cr.grad nested ten times              {t_nested:8.2f} ms   "
          f"(nested / Taylor {t_nested / t_taylor:.0f}x)")


if __name__ == "__main__":
    per_example_gradients()
    tenth_derivative()
