"""chainrule.numerical side by side with numdifftools and scipy.differentiate.

For each function and point: the relative error against the exact derivative and
the number of points at which f was evaluated, for

- chainrule: central (automatic step), richardson, complex step;
- numdifftools: ``Derivative`` (its default: central differences at many steps,
  Richardson-extrapolated), and ``Derivative(method="complex")``;
- scipy: ``scipy.differentiate.derivative`` (its default: order 8, adaptive).

Then a summary per library and method, and the same for a gradient and a
Hessian (Rosenbrock in 4 variables). Exact values come from the closed forms,
evaluated with mpmath at 40 digits when it is installed (it comes with SymPy),
in float64 otherwise.

Finally the honesty battery (``tests/numerical/battery.py``: 54 functions and
points, smooth, oscillating, near poles, at kinks and jumps, large and tiny
|x|, steps chosen by the user): does each method's error estimate bound its
true error, or does it say it cannot be trusted (``converged=False``, scipy's
``success=False``) or refuse? ``--battery`` prints only that table (it needs
neither numdifftools nor scipy, and uses scipy when installed).

Run: ``python benchmarks/bench_numerical.py`` (needs numdifftools and scipy).
"""

from __future__ import annotations

import math
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from chainrule import numerical

try:
    import numdifftools
except ImportError:  # only the battery runs without it
    numdifftools = None
try:
    from scipy import differentiate
except ImportError:
    differentiate = None

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "numerical"))
import battery  # noqa: E402  (the battery's cases live with its test)

try:
    import mpmath
except ImportError:  # float64 closed forms are exact to a few ulps, enough here
    mpmath = None

# name -> (f, exact derivative written for a math module m (numpy or mpmath), points)
FUNCTIONS = {
    "exp": (np.exp, lambda m, x: m.exp(x), [-3.0, 0.5, 2.0, 10.0, 50.0]),
    "sin": (np.sin, lambda m, x: m.cos(x), [-2.0, 0.5, 1e-3, 100.0]),
    "log": (np.log, lambda m, x: 1 / x, [0.01, 0.5, 3.0, 1e3, 1e6]),
    "x**x": (lambda x: x**x, lambda m, x: x**x * (m.log(x) + 1), [0.1, 0.5, 3.0, 10.0]),
    "rational": (
        lambda x: (x**3 - 2 * x + 1) / (x**2 + 1),
        lambda m, x: ((3 * x**2 - 2) * (x**2 + 1) - (x**3 - 2 * x + 1) * 2 * x) / (x**2 + 1) ** 2,
        [-5.0, 0.3, 100.0],
    ),
    "1/(1+25x^2)": (
        lambda x: 1 / (1 + 25 * x**2),
        lambda m, x: -50 * x / (1 + 25 * x**2) ** 2,
        [-0.7, 0.3, 3.0],
    ),
    "exp/sqrt(s^3+c^3)": (
        lambda x: np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3),
        lambda m, x: (
            m.exp(x) / m.sqrt(m.sin(x) ** 3 + m.cos(x) ** 3)
            * (1 - (3 * m.sin(x) ** 2 * m.cos(x) - 3 * m.cos(x) ** 2 * m.sin(x))
               / (2 * (m.sin(x) ** 3 + m.cos(x) ** 3)))
        ),
        [-0.5, 0.5, 1.5],
    ),
}


def exact_value(formula, x: float) -> float:
    if mpmath is None:
        return float(formula(np, x))
    mpmath.mp.dps = 40
    return float(formula(mpmath, mpmath.mpf(x)))


class Counted:
    """Wraps f, counting the points it is evaluated at (vectorised calls count each point)."""

    def __init__(self, f, dim: int = 1) -> None:
        self.f = f
        self.dim = dim
        self.points = 0

    def __call__(self, x):
        self.points += max(1, np.size(x) // self.dim)
        return self.f(x)


def run_chainrule(method):
    def run(f, x):
        d = numerical.derivative(f, x, method=method)
        return float(d), d.evaluations

    return run


def run_numdifftools(method):
    def run(f, x):
        counted = Counted(f)
        value = numdifftools.Derivative(counted, method=method)(x)
        return float(np.asarray(value).reshape(())), counted.points

    return run


def run_scipy(f, x):
    counted = Counted(f)
    res = differentiate.derivative(counted, x)
    return float(res.df), counted.points


METHODS = [
    ("chainrule", "central", run_chainrule("central")),
    ("chainrule", "richardson", run_chainrule("richardson")),
    ("chainrule", "complex", run_chainrule("complex")),
    ("numdifftools", "default", run_numdifftools("central")),
    ("numdifftools", "complex", run_numdifftools("complex")),
    ("scipy", "default", run_scipy),
]


def measure(run, f, x, exact):
    """(relative error, evaluations); the error is NaN (and noted) if the library fails."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value, calls = run(f, x)
    except Exception as exc:  # a failure is a result here, reported in the table
        return math.nan, 0, type(exc).__name__
    rel = abs(value - exact) / abs(exact)
    return rel, calls, ""


def fmt_err(rel: float, note: str) -> str:
    if note:
        return f"{'fails':>8}"
    return f"{'nan':>8}" if math.isnan(rel) else f"{rel:8.1e}"


def scalar_table():
    header = f"{'function':<18} {'x':>7} " + " ".join(
        f"{lib[:5] + ' ' + meth[:5]:>15}" for lib, meth, _ in METHODS
    )
    print("Relative error / evaluations of f'(x)")
    print(header)
    print("-" * len(header))
    stats = {(lib, meth): [] for lib, meth, _ in METHODS}
    for name, (f, formula, points) in FUNCTIONS.items():
        for x in points:
            exact = exact_value(formula, x)
            cells = []
            for lib, meth, run in METHODS:
                rel, calls, note = measure(run, f, x, exact)
                stats[(lib, meth)].append((rel, calls, note))
                cells.append(f"{fmt_err(rel, note)} /{calls:>4}")
            print(f"{name:<18} {x:>7g} " + " ".join(f"{c:>15}" for c in cells))
    return stats


def summary(stats) -> None:
    print()
    print(f"{'library':<13} {'method':<11} {'worst rel':>10} {'median rel':>11} "
          f"{'<=1e-12':>8} {'mean evals':>11} {'max evals':>10} {'failures':>9}")
    for (lib, meth), rows in stats.items():
        rels = np.array([r for r, _, note in rows if not note])
        # NaN results (silent failures) count as the worst possible error.
        rels = np.where(np.isnan(rels), np.inf, rels)
        calls = [c for _, c, note in rows if not note]
        failures = sum(1 for _, _, note in rows if note) + int(np.sum(np.isinf(rels)))
        print(f"{lib:<13} {meth:<11} {np.max(rels):10.1e} {np.median(rels):11.1e} "
              f"{int(np.sum(rels <= 1e-12)):>5}/{len(rows):<2} {np.mean(calls):11.1f} "
              f"{max(calls):>10} {failures:>9}")


def rosen(x):
    # Works on (n,) and, for scipy's vectorised calls, on (n, k...) arrays.
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2, axis=0)


def rosen_grad(x):
    g = np.zeros_like(x)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def rosen_hess(x):
    h = np.zeros((x.size, x.size))
    for i in range(x.size - 1):
        h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i, i + 1] = h[i + 1, i] = -400 * x[i]
        h[i + 1, i + 1] += 200
    return h


def multivariate_table() -> None:
    x = np.array([0.3, -1.2, 2.0, 0.7])
    dim = x.size
    print()
    print(f"Rosenbrock in {dim} variables at x = {x.tolist()}: max relative error / evaluations")
    print(f"{'library':<13} {'method':<11} {'gradient':>20} {'hessian':>20}")
    cases = []
    for method in ("central", "forward", "richardson", "complex"):
        cases.append(("chainrule", method,
                      lambda f, m=method: numerical.gradient(f, x, method=m),
                      lambda f, m=method: numerical.hessian(f, x, method=m)))
    for method in ("central", "complex"):
        cases.append(("numdifftools", method,
                      lambda f, m=method: numdifftools.Gradient(f, method=m)(x),
                      lambda f, m=method: numdifftools.Hessian(f, method=m)(x)))
    cases.append(("scipy", "default",
                  lambda f: differentiate.jacobian(f, x).df,
                  lambda f: differentiate.hessian(f, x).ddf))
    for lib, method, grad, hess in cases:
        cells = []
        for compute, exact in ((grad, rosen_grad(x)), (hess, rosen_hess(x))):
            counted = Counted(rosen, dim)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    value = np.asarray(compute(counted))
                err = np.max(np.abs(value - exact)) / np.max(np.abs(exact))
                cells.append(f"{err:8.1e} /{counted.points:>5}")
            except Exception as exc:  # reported, not hidden
                cells.append(f"{type(exc).__name__[:12]:>20}")
        print(f"{lib:<13} {method:<11} {cells[0]:>20} {cells[1]:>20}")


SYMBOL = {"bounded": "ok", "within 10x": "~10x", "flagged": "flag", "refused": "refused",
          "WRONG": "WRONG"}


def scipy_case(case) -> dict:
    """scipy.differentiate.derivative on one battery case: its error and success flag."""
    name, f, x, formula, options = case
    row = {"calls": 0}
    counted = Counted(f)
    kwargs = {"initial_step": options["step"]} if "step" in options else {}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            res = differentiate.derivative(counted, x, **kwargs)
    except Exception as exc:  # a refusal is an honest answer
        return {**row, "verdict": "refused", "note": type(exc).__name__}
    row["calls"] = counted.points
    value, estimate = float(res.df), float(res.error)
    if not bool(res.success) or not math.isfinite(value):
        return {**row, "verdict": "flagged"}
    if formula is None:
        return {**row, "verdict": "WRONG"}
    error = abs(value - battery.exact_value(formula, x))
    verdict = ("bounded" if error <= estimate else
               "within 10x" if error <= 10 * estimate else "WRONG")
    return {**row, "verdict": verdict}


def battery_table() -> None:
    """Per case and method: the verdict on the error estimate, and the calls of f."""
    methods = ["central", "richardson", "complex"]
    columns = [f"cr {m}" for m in methods] + (["scipy"] if differentiate else [])
    print(f"Honesty battery: {len(battery.CASES)} cases; ok = the estimate bounds the true "
          "error, flag = converged=False / success=False, refused = raised, ~10x = within "
          "10x, WRONG = a confident wrong answer (or a value where no derivative exists)")
    header = f"{'function':<14} {'x':>10} {'step':>6} " + " ".join(f"{c:>15}" for c in columns)
    print(header)
    print("-" * len(header))
    counts = {c: Counter() for c in columns}
    calls = {c: [] for c in columns}
    for case in battery.CASES:
        name, _, x, _, options = case
        cells = []
        rows = [battery.run_case(case, m) for m in methods]
        if differentiate:
            rows.append(scipy_case(case))
        for column, row in zip(columns, rows, strict=True):
            counts[column][row["verdict"]] += 1
            calls[column].append(row["calls"])
            cells.append(f"{SYMBOL[row['verdict']]:>8} /{row['calls']:>4}")
        step = f"{options['step']:g}" if "step" in options else ""
        print(f"{name:<14} {x:>10.4g} {step:>6} " + " ".join(f"{c:>15}" for c in cells))
    print()
    print(f"{'method':<15} {'bounded':>8} {'flagged':>8} {'refused':>8} {'~10x':>6} "
          f"{'WRONG':>6} {'honest':>8} {'mean calls':>11}")
    for column in columns:
        c = counts[column]
        honest = c["bounded"] + c["flagged"] + c["refused"]
        used = [k for k in calls[column] if k]
        print(f"{column:<15} {c['bounded']:>8} {c['flagged']:>8} {c['refused']:>8} "
              f"{c['within 10x']:>6} {c['WRONG']:>6} {honest / len(battery.CASES):>8.0%} "
              f"{np.mean(used):>11.1f}")


def main() -> None:
    if "--battery" in sys.argv[1:]:
        battery_table()
        return
    if numdifftools is None or differentiate is None:
        raise SystemExit("bench_numerical needs numdifftools and scipy (pip install -e "
                         "'.[bench]'); run it with --battery for the honesty table alone")
    print(f"numpy {np.__version__}, numdifftools {numdifftools.__version__}, "
          f"reference: {'mpmath 40 digits' if mpmath else 'float64 closed forms'}")
    print()
    stats = scalar_table()
    summary(stats)
    multivariate_table()
    print()
    battery_table()


if __name__ == "__main__":
    main()
