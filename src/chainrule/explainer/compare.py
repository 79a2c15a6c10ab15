"""The four ways to a derivative, side by side on one function at one point.

Each method reports its gradient, its error against the exact value (the
symbolic derivative evaluated at the point, when the function can be traced
to an expression; reverse mode's value otherwise, said so), what it cost
(function evaluations or sweeps) and how long it took. A method that is not
available is listed as such, never faked. Array arguments are differentiated
element by element (``w[0]``, ``w[1]``, ...); errors are then the largest
over the elements. Kinks the evaluation touched and points outside (or on the
edge of) the domain are reported with the table: ``Comparison.usable``.

>>> import chainrule as cr
>>> from chainrule.explainer import compare
>>> table = compare(lambda x: x**2 - 3*x - 2, 3.0)
>>> table.rows[-1].method, float(table.rows[-1].value[0])
('reverse mode', 3.0)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chainrule import numerical, transforms
from chainrule.backend import xp
from chainrule.explainer import diagnostics
from chainrule.explainer.trace_format import _arg_names, fmt

SHOWN = 3  # gradients with more elements are summarised by their norm in the table
LISTED = 8  # elements listed one per line below the table


@dataclass
class MethodResult:
    """One row of the comparison."""

    method: str
    value: Any = None  # the gradient, one entry per scalar element of the inputs
    cost: str = ""
    seconds: float = 0.0
    available: bool = True
    note: str = ""
    abs_error: float | None = None
    rel_error: float | None = None
    flagged: bool = False


@dataclass
class Comparison:
    """The table ``compare`` builds; ``str`` prints it."""

    names: list[str]  # one per scalar element: x, or w[0], w[1], ...
    point: list[Any]
    rows: list[MethodResult]
    exact: Any = None
    exact_source: str = ""
    expression: str = ""
    derivative_expressions: list[str] = field(default_factory=list)
    tolerance: float = 1e-6
    kinks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def disagreements(self) -> list[str]:
        return [r.method for r in self.rows if r.flagged]

    @property
    def usable(self) -> bool:
        """False when the point is outside or on the edge of the domain, or a method
        that ran gave NaN or inf (a kink alone does not make it unusable)."""
        return not self.problems

    @property
    def kink(self) -> str:
        return "\n".join(self.kinks)

    def __str__(self) -> str:
        at = ", ".join(f"{n} = {fmt(v)}" for n, v in zip(self.names[:6], self.point[:6]))
        at += ", ..." if len(self.names) > 6 else ""
        lines = [f"Derivative of {self.expression or 'f'} at {at}"]
        for name, expr in zip(self.names, self.derivative_expressions):
            lines.append(f"  symbolic d/d{name}: {expr}")
        if self.exact is not None:
            lines.append(f"  errors against the exact value from {self.exact_source}")
        else:
            lines.append(f"  no exact value (symbolic unavailable): differences from "
                         f"{self.exact_source}")
        if len(self.names) > 1:
            lines.append(f"  {len(self.names)} inputs: errors are the largest over the elements")
        lines += _table([_row_cells(r, len(self.names)) for r in self.rows])
        lines += self._elements()
        lines += [f"  kink: {k}" for k in self.kinks]
        if self.problems:
            lines.append("  PROBLEM: the derivative is not usable at this point:")
            lines += [f"    {p}" for p in self.problems]
        return "\n".join(lines)

    def _elements(self) -> list[str]:
        reference = self.exact if self.exact is not None else self.rows[-1].value
        if len(self.names) <= SHOWN or reference is None:
            return []
        lines = [f"  by element (reference: {self.exact_source}; the largest difference "
                 f"of any method):"]
        for k, name in enumerate(self.names[:LISTED]):
            ran = [r for r in self.rows if r.available]
            worst = max(ran, key=lambda r: _gap(r.value[k], reference[k]))
            lines.append(f"    {name:<12}{fmt(reference[k]):>20}"
                         f"{_gap(worst.value[k], reference[k]):>12.1e}  ({worst.method})")
        if len(self.names) > LISTED:
            lines.append(f"    ... {len(self.names) - LISTED} more")
        return lines


def _gap(a: Any, b: Any) -> float:
    with xp.errstate(all="ignore"):
        d = abs(float(a) - float(b))
    return d if d == d else float("inf")  # NaN: the largest


_HEADER = ("method", "gradient", "abs error", "rel error", "time", "cost")
_RIGHT = (False, True, True, True, True, False)  # numbers right-aligned, words left


def _row_cells(r: MethodResult, n: int) -> tuple[str, ...]:
    if not r.available:
        return (r.method, "not available", "", "", "", r.note)
    if not diagnostics.finite(r.value):
        value = "not finite: " + ", ".join(fmt(v) for v in r.value[:SHOWN])
    elif n <= SHOWN:
        value = ", ".join(fmt(v) for v in r.value)
    else:
        value = f"|g| = {float(xp.linalg.norm(r.value)):.6g}"
    abs_e = "" if r.abs_error is None else f"{r.abs_error:.1e}"
    rel_e = "" if r.rel_error is None else f"{r.rel_error:.1e}"
    flag = "  <-- disagrees" if r.flagged else ""
    return (r.method, value, abs_e, rel_e, _duration(r.seconds), f"{r.cost}{flag}")


def _duration(seconds: float) -> str:
    """A wall time in the unit that keeps it short: 86.8us, 12.3ms, 4.6s."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f}us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f}ms"
    return f"{seconds:.1f}s"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    """Header and rows, each column as wide as its widest cell, two spaces between
    columns: a long value widens its column instead of running into the next."""
    cells = [_HEADER, *rows]
    widths = [max(len(row[k]) for row in cells) for k in range(len(_HEADER))]
    lines = []
    for row in cells:
        text = "  ".join(cell.rjust(w) if right else cell.ljust(w)
                         for cell, w, right in zip(row, widths, _RIGHT))
        lines.append(("  " + text).rstrip())
    return lines


def _timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[Any, float]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        with xp.errstate(all="ignore"):
            result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


class _Point:
    """The arguments as given, and as one flat vector of their elements."""

    def __init__(self, args: Sequence[Any]) -> None:
        self.arrays = [xp.asarray(getattr(a, "data", a), dtype=xp.float64) for a in args]
        self.vector = diagnostics.flatten(self.arrays)
        self.scalars = all(a.shape == () for a in self.arrays)

    def args(self, vector: Any) -> list[Any]:
        """Arguments for f at ``vector``: floats for scalar inputs, else arrays."""
        parts = diagnostics.unflatten(vector, self.arrays)
        return [float(p) if p.shape == () else p for p in parts]

    def basis(self, i: int) -> list[Any]:
        e = xp.zeros_like(self.vector)
        e[i] = 1.0
        return self.args(e)


def _scalar(out: Any) -> float:
    array = xp.asarray(getattr(out, "data", out), dtype=xp.float64)
    if array.size != 1:
        raise ValueError(f"compare: f must return a scalar, it returned shape {array.shape}")
    return float(array.reshape(()))


def _numerical_rows(f: Callable[..., Any], point: _Point) -> list[MethodResult]:
    def g(v: Any) -> Any:
        return xp.asarray(_scalar(f(*point.args(v))))

    rows = []
    for method, label in (("central", "numerical (central)"),
                          ("richardson", "numerical (Richardson)")):
        try:
            result, seconds = _timed(lambda m=method: numerical.gradient(g, point.vector,
                                                                          method=m))
        except Exception as err:  # noqa: BLE001 - outside the domain, a pole near the point
            rows.append(MethodResult(label, available=False, note=str(err).splitlines()[0]))
            continue
        rows.append(MethodResult(label, xp.asarray(result.value).reshape(-1), seconds=seconds,
                                 cost=f"{result.evaluations} evaluations of f, "
                                      f"error estimate {float(xp.max(result.error_estimate)):.1e}"))
    return rows


def _symbolic_row(f: Callable[..., Any], names: list[str], point: _Point, given: Any = None
                  ) -> tuple[MethodResult, Any, list[str], str]:
    if not point.scalars:
        return MethodResult("symbolic", available=False,
                            note="the symbolic tracer takes scalar arguments only"), None, [], ""
    from chainrule import symbolic
    values = {n: float(v) for n, v in zip(names, point.vector)}

    def run():
        expr = given if given is not None else symbolic.trace(f, names)
        derivatives = [symbolic.simplify(symbolic.diff(expr, n)) for n in names]
        return expr, derivatives, xp.array([float(d.evaluate(**values)) for d in derivatives])

    try:
        (expr, derivatives, value), seconds = _timed(run, repeat=1)
    except Exception as err:  # noqa: BLE001 - a function the tracer cannot follow
        return MethodResult("symbolic", available=False,
                            note=f"cannot trace f: {str(err).splitlines()[0]}"), None, [], ""
    size = ", ".join(str(symbolic.tree_size(d)) for d in derivatives)
    row = MethodResult("symbolic", value, seconds=seconds,
                       cost=f"derivative expression size {size} (tree)")
    return row, value, [str(d) for d in derivatives], str(expr)


def _forward_row(f: Callable[..., Any], point: _Point) -> MethodResult:
    from chainrule.transforms import jvp

    n = point.vector.size
    args = point.args(point.vector)

    def run():  # one sweep per input direction
        return xp.array([_scalar(jvp(f, args, point.basis(i))[1]) for i in range(n)])

    value, seconds = _timed(run)
    return MethodResult("forward mode", value, seconds=seconds,
                        cost=f"{n} forward sweep{'s' if n > 1 else ''} (one per input)")


def _reverse_row(f: Callable[..., Any], point: _Point) -> MethodResult:
    grad = transforms.grad(f, argnums=tuple(range(len(point.arrays))))
    args = point.args(point.vector)
    value, seconds = _timed(lambda: diagnostics.flatten(
        [getattr(g, "data", g) for g in grad(*args)]))
    return MethodResult("reverse mode", value, seconds=seconds,
                        cost="1 forward pass + 1 backward sweep")


def compare(f: Callable[..., Any], *args: Any, names: Sequence[str] | None = None,
            tolerance: float = 1e-6, expression: Any = None) -> Comparison:
    """Differentiate scalar ``f`` of scalars or arrays by every method; tabulate.

    Rows whose relative error exceeds ``tolerance`` are flagged. The symbolic
    row traces ``f`` to an expression, or uses ``expression`` when given (a
    parsed formula keeps its exact constants).
    """
    if not args:
        raise ValueError("compare: give the point, e.g. compare(f, 3.0)")
    point = _Point(args)
    arg_names = list(names) if names is not None else _arg_names(f, len(args))
    labels = diagnostics.element_names(arg_names, point.arrays)
    kinks, problems = _diagnose(f, point, arg_names)
    symbolic_row, exact, expressions, expression = _symbolic_row(f, arg_names, point, expression)
    rows = [*_numerical_rows(f, point), symbolic_row, _forward_row(f, point),
            _reverse_row(f, point)]
    source = "the symbolic derivative" if exact is not None else "reverse mode"
    table = Comparison(labels, list(point.vector), rows, exact, source, expression, expressions,
                       tolerance, kinks, problems)
    reference = exact if exact is not None else rows[-1].value
    scale = float(xp.max(xp.abs(reference))) if diagnostics.finite(reference) else 0.0
    infinite = []
    for r in rows:
        if not r.available:
            continue
        if not diagnostics.finite(r.value):
            r.abs_error = r.rel_error = float("nan")
            r.flagged = True
            infinite.append(r.method)
            continue
        r.abs_error = max(_gap(a, b) for a, b in zip(r.value, reference))
        r.rel_error = r.abs_error / scale if scale else r.abs_error
        r.flagged = bool(r.rel_error > tolerance)
    if infinite:
        problems.append(f"not finite (NaN or inf): the gradient by {', '.join(infinite)}")
    return table


def _diagnose(f: Callable[..., Any], point: _Point, names: list[str]
              ) -> tuple[list[str], list[str]]:
    """Kinks and domain problems, from the step-by-step explanation where it can be
    built (kinks then name their step, and the power rule's convention is caught)."""
    from chainrule.explainer.trace import explain

    args = point.args(point.vector)
    try:
        e = explain(f, *args, names=names)
    except Exception:  # noqa: BLE001 - e.g. a constant function: nothing recorded to read
        return _kink_notes(f, point), diagnostics.domain_problems(f, args, names)
    return e.kinks, [p for p in e.problems if " is not finite" not in p]


def _kink_notes(f: Callable[..., Any], point: _Point) -> list[str]:
    """Non-differentiable points the evaluation touched, with the convention taken."""
    from chainrule.subgradients import kinks

    try:
        with kinks() as report, xp.errstate(all="ignore"):
            transforms.grad(f, argnums=tuple(range(len(point.arrays))))(
                *point.args(point.vector))
    except Exception:  # noqa: BLE001 - the report is a courtesy; the table stands without it
        return []
    return diagnostics.kink_notes(report, {})
