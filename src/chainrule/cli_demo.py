"""``chainrule demo``: the seed example, derived several ways and explained."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    import chainrule as cr
    from chainrule.explainer import graph_text

    print("f(x) = x**2 - 3*x - 2 at x = 3")
    x = cr.tensor(3.0, requires_grad=True)
    y = x**2 - 3 * x - 2
    print(f"  value            f(3)  = {y.item():g}")
    print("  recorded graph (reverse mode records every primitive it applies):")
    for line in graph_text(y, names={id(x): "x"}).splitlines():
        print("    " + line)
    y.backward()
    print(f"  reverse mode     f'(3) = {x.grad.item():g}   (x.grad after y.backward())")
    slope = cr.grad(lambda x: x**2 - 3 * x - 2)(3.0)
    print(f"  cr.grad          f'(3) = {float(slope):g}")
    curvature = cr.grad(cr.grad(lambda x: x**2 - 3 * x - 2))(3.0)
    print(f"  grad of grad     f''(3) = {float(curvature):g}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("demo", help="the seed example, derived and explained")
    parser.set_defaults(run=run)
