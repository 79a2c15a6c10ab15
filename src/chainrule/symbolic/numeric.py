"""From expressions to numbers, and from Python functions to expressions.

``lambdify`` compiles expressions once into a NumPy function (see
``symbolic.evaluation``: no source text is generated). ``trace`` goes the
other way: it runs a function written with chainrule operations on symbols,
and the operations build the expression.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.symbolic.errors import SymbolicError
from chainrule.symbolic.evaluation import Compiled, evaluate_expr
from chainrule.symbolic.expr import Expr, as_expr, symbols
from chainrule.symbolic.parser import expr_of


def _flatten(exprs: Any) -> tuple[list[Expr], Any]:
    """Expressions and the shape to give back: one, a list, or a matrix (lists)."""
    if isinstance(exprs, str | Expr) or not isinstance(exprs, Sequence):
        return [expr_of(exprs, "lambdify")], None
    rows = list(exprs)
    if rows and all(isinstance(r, Sequence) and not isinstance(r, str) for r in rows):
        widths = {len(r) for r in rows}
        if len(widths) != 1:
            raise SymbolicError("lambdify: the rows of a matrix must have equal lengths")
        return [expr_of(e, "lambdify") for r in rows for e in r], (len(rows), widths.pop())
    return [expr_of(e, "lambdify") for e in rows], "list"


def lambdify(exprs: Any, variables: Any) -> Compiled:
    """A NumPy function of ``variables`` (in that order) computing ``exprs``:
    one expression, a list (stacked into an array) or a matrix such as a
    Jacobian (an array of shape ``(rows, cols, *broadcast shape)``).

    >>> import numpy as np
    >>> from chainrule.symbolic import lambdify, parse
    >>> f = lambdify(parse("x**2 + y"), "x y")
    >>> f(np.array([1.0, 2.0]), 3.0)
    array([4., 7.])
    """
    if isinstance(variables, str):
        variables = variables.replace(",", " ").split()
    names = [v.name if isinstance(v, Expr) else v for v in variables]
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"lambdify: variables are names or symbols, got {n!r}")
    if len(set(names)) != len(names):
        raise SymbolicError(f"lambdify: a variable is listed twice in {names}")
    outputs, structure = _flatten(exprs)
    return Compiled(outputs, names, structure)


def evaluate(expr: Any, values: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """The value of ``expr`` with ``values`` (a dict, or keywords) for its variables.

    Scalars give a float, arrays an array. Variables the expression does not
    use may be given too (handy for the entries of a gradient).

    >>> from chainrule.symbolic import evaluate
    >>> evaluate("x**2 - 3*x - 2", x=3.0)
    -2.0
    """
    return evaluate_expr(expr_of(expr, "evaluate"), {**(values or {}), **kwargs})


def trace(f: Callable[..., Any], names: Any) -> Any:
    """The expression a Python function computes, found by running it on symbols.

    ``f`` must use chainrule operations (or NumPy ufuncs, or Python
    operators) on its arguments; the operations it runs are recorded, not
    its source. Returns an expression, or a list for a list or tuple result.

    >>> import chainrule as cr
    >>> from chainrule.symbolic import trace
    >>> trace(lambda x, y: cr.sin(x) * y + x**2, "x y")
    sin(x)*y + x**2
    """
    args = symbols(names)
    out = f(*args)
    if isinstance(out, list | tuple):
        return [as_expr(o, "trace") for o in out]
    return as_expr(out, "trace")
