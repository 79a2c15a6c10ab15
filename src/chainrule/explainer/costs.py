"""What each way to a gradient costs as the number of inputs n grows, measured.

One scalar function of n inputs, f(x) = sum_i sin(x_i) * x_(i+1) (indices mod
n), differentiated at one point by every method: central differences (2n
calls of f), forward mode one sweep per input direction (n ``jvp`` calls) and
all directions batched in one sweep (``jacfwd``), reverse mode (one ``grad``
sweep, whatever n), and the symbolic engine (n derivative expressions, whose
size is its cost). Every row also reports how far each method's gradient is
from reverse mode's, so the table shows the methods agree while it shows
what they cost. Plotting lives in ``cost_plots``; this module needs only NumPy.

>>> from chainrule.explainer.costs import measure_costs
>>> table = measure_costs([2, 4], repeat=1)
>>> [(r.n, r.numerical_evaluations, r.forward_sweeps, r.reverse_sweeps) for r in table.rows]
[(2, 4, 2, 1), (4, 8, 4, 1)]
>>> bool(max(r.max_disagreement for r in table.rows) < 1e-8)
True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FUNCTION = "f(x) = sum_i sin(x_i) * x_(i+1), indices mod n"


def cost_function(n: int) -> Callable[[Any], Any]:
    """f of a vector of n inputs, in NumPy calls that chainrule's traced values follow."""
    shifted = (np.arange(n) + 1) % n

    def f(x: Any) -> Any:
        return np.sum(np.sin(x) * x[shifted])
    return f


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    """The result of ``fn`` and its best wall time over ``repeat`` runs (seconds)."""
    best, result = float("inf"), None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


@dataclass
class CostRow:
    """The cost of one gradient of f at n inputs, by every method."""

    n: int
    numerical_evaluations: int
    numerical_seconds: float
    forward_sweeps: int
    forward_seconds: float
    batched_seconds: float  # jacfwd: every basis tangent in one sweep
    reverse_sweeps: int
    reverse_seconds: float
    symbolic_tree: int  # total tree size of the n derivative expressions
    symbolic_dag: int  # their size as one shared DAG
    symbolic_seconds: float
    max_disagreement: float  # largest |gradient - reverse mode's| over the methods


@dataclass
class CostTable:
    """Rows of ``measure_costs``; ``str`` prints them as a table."""

    rows: list[CostRow]
    function: str = FUNCTION

    def __str__(self) -> str:
        header = ("n", "central evals", "central ms", "fwd sweeps", "fwd ms", "jacfwd ms",
                  "rev sweeps", "rev ms", "sym tree", "sym DAG", "sym ms", "max |diff|")
        rows = [header]
        for r in self.rows:
            rows.append((str(r.n), str(r.numerical_evaluations),
                         f"{r.numerical_seconds * 1e3:.2f}", str(r.forward_sweeps),
                         f"{r.forward_seconds * 1e3:.2f}", f"{r.batched_seconds * 1e3:.2f}",
                         str(r.reverse_sweeps), f"{r.reverse_seconds * 1e3:.2f}",
                         str(r.symbolic_tree), str(r.symbolic_dag),
                         f"{r.symbolic_seconds * 1e3:.2f}", f"{r.max_disagreement:.1e}"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [f"Cost of the gradient of {self.function}, by number of inputs n "
                 "(times: best of repeated runs, ms)"]
        lines += ["  " + "  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
        lines.append("  central: 2n calls of f; forward: one jvp sweep per input, or all n "
                     "batched in one jacfwd sweep; reverse: one grad sweep; symbolic: n "
                     "derivative expressions (diff per input, unsimplified)")
        return "\n".join(lines)


def _symbolic(n: int, x: np.ndarray, repeat: int) -> tuple[np.ndarray, int, int, float]:
    from chainrule import ops
    from chainrule import symbolic as sym

    names = [f"x{i}" for i in range(n)]
    xs = sym.symbols(names)
    expr = sum(ops.sin(xs[i]) * xs[(i + 1) % n] for i in range(n))
    parts, seconds = _timed(lambda: sym.gradient(expr, names, simplify=False), repeat)
    value = np.asarray(sym.lambdify(parts, names)(*x), dtype=np.float64).reshape(n)
    return value, sum(sym.tree_size(p) for p in parts), sym.dag_size(parts), seconds


def measure_one(n: int, repeat: int = 3, seed: int = 0) -> CostRow:
    """Differentiate f of ``n`` inputs at a seeded random point by every method."""
    from chainrule import numerical
    from chainrule.transforms import grad, jacfwd, jvp

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"measure_costs: n must be an integer >= 2, got {n!r}")
    f = cost_function(n)
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, size=n)
    basis = np.eye(n)
    central, t_num = _timed(lambda: numerical.gradient(f, x, method="central",
                                                       measure_error=False), repeat)
    forward, t_fwd = _timed(
        lambda: np.array([float(jvp(f, (x,), (e,))[1]) for e in basis]), repeat)
    batched, t_jac = _timed(lambda: np.asarray(jacfwd(f)(x)), repeat)
    reverse, t_rev = _timed(lambda: np.asarray(grad(f)(x)), repeat)
    symbolic, tree, dag, t_sym = _symbolic(n, x, repeat)
    gap = max(float(np.max(np.abs(np.asarray(v) - reverse)))
              for v in (central.value, forward, batched, symbolic))
    return CostRow(n, int(central.evaluations), t_num, n, t_fwd, t_jac, 1, t_rev,
                   tree, dag, t_sym, gap)


def default_sizes(max_n: int) -> list[int]:
    """Powers of two from 2 up to ``max_n`` (and ``max_n`` itself)."""
    if isinstance(max_n, bool) or not isinstance(max_n, (int, np.integer)) or max_n < 2:
        raise ValueError(f"compare-costs: max_n must be an integer >= 2, got {max_n!r}")
    sizes = [2]
    while sizes[-1] * 2 <= max_n:
        sizes.append(sizes[-1] * 2)
    if sizes[-1] != max_n:
        sizes.append(int(max_n))
    return sizes


def measure_costs(sizes: Sequence[int], repeat: int = 3, seed: int = 0) -> CostTable:
    """``measure_one`` at each n of ``sizes``, after one untimed warm-up run."""
    measure_one(2, 1, seed)  # first calls pay for imports and caches: keep them out of row 1
    return CostTable([measure_one(n, repeat, seed) for n in sizes])


# ----- the other two measurements behind the plots -----

def swell_rows(ks: Sequence[int] = tuple(range(1, 13)),
               families: Sequence[str] = ("product", "composition", "order")
               ) -> list[dict[str, Any]]:
    """Tree and DAG sizes of symbolic derivatives (``symbolic.swell``), SymPy not timed."""
    from chainrule.symbolic.swell import measure

    return [measure(family, k, with_sympy=False) for family in families for k in ks]


def swell_text(rows: list[dict[str, Any]]) -> str:
    """The rows of ``swell_rows`` pivoted: one line per k, tree and DAG size per family."""
    families = list(dict.fromkeys(r["family"] for r in rows))
    ks = sorted({r["k"] for r in rows})
    size = {(r["family"], r["k"]): (r["tree"], r["dag"]) for r in rows}
    lines = ["Expression swell: size of the derivative written out as a tree vs stored as a DAG",
             "  " + f"{'k':>3}" + "".join(f"{f + ' tree':>20}{'DAG':>6}" for f in families)]
    for k in ks:
        cells = [size.get((f, k), ("", "")) for f in families]
        lines.append("  " + f"{k:>3}" + "".join(f"{t:>20}{d:>6}" for t, d in cells))
    lines.append("  product: f_k = f_(k-1) * sin(f_(k-1)); composition: k nested exp(sin(.)); "
                 "order: the k-th derivative of exp(sin(x))")
    return "\n".join(lines)


STEP_FUNCTION = "f(x) = exp(sin(x)) at x = 1"


def step_curves(methods: Sequence[str] = ("forward", "central")) -> dict[str, Any]:
    """Error against step of finite differences of exp(sin(x)) at 1, exact value known."""
    from chainrule.numerical import step_error_curve

    exact = float(np.cos(1.0) * np.exp(np.sin(1.0)))
    return {m: step_error_curve(lambda x: np.exp(np.sin(x)), 1.0, method=m, exact=exact)
            for m in methods}


def step_text(curves: dict[str, Any]) -> str:
    lines = [f"Finite-difference error against step, {STEP_FUNCTION}",
             f"  {'method':<10}{'best step':>12}{'its error':>12}{'auto step':>12}"
             f"{'error at 1e-2':>16}{'error at 1e-14':>16}"]
    for method, c in curves.items():
        at = [float(c.errors[np.argmin(np.abs(np.log10(c.steps / h)))]) for h in (1e-2, 1e-14)]
        lines.append(f"  {method:<10}{c.best_step:>12.1e}{c.best_error:>12.1e}"
                     f"{c.auto_step:>12.1e}{at[0]:>16.1e}{at[1]:>16.1e}")
    lines.append("  large steps: truncation error (h for forward, h**2 for central); small "
                 "steps: round-off error (eps / h); the best step sits at the bottom of the V")
    return "\n".join(lines)
