"""``chainrule diff`` and ``chainrule explain``: typed-in formulas, derived.

Both parse the expression safely (no eval), take the point from ``--at
NAME=VALUE`` options and exit with status 2 and a clear message on bad input:
a parse error (with its position), a variable without a value, a point outside
the function's domain, an unwritable output path.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any


class UsageError(Exception):
    """Bad input from the command line: printed, exit status 2."""


def _point(expr: Any, assignments: list[str]) -> tuple[list[str], list[float]]:
    values: dict[str, float] = {}
    for item in assignments or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--at expects NAME=VALUE, got {item!r}")
        try:
            values[name.strip()] = float(text)
        except ValueError:
            raise UsageError(f"--at {item}: {text!r} is not a number") from None
    symbols = sorted(expr.free_symbols)
    missing = [s for s in symbols if s not in values]
    if missing:
        raise UsageError(f"no value for {', '.join(missing)}: add --at {missing[0]}=VALUE")
    unused = sorted(set(values) - set(symbols))
    if unused:
        raise UsageError(f"--at gives {', '.join(unused)}, which the expression does not use")
    if not symbols:
        raise UsageError("the expression has no variables to differentiate with respect to")
    return symbols, [values[s] for s in symbols]


def _prepare(args: argparse.Namespace):
    from chainrule.explainer.expression import expression_function
    from chainrule.symbolic import parse
    from chainrule.symbolic.errors import SymbolicError

    try:
        expr = parse(args.expression)
    except SymbolicError as err:
        raise UsageError(str(err)) from None
    names, point = _point(expr, args.at)
    f = expression_function(expr, names)
    import numpy as np

    with np.errstate(all="ignore"):
        value = float(np.asarray(f(*point)))
    if not math.isfinite(value):
        at = ", ".join(f"{n}={v:g}" for n, v in zip(names, point))
        raise UsageError(f"f({at}) = {value}: the point is outside the function's domain")
    return expr, names, point, f


def run_diff(args: argparse.Namespace) -> int:
    from chainrule.explainer.compare import compare

    expr, names, point, f = _prepare(args)
    table = compare(f, *point, names=names, tolerance=args.tolerance, expression=expr)
    print(table)
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from chainrule.explainer.dot import render_dot, to_dot
    from chainrule.explainer.trace import explain

    expr, names, point, f = _prepare(args)
    print(f"f({', '.join(names)}) = {expr}")
    try:
        explanation = explain(f, *point, mode=args.mode, names=names)
    except ValueError as err:  # e.g. a constant expression: nothing to explain
        raise UsageError(str(err)) from None
    print(explanation.render(args.format))
    if args.graph:
        try:
            path = render_dot(to_dot(f, *point, names=names), args.graph)
        except (OSError, ValueError) as err:
            raise UsageError(str(err)) from None
        except RuntimeError as err:  # Graphviz missing: the .dot text was written instead
            print(f"note: {err}", file=sys.stderr)
            return 0
        print(f"graph written to {path}")
    return 0


def _guard(run):
    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except UsageError as err:
            print(f"chainrule {args.command}: error: {err}", file=sys.stderr)
            return 2
    return guarded


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", help='a formula, e.g. "x**2 - 3*x - 2"')
    parser.add_argument("--at", action="append", metavar="NAME=VALUE",
                        help="the point, one option per variable")


def register(commands: argparse._SubParsersAction) -> None:
    diff = commands.add_parser(
        "diff", help="the derivative by all four methods, side by side")
    _common(diff)
    diff.add_argument("--tolerance", type=float, default=1e-6,
                      help="relative error above which a method is flagged (default 1e-6)")
    diff.set_defaults(run=_guard(run_diff))

    explain = commands.add_parser(
        "explain", help="the chain rule step by step: trace, partials, tangents or adjoints")
    _common(explain)
    explain.add_argument("--mode", choices=("forward", "reverse"), default="reverse")
    explain.add_argument("--format", choices=("text", "markdown", "latex"), default="text")
    explain.add_argument("--graph", metavar="FILE",
                         help="also draw the graph: .svg, .png, .pdf or .dot")
    explain.set_defaults(run=_guard(run_explain))
