"""Jacobians and Hessians: forward vs reverse vs central differences vs PyTorch.

    OMP_NUM_THREADS=1 python benchmarks/bench_jacobians.py

Forward mode should win when inputs are few and outputs many, reverse mode
in the opposite case; times are milliseconds, best of 7.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import chainrule as cr  # noqa: E402

torch.set_num_threads(1)


def best_ms(fn: Callable[[], object], repeat: int = 7) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def central(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    columns = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        columns.append((f(x + e) - f(x - e)) / (2 * h))
    return np.stack(columns, -1)


def rosenbrock(x, total=cr.sum):
    return total(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def main() -> None:
    print(f"{'(n, m)':<12}{'cr.jacfwd':>11}{'cr.jacrev':>11}{'central':>11}"
          f"{'torch fwd':>11}{'torch rev':>11}   (ms, best of 7)")
    for n, m in [(1, 1000), (1000, 1), (100, 100)]:
        rng = np.random.default_rng(1)
        a = rng.standard_normal((m, n)) / np.sqrt(n)
        a_t = torch.tensor(a)

        def f(x, a=a):
            return cr.tanh(a @ x) * cr.sum(x)

        def f_torch(x, a_t=a_t):
            return torch.tanh(a_t @ x) * torch.sum(x)

        x0 = rng.standard_normal(n)
        x_t = torch.tensor(x0)
        jac = cr.jacfwd(f)(x0)
        assert np.allclose(jac, cr.jacrev(f)(x0))
        assert np.allclose(jac, torch.func.jacrev(f_torch)(x_t).numpy())
        row = [best_ms(lambda f=f, x0=x0: cr.jacfwd(f)(x0)),
               best_ms(lambda f=f, x0=x0: cr.jacrev(f)(x0)),
               best_ms(lambda f=f, x0=x0: central(f, x0)),
               best_ms(lambda f=f_torch, x=x_t: torch.func.jacfwd(f)(x)),
               best_ms(lambda f=f_torch, x=x_t: torch.func.jacrev(f)(x))]
        print(f"{str((n, m)):<12}" + "".join(f"{v:>11.2f}" for v in row))
    x = np.random.default_rng(0).uniform(-1, 1, 100)
    x_t = torch.tensor(x)
    ours = best_ms(lambda: cr.hessian(rosenbrock)(x))
    theirs = best_ms(lambda: torch.func.hessian(lambda v: rosenbrock(v, torch.sum))(x_t))
    print(f"Hessian of the 100-d Rosenbrock: chainrule {ours:.2f} ms, "
          f"torch.func.hessian {theirs:.2f} ms (ratio {ours / theirs:.2f})")


if __name__ == "__main__":
    main()
