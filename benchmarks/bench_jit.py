"""cr.jit side by side with PyTorch eager (and jax.jit where installed), in one run.

Run with one thread:

    OMP_NUM_THREADS=1 python benchmarks/bench_jit.py [--quick]

(a) 100 small elementwise ops (16 float64) forward plus backward: jit(grad(f));
(b) the digits MLP training step (64-128-128-10 tanh, batch 64, float32, SGD)
    with jit(value_and_grad(loss));
(c) the seed example's jit(grad(f)) call against PyTorch's .backward() path;
(d) the Hessian of a 100-dimensional function under jit against torch.func.hessian;
(e) trace-and-compile time of the MLP step (first call): the NumPy program, and
    with numba the fused one, in a fresh process with an empty kernel cache and
    again from the disk cache.
Rows "cr.jit+numba" use jit(..., backend="numba") (fused elementwise kernels)
when numba is installed. Each row: microseconds per call, best of several rounds
taken in turns; ratios are chainrule / PyTorch eager.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_engine import _chain_ops, interleaved_best  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - optional peer
    torch = None
try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover - optional peer
    jax = None
try:
    import numba
except ImportError:  # pragma: no cover - optional backend
    numba = None


def chain(n: int = 100, size: int = 16) -> dict:
    data = np.linspace(-1, 1, size)

    def f(x):
        return cr.sum(_chain_ops(x, n, cr.sin, cr.cos, cr.tanh))

    eager = cr.grad(f)
    jitted = cr.jit(cr.grad(f))
    fns = {"cr.jit": lambda: jitted(data), "cr eager": lambda: eager(data)}
    np.testing.assert_array_equal(jitted(data), eager(data))
    if numba is not None:
        fused = cr.jit(cr.grad(f), backend="numba")
        np.testing.assert_allclose(fused(data), eager(data), rtol=1e-12)
        fns["cr.jit+numba"] = lambda: fused(data)
    if torch is not None:
        tdata = torch.linspace(-1, 1, size, dtype=torch.float64)

        def run_torch():
            x = tdata.clone().requires_grad_(True)
            _chain_ops(x, n, torch.sin, torch.cos, torch.tanh).sum().backward()
            return x.grad
        fns["torch"] = run_torch
    if jax is not None:
        jg = jax.jit(jax.grad(lambda x: jnp.sum(_chain_ops(x, n, jnp.sin, jnp.cos, jnp.tanh))))
        jd = jnp.asarray(data)
        fns["jax.jit"] = lambda: jg(jd).block_until_ready()
    return fns


def mlp_setup():
    rng = np.random.default_rng(0)
    sizes = [64, 128, 128, 10]
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"w{i}"] = (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32)
        params[f"b{i}"] = np.zeros(b, np.float32)
    x = rng.standard_normal((64, 64)).astype(np.float32)
    labels = rng.integers(0, 10, size=64)
    y = np.eye(10, dtype=np.float32)[labels]
    return params, x, y


def mlp_loss(p, x, y):
    h = cr.tanh(x @ p["w0"] + p["b0"])
    h = cr.tanh(h @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    return -cr.mean(cr.sum(cr.log_softmax(logits, axis=-1) * y, axis=-1))


def mlp() -> tuple[dict, float]:
    params, x, y = mlp_setup()
    lr = np.float32(0.1)
    start = time.perf_counter()
    step = cr.jit(cr.value_and_grad(mlp_loss))
    step(params, x, y)
    compile_time = time.perf_counter() - start
    eager = cr.value_and_grad(mlp_loss)

    def run(vg):
        state = dict(params)

        def one():
            _, g = vg(state, x, y)
            for k in state:
                state[k] = state[k] - lr * g[k]
        return one

    fns = {"cr.jit": run(step), "cr eager": run(eager)}
    if numba is not None:
        fused = cr.jit(cr.value_and_grad(mlp_loss), backend="numba")
        fused(params, x, y)
        fns["cr.jit+numba"] = run(fused)
    if torch is not None:
        tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        tx, ty = torch.tensor(x), torch.tensor(y)

        def run_torch():
            h = torch.tanh(tx @ tp["w0"] + tp["b0"])
            h = torch.tanh(h @ tp["w1"] + tp["b1"])
            logits = h @ tp["w2"] + tp["b2"]
            loss = -(torch.log_softmax(logits, -1) * ty).sum(-1).mean()
            for v in tp.values():
                v.grad = None
            loss.backward()
            with torch.no_grad():
                for v in tp.values():
                    v -= 0.1 * v.grad
        fns["torch"] = run_torch
    return fns, compile_time


def seed() -> dict:
    jg = cr.jit(cr.grad(lambda x: x**2 - 3 * x - 2))
    fns = {"cr.jit": lambda: jg(3.0), "cr eager": lambda: cr.grad(
        lambda x: x**2 - 3 * x - 2)(3.0)}
    if numba is not None:  # scalars: nothing to fuse, the NumPy program runs
        fs = cr.jit(cr.grad(lambda x: x**2 - 3 * x - 2), backend="numba")
        fns["cr.jit+numba"] = lambda: fs(3.0)
    if torch is not None:
        def run_torch():
            x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
            (x**2 - 3 * x - 2).backward()
            return x.grad
        fns["torch"] = run_torch
    return fns


def hessian(n: int = 100) -> dict:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)) / n
    data = rng.standard_normal(n)

    def f(x):
        return cr.sum(cr.tanh(a @ x) ** 2) + cr.sum(x**4)

    jh = cr.jit(cr.hessian(f))
    np.testing.assert_allclose(jh(data), cr.hessian(f)(data), rtol=1e-12, atol=1e-12)
    fns = {"cr.jit": lambda: jh(data), "cr eager": lambda: cr.hessian(f)(data)}
    if numba is not None:
        fh = cr.jit(cr.hessian(f), backend="numba")
        np.testing.assert_allclose(fh(data), cr.hessian(f)(data), rtol=1e-12, atol=1e-12)
        fns["cr.jit+numba"] = lambda: fh(data)
    if torch is not None:
        ta = torch.tensor(a)
        td = torch.tensor(data)

        def tf(x):
            return (torch.tanh(ta @ x) ** 2).sum() + (x**4).sum()
        fns["torch"] = lambda: torch.func.hessian(tf)(td)
    return fns


def report(title: str, fns: dict, rounds: int, number: int) -> None:
    best = interleaved_best(fns, rounds, number)
    ref = best.get("torch")
    print(title)
    for name, t in best.items():
        if t is None:
            continue
        ratio = f"{t / ref:6.3f}x torch" if ref else ""
        print(f"  {name:13s} {t * 1e6:10.1f} us  {ratio}")


def compile_time(backend: str) -> float:
    """Seconds from cr.jit to the first result of the MLP step (this process)."""
    params, x, y = mlp_setup()
    start = time.perf_counter()
    cr.jit(cr.value_and_grad(mlp_loss), backend=backend)(params, x, y)
    return time.perf_counter() - start


def numba_compile_times() -> tuple[float, float]:
    """The fused MLP step's first-call time in fresh processes: an empty kernel
    cache, then the same cache (numba loads the machine code from disk)."""
    times = []
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, CHAINRULE_CACHE_DIR=folder)
        for _ in range(2):
            out = subprocess.run([sys.executable, __file__, "--compile-time", "numba"],
                                 env=env, capture_output=True, text=True, check=True)
            times.append(float(out.stdout.split()[-1]))
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--compile-time", choices=["numpy", "numba"])
    args = parser.parse_args()
    if args.compile_time:
        print(compile_time(args.compile_time))
        return
    rounds, scale = (3, 1) if args.quick else (7, 3)
    peers = "torch " + (torch.__version__ if torch else "missing") + ", jax " + (
        jax.__version__ if jax else "not installed")
    print(f"cr.jit benchmarks, one thread ({peers})")
    report("(a) 100 elementwise ops, 16 float64, forward+backward: jit(grad(f))",
           chain(), rounds, 20 * scale)
    fns, first_call = mlp()
    report("(b) digits MLP step 64-128-128-10 tanh, batch 64, float32, SGD",
           fns, rounds, 20 * scale)
    report("(c) seed example x**2 - 3x - 2: jit(grad(f))(3.0)", seed(), rounds, 200 * scale)
    report("(d) Hessian of a 100-dimensional function: jit(hessian(f))", hessian(),
           rounds, 3 * scale)
    print(f"(e) trace and compile the MLP step (first call): {first_call * 1e3:.1f} ms")
    if numba is not None:
        first, cached = numba_compile_times()
        print(f"    with backend='numba', in a fresh process (numba's import included): "
              f"{first * 1e3:.0f} ms with an empty kernel cache, {cached * 1e3:.0f} ms "
              f"from the disk cache")


if __name__ == "__main__":
    main()
