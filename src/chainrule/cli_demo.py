"""``chainrule demo``: the tour. The seed example f(x) = x^2 - 3x - 2 at x = 3
through all four methods, its chain-rule trace and graph, what each method
costs as the number of inputs grows (measured, small sizes, plotted next to
the graph), then a short training run of a small network.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from chainrule.cli_explain import _guard


def _seed(x):
    return x**2 - 3 * x - 2


def _section(title: str) -> None:
    print()
    print(title)
    print("-" * len(title))


def run(args: argparse.Namespace) -> int:
    import chainrule as cr
    from chainrule.cli_costs import prepare_out, report
    from chainrule.explainer import compare, explain, graph_text, render_dot, to_dot

    # an unwritable --out is bad input: said before the tour starts, exit status 2
    out_dir = prepare_out(args.out) if args.out else Path(
        tempfile.mkdtemp(prefix="chainrule-demo-"))
    print("chainrule: every way a computer finds a derivative, cross-checked and explained")
    _section("1. Reverse mode, PyTorch style: record, then sweep back")
    x = cr.tensor(3.0, requires_grad=True)
    y = _seed(x)
    print(f"f(3) = {y.item():g}; the recorded graph:")
    for line in graph_text(y, names={id(x): "x"}).splitlines():
        print("    " + line)
    y.backward()
    print(f"reverse mode     f'(3) = {x.grad.item():g}   (x.grad after y.backward())")
    print(f"cr.grad          f'(3) = {float(cr.grad(_seed)(3.0)):g}")
    print(f"grad of grad     f''(3) = {float(cr.grad(cr.grad(_seed))(3.0)):g}")

    _section("2. All four methods side by side")
    print(compare(_seed, 3.0))

    _section("3. The chain rule, step by step (reverse mode)")
    print(explain(_seed, 3.0).text())

    _section("4. The graph")
    try:
        path = render_dot(to_dot(_seed, 3.0), out_dir / "seed_graph.svg")
        print(f"drawn to {path}")
    except (RuntimeError, OSError) as err:
        print(f"not drawn: {err}")

    _section("5. What each method costs, measured (n up to 16; compare-costs goes further)")
    try:
        paths = report(out_dir, max_n=16, repeat=1, progress=False)
        print("plotted to " + ", ".join(str(p) for p in paths))
    except (RuntimeError, OSError) as err:  # no matplotlib, or the folder went away
        print(f"not plotted: {err}")

    _section("6. A short training run: one hidden layer on a spiral")
    try:
        from chainrule.cli import main as cli_main
    except ImportError as err:  # pragma: no cover - the data extra is missing
        print(f"skipped: {err}")
        return 0
    return cli_main(["train", "shallow", "--quiet"])


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="the tour: the seed example, four ways, "
                                              "explained, drawn, the methods' costs plotted, "
                                              "then a short training run")
    parser.add_argument("--out", metavar="DIR", help="where to write the graph drawing and the "
                                                     "cost plots (default: a new temporary "
                                                     "folder)")
    parser.set_defaults(run=_guard(run))
