"""The four ways to a derivative, side by side on one function at one point.

Each method reports its gradient, its error against the exact value (the
symbolic derivative evaluated at the point, when the function can be traced
to an expression), what it cost (function evaluations or sweeps) and how long
it took. A method that is not available is listed as such, never faked.

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
from chainrule.explainer.trace import _arg_names, fmt


@dataclass
class MethodResult:
    """One row of the comparison."""

    method: str
    value: Any = None  # the gradient, one entry per input
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

    names: list[str]
    point: list[Any]
    rows: list[MethodResult]
    exact: Any = None
    exact_source: str = ""
    expression: str = ""
    derivative_expressions: list[str] = field(default_factory=list)
    tolerance: float = 1e-6
    kink: str = ""

    @property
    def disagreements(self) -> list[str]:
        return [r.method for r in self.rows if r.flagged]

    def __str__(self) -> str:
        at = ", ".join(f"{n} = {fmt(v)}" for n, v in zip(self.names, self.point))
        lines = [f"Derivative of {self.expression or 'f'} at {at}"]
        for name, expr in zip(self.names, self.derivative_expressions):
            lines.append(f"  symbolic d/d{name}: {expr}")
        if self.exact is not None:
            lines.append(f"  errors against the exact value from {self.exact_source}")
        else:
            lines.append("  no exact value (symbolic unavailable): errors are not shown")
        header = f"  {'method':<24}{'gradient':>24}{'abs error':>12}{'rel error':>12}" \
                 f"{'time':>11}  cost"
        lines.append(header)
        for r in self.rows:
            if not r.available:
                lines.append(f"  {r.method:<24}{'not available':>24}  {r.note}")
                continue
            value = ", ".join(fmt(v) for v in r.value)
            abs_e = "" if r.abs_error is None else f"{r.abs_error:.1e}"
            rel_e = "" if r.rel_error is None else f"{r.rel_error:.1e}"
            flag = "  <-- disagrees" if r.flagged else ""
            lines.append(f"  {r.method:<24}{value:>24}{abs_e:>12}{rel_e:>12}"
                         f"{r.seconds * 1e6:>9.1f}us  {r.cost}{flag}")
        if self.kink:
            lines.append(f"  kink: {self.kink}")
        return "\n".join(lines)


def _timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[Any, float]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return result, best


def _vector_function(f: Callable[..., Any], n: int) -> Callable[[Any], Any]:
    """``f`` of n scalars as a function of one vector, on plain arrays."""
    def g(v: Any) -> Any:
        out = f(*[v[i] for i in range(n)])
        return xp.asarray(getattr(out, "data", out), dtype=xp.float64)
    return g


def _numerical_rows(f: Callable[..., Any], point: Any) -> list[MethodResult]:
    g = _vector_function(f, point.size)
    rows = []
    for method, label in (("central", "numerical (central)"),
                          ("richardson", "numerical (Richardson)")):
        try:
            result, seconds = _timed(lambda m=method: numerical.gradient(g, point, method=m))
        except Exception as err:  # outside the domain, a pole near the point, ...
            rows.append(MethodResult(label, available=False, note=str(err).splitlines()[0]))
            continue
        rows.append(MethodResult(label, xp.asarray(result.value), seconds=seconds,
                                 cost=f"{result.evaluations} evaluations of f, "
                                      f"error estimate {float(xp.max(result.error_estimate)):.1e}"))
    return rows


def _symbolic_row(f: Callable[..., Any], names: list[str], point: Any, given: Any = None
                  ) -> tuple[MethodResult, Any, list[str], str]:
    try:
        from chainrule import symbolic
        trace, diff, simplify = symbolic.trace, symbolic.diff, symbolic.simplify
    except (ImportError, AttributeError):
        return MethodResult("symbolic", available=False,
                            note="chainrule.symbolic is not built yet"), None, [], ""
    values = {n: float(v) for n, v in zip(names, point)}

    def run():
        expr = given if given is not None else trace(f, names)
        derivatives = [simplify(diff(expr, n)) for n in names]
        return expr, derivatives, xp.array([float(d.evaluate(**values)) for d in derivatives])

    try:
        (expr, derivatives, value), seconds = _timed(run, repeat=1)
    except Exception as err:  # a function the tracer cannot follow
        return MethodResult("symbolic", available=False,
                            note=f"cannot trace f: {str(err).splitlines()[0]}"), None, [], ""
    size = ", ".join(str(symbolic.tree_size(d)) for d in derivatives)
    row = MethodResult("symbolic", value, seconds=seconds,
                       cost=f"derivative expression size {size} (tree)")
    return row, value, [str(d) for d in derivatives], str(expr)


def _forward_row(f: Callable[..., Any], point: Any) -> MethodResult:
    try:
        from chainrule.jacobians import jvp
    except ImportError:
        return MethodResult("forward mode", available=False, note="cr.jvp is not built yet")
    n = point.size
    args = [float(v) for v in point]

    def run():
        out = []
        for i in range(n):  # one sweep per input direction
            tangents = [1.0 if j == i else 0.0 for j in range(n)]
            out.append(float(xp.asarray(jvp(f, args, tangents)[1])))
        return xp.array(out)

    value, seconds = _timed(run)
    return MethodResult("forward mode", value, seconds=seconds,
                        cost=f"{n} forward sweep{'s' if n > 1 else ''} (one per input)")


def _reverse_row(f: Callable[..., Any], point: Any) -> MethodResult:
    n = point.size
    grad = transforms.grad(f, argnums=tuple(range(n)))
    args = [float(v) for v in point]
    value, seconds = _timed(lambda: xp.array([float(g) for g in grad(*args)]))
    return MethodResult("reverse mode", value, seconds=seconds,
                        cost="1 forward pass + 1 backward sweep")


def compare(f: Callable[..., Any], *args: float, names: Sequence[str] | None = None,
            tolerance: float = 1e-6, expression: Any = None) -> Comparison:
    """Differentiate scalar ``f`` of scalar arguments by every method; tabulate.

    Rows whose relative error exceeds ``tolerance`` are flagged. The symbolic
    row traces ``f`` to an expression, or uses ``expression`` when given (a
    parsed formula keeps its exact constants).
    """
    if not args:
        raise ValueError("compare: give the point, e.g. compare(f, 3.0)")
    point = xp.asarray([float(a) for a in args], dtype=xp.float64)
    names = list(names) if names is not None else _arg_names(f, len(args))
    symbolic_row, exact, expressions, expression = _symbolic_row(f, names, point, expression)
    rows = [*_numerical_rows(f, point), symbolic_row, _forward_row(f, point),
            _reverse_row(f, point)]
    source = "the symbolic derivative"
    if exact is None:
        source = ""
    table = Comparison(names, list(point), rows, exact, source, expression, expressions,
                       tolerance, _kink_note(f, args))
    reference = exact if exact is not None else rows[-1].value
    for r in rows:
        if not r.available:
            continue
        r.abs_error = float(xp.max(xp.abs(r.value - reference)))
        scale = float(xp.max(xp.abs(reference)))
        r.rel_error = r.abs_error / scale if scale else r.abs_error
        r.flagged = bool(r.rel_error > tolerance)
        if exact is None:
            r.abs_error = r.rel_error = None
    return table


def _kink_note(f: Callable[..., Any], args: Sequence[float]) -> str:
    """Report non-differentiable points the evaluation touched, where detectable."""
    try:
        from chainrule.subgradients import kinks
    except ImportError:
        return ""
    try:
        with kinks() as report:
            transforms.grad(f, argnums=tuple(range(len(args))))(*[float(a) for a in args])
    except Exception:  # the report is a courtesy; the table stands without it
        return ""
    return str(report) if report else ""
