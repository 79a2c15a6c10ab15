"""The five deep-learning examples at full size: test figure against its target, and seconds.

    python benchmarks/bench_train.py [--only NAME ...] [--seeds S ...] [--quick] [--threads N]

Each example's ``main`` runs once, one after another (never in parallel: the
timings are for a 2-core machine that other work shares, so the load
average is printed beside each). The time includes loading the data and the
example's own evaluation; the printed training log is kept out of sight.
Targets (issue 7): digits MLP >= 97%, CNN >= 98%, row-by-row LSTM >= 95%,
sine next-step MSE <= 1e-3, shallow network on the spiral >= 95%, each in
under 60 s.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# name: (what it reports, target, True if the figure must be at least the target)
TARGETS = {
    "shallow_spiral": ("accuracy", 0.95, True),
    "mlp_digits": ("accuracy", 0.97, True),
    "cnn_digits": ("accuracy", 0.98, True),
    "lstm_digits": ("accuracy", 0.95, True),
    "rnn_sine": ("MSE", 1e-3, False),
}
SECONDS = 60.0


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _blas_threads(n: int):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def run(name: str, quick: bool, seed: int = 0) -> tuple[float, float]:
    """(the example's test figure, wall seconds) of one run of ``examples/<name>.py``."""
    main = _load(name).main
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        figure = main(["--seed", str(seed)] + (["--quick"] if quick else []))
    return figure, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(TARGETS), default=list(TARGETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0],
                        help="one run per seed (initial weights and shuffling; default 0)")
    parser.add_argument("--quick", action="store_true", help="the examples' --quick sizes")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args(argv)
    missed = 0
    print(f"{'example':<16} {'seed':>4} {'figure':>18} {'target':>12} {'seconds':>8}  "
          f"load average")
    with _blas_threads(args.threads):
        for name, seed in ((name, seed) for name in args.only for seed in args.seeds):
            what, target, at_least = TARGETS[name]
            before = os.getloadavg()[0]
            figure, seconds = run(name, args.quick, seed)
            ok = (figure >= target if at_least else figure <= target) and seconds < SECONDS
            missed += not ok
            shown = f"{100 * figure:.2f}%" if what == "accuracy" else f"{figure:.2e}"
            bound = (f">= {100 * target:.0f}%" if at_least else f"<= {target:.0e}")
            print(f"{name:<16} {seed:4d} {what + ' ' + shown:>18} {bound:>12} {seconds:8.1f}  "
                  f"{before:.2f} -> {os.getloadavg()[0]:.2f}{'' if ok else '   MISSED'}",
                  flush=True)
    return 1 if missed and not args.quick else 0


if __name__ == "__main__":
    raise SystemExit(main())
