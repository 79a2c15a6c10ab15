"""``chainrule diff``, ``chainrule explain`` and ``chainrule explain-nn``.

``diff`` and ``explain`` take typed-in formulas: they parse the expression
safely (no eval), take the point from ``--at NAME=VALUE`` options and exit with
status 2 and a clear message on bad input: a parse error (with its position),
a variable without a value, a point outside the function's domain, an
unwritable output path (checked before any work). A result printed but not
usable (NaN or inf, a point on the edge of the domain) exits with status 1; a
kink is reported with the subgradient taken and exits 0. ``explain-nn``
derives the gradients of a shallow network by hand and checks them, exiting
with status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import inspect
import math
import re
import sys
from typing import Any


class UsageError(Exception):
    """Bad input from the command line: printed, exit status 2."""


def _point(expr: Any, assignments: list[str]) -> tuple[list[str], list[float]]:
    values: dict[str, float] = {}
    texts: dict[str, str] = {}
    for item in assignments or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--at expects NAME=VALUE, got {item!r}")
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"--at {item}: {text!r} is not a number") from None
        if not math.isfinite(value):
            why = "overflows a float" if text.strip().lower().lstrip("+-") not in (
                "inf", "infinity", "nan") else "is not a finite number"
            raise UsageError(f"--at {item}: {text.strip()} {why}; give a finite number")
        if name in values:
            raise UsageError(f"--at gives {name} twice ({name}={texts[name]}, then "
                             f"{name}={text.strip()}): give each variable once")
        values[name], texts[name] = value, text.strip()
    symbols = sorted(expr.free_symbols)
    missing = [s for s in symbols if s not in values]
    if missing:
        raise UsageError(f"no value for {', '.join(missing)}: add --at {missing[0]}=VALUE")
    unused = sorted(set(values) - set(symbols))
    if unused:
        raise UsageError(f"--at gives {', '.join(unused)}, which the expression does not use "
                         f"(its variables: {', '.join(symbols) or 'none'}); drop that --at")
    if not symbols:
        raise UsageError("the expression has no variables to differentiate with respect to")
    return symbols, [values[s] for s in symbols]


def _not_finite(f: Any, names: list[str], point: list[float], value: float) -> str:
    """Why f is not finite at the point: an overflow (the point is in the domain, the
    result is beyond float64), a pole (division by zero) or a point outside the domain."""
    import numpy as np

    at = ", ".join(f"{n}={v:g}" for n, v in zip(names, point))
    try:  # run again, stopping at the first floating-point event; underflow is harmless
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            f(*point)
    except FloatingPointError as err:
        found = re.search(r"(overflow|divide by zero|invalid value) encountered in (\w+)",
                          str(err))
        event, where = found.groups() if found else ("", "")
        if event == "overflow":
            return (f"f({at}) overflows: {where} gives a number beyond the "
                    f"largest float (about 1.8e308), though the point is inside the "
                    f"function's domain; try a point where f is smaller")
        if event == "divide by zero":
            return (f"f({at}) = {value}: {where} is infinite there (division by zero: a pole "
                    f"or the edge of the domain)")
        if event == "invalid value":
            return f"f({at}) = {value}: the point is outside the domain of {where}"
    return f"f({at}) = {value}: the point is outside the function's domain"


def _prepare(args: argparse.Namespace):
    from chainrule.explainer.expression import expression_function
    from chainrule.symbolic import parse
    from chainrule.symbolic.errors import SymbolicError
    from chainrule.symbolic.evaluation import check_float_constants

    try:
        expr = parse(args.expression)
        check_float_constants(expr)  # 10**400 is exact, but no float holds it
    except SymbolicError as err:
        raise UsageError(str(err)) from None
    names, point = _point(expr, args.at)
    f = expression_function(expr, names)
    import numpy as np

    with np.errstate(all="ignore"):
        value = float(np.asarray(f(*point)))
    if not math.isfinite(value):
        raise UsageError(_not_finite(f, names, point, value))
    return expr, names, point, f


def _unusable(command: str, problems: list[str]) -> int:
    """The result was printed, but it is not a derivative: say why, exit status 1."""
    print(f"chainrule {command}: error: the derivative is not usable at this point: "
          f"{problems[0]}", file=sys.stderr)
    return 1


def run_diff(args: argparse.Namespace) -> int:
    from chainrule.explainer.compare import compare

    expr, names, point, f = _prepare(args)
    table = compare(f, *point, names=names, tolerance=args.tolerance, expression=expr)
    print(table)
    return 0 if table.usable else _unusable("diff", table.problems)


def run_explain(args: argparse.Namespace) -> int:
    from chainrule.explainer.dot import prepare_graph_path, render_dot, to_dot
    from chainrule.explainer.trace import explain

    if args.graph:  # before any work: a bad path is bad input
        try:
            prepare_graph_path(args.graph)
        except (OSError, ValueError) as err:
            raise UsageError(str(err)) from None
    if args.html:
        _writable(args.html)
    expr, names, point, f = _prepare(args)
    # LaTeX output stays pure LaTeX: the lines around the aligned block are comments
    note = "% " if args.format == "latex" else ""
    print(f"{note}f({', '.join(names)}) = {expr}")
    try:
        explanation = explain(f, *point, mode=args.mode, names=names)
    except ValueError as err:  # e.g. a constant expression: nothing to explain
        raise UsageError(str(err)) from None
    print(explanation.render(args.format))
    if args.code:
        _print_programs(f, names, point, note)
    if args.graph:
        try:
            path = render_dot(to_dot(f, *point, names=names), args.graph)
        except (OSError, ValueError) as err:
            raise UsageError(str(err)) from None
        except RuntimeError as err:  # Graphviz missing: the .dot text was written instead
            print(f"note: {err}", file=sys.stderr)
        else:
            print(f"{note}graph written to {path}")
    if args.html:
        from chainrule.explainer.compare import compare

        table = compare(f, *point, names=names, expression=expr)
        page = explanation.to_html(table, title=f"f({', '.join(names)}) = {expr}")
        with open(args.html, "w", encoding="utf-8") as out:
            out.write(page)
        print(f"{note}page written to {args.html}")
    return 0 if explanation.usable else _unusable("explain", explanation.problems)


def _writable(path: str) -> None:
    """Refuse an --html path that cannot be written, before any work."""
    import os

    folder = os.path.dirname(os.path.abspath(path))
    if not path.endswith((".html", ".htm")):
        raise UsageError(f"--html {path}: give a file name ending in .html")
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise UsageError(f"--html {path}: the folder {folder} does not exist or is not "
                         f"writable")


def run_explain_nn(args: argparse.Namespace) -> int:
    from chainrule.explainer.nn_gradients import explain_nn

    try:
        report = explain_nn(hidden=args.hidden, batch=args.batch, inputs=args.inputs,
                            outputs=args.outputs, loss=args.loss, activation=args.activation,
                            seed=args.seed, numerical_tolerance=args.tolerance)
    except ValueError as err:
        raise UsageError(str(err)) from None
    print(report.render(args.format))
    return 0 if report.passed else 1


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def seed_int(text: str) -> int:
    """An argparse type: a random seed, an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is an integer >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def _register_explain_nn(commands: argparse._SubParsersAction) -> None:
    nn = commands.add_parser(
        "explain-nn", help="backpropagation through a one-hidden-layer network, derived by "
                           "hand and checked against reverse mode and finite differences")
    nn.add_argument("--loss", choices=("mse", "cross-entropy"), default="mse",
                    help="the loss at the output: mean squared error or softmax cross-entropy "
                         "(default mse)")
    nn.add_argument("--activation", choices=("sigmoid", "tanh", "relu"), default="tanh",
                    help="the hidden layer's activation (default tanh)")
    nn.add_argument("--hidden", type=positive_int, default=4, metavar="N",
                    help="hidden units (default 4)")
    nn.add_argument("--batch", type=positive_int, default=5, metavar="N",
                    help="examples in the batch (default 5)")
    nn.add_argument("--inputs", type=positive_int, default=3, metavar="N",
                    help="input features (default 3)")
    nn.add_argument("--outputs", type=positive_int, default=2, metavar="N",
                    help="outputs, or classes for cross-entropy (default 2)")
    nn.add_argument("--seed", type=seed_int, default=0, help="seed of the random batch (default 0)")
    nn.add_argument("--format", choices=("text", "markdown"), default="text",
                    help="plain text, or Markdown with tables (default text)")
    nn.add_argument("--tolerance", type=positive_float, default=1e-6,
                    help="largest error accepted against central differences, times "
                         "max(1, max |gradient|) (default 1e-6)")
    nn.set_defaults(run=_guard(run_explain_nn))


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


def _print_programs(f: Any, names: list[str], point: list[float], note: str) -> None:
    """``--code``: the forward program and the gradient's, as traced NumPy code."""
    import chainrule as cr

    def named(*xs: Any) -> Any:  # the expression's variable names for the code
        return f(*xs)

    named.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
    named.__name__ = "f"
    print(f"{note}forward program:")
    for line in str(cr.make_program(named)(*point)).splitlines():
        print(f"{note}{line}")
    print(f"{note}derivative program (cr.grad, every variable):")
    grad = cr.grad(named, argnums=tuple(range(len(names))))
    for line in str(cr.make_program(grad)(*point)).splitlines():
        print(f"{note}{line}")


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
    explain.add_argument("--mode", choices=("forward", "reverse"), default="reverse",
                         help="forward: tangents from the inputs, one sweep per input; "
                              "reverse: adjoints from the output back (default reverse)")
    explain.add_argument("--format", choices=("text", "markdown", "latex"), default="text",
                         help="plain text, Markdown tables, or LaTeX (one aligned block; "
                              "other lines are %% comments) (default text)")
    explain.add_argument("--graph", metavar="FILE",
                         help="also draw the graph: .svg, .png, .pdf or .dot")
    explain.add_argument("--html", metavar="FILE",
                         help="also write one self-contained page (no network) that steps "
                              "through the sweeps: buttons and arrow keys")
    explain.add_argument("--code", action="store_true",
                         help="also print the forward and derivative programs as NumPy "
                              "code (traced with cr.make_program)")
    explain.set_defaults(run=_guard(run_explain))

    _register_explain_nn(commands)
