"""Expression swell, measured: tree size against DAG size, chainrule against SymPy.

Three families of expressions, indexed by k:

* ``product``: f_0 = x, f_k = f_(k-1) * sin(f_(k-1)), a repeated product whose
  tree doubles at every step while its DAG gains two nodes;
* ``composition``: k nested ``exp(sin(.))``, whose derivative repeats the
  inner chain in every factor of the chain rule;
* ``order``: the k-th derivative of ``exp(sin(x))``.

For each, ``measure`` differentiates with chainrule (unsimplified: what the
rules build) and, when asked, with ``sympy.diff`` on the same expression,
and reports sizes and CPU times. ``python -m chainrule.symbolic.swell`` prints
the table.

``against_sympy`` measures the *simplified* k-th derivative of ``exp(sin(x))``
against ``sympy.diff`` followed by ``sympy.cse``, counting operations the same
way for both (``sympy_operations``: SymPy's ``count_ops`` over the CSE'd
program) and also by chainrule's own count (``operations``: the DAG's nodes
that are not leaves).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from chainrule import ops
from chainrule.symbolic.derivatives import diff
from chainrule.symbolic.expr import Expr, symbol
from chainrule.symbolic.walk import dag_size, postorder, tree_size


def _product(k: int) -> tuple[Expr, int]:
    f = symbol("x")
    for _ in range(k):
        f = f * ops.sin(f)
    return f, 1


def _composition(k: int) -> tuple[Expr, int]:
    f = symbol("x")
    for _ in range(k):
        f = ops.exp(ops.sin(f))
    return f, 1


def _order(k: int) -> tuple[Expr, int]:
    return ops.exp(ops.sin(symbol("x"))), k


FAMILIES: dict[str, Callable[[int], tuple[Expr, int]]] = {
    "product": _product, "composition": _composition, "order": _order,
}


def measure(family: str, k: int, *, with_sympy: bool = True) -> dict[str, Any]:
    """Sizes and CPU seconds of the derivative of member ``k`` of ``family``."""
    f, order = FAMILIES[family](k)
    start = time.process_time()
    d = diff(f, "x", order, simplify=False)
    seconds = time.process_time() - start
    row = {"family": family, "k": k, "input dag": dag_size(f), "tree": tree_size(d),
           "dag": dag_size(d), "chainrule s": seconds, "sympy s": None}
    if with_sympy:
        import sympy

        from chainrule.symbolic.sympy_bridge import to_sympy

        g = to_sympy(f)
        start = time.process_time()
        sympy.diff(g, sympy.Symbol("x", real=True), order)
        row["sympy s"] = time.process_time() - start
    return row


def table(families: Iterable[str] = tuple(FAMILIES), ks: Iterable[int] = range(1, 31, 3),
          *, sympy_budget: float = 5.0) -> str:
    """A Markdown table of ``measure`` over ``families`` and ``ks``; SymPy stops
    being timed in a family once one call took more than ``sympy_budget`` seconds."""
    lines = ["| family | k | tree_size(d) | dag_size(d) | chainrule diff (s) | sympy.diff (s) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for family in families:
        with_sympy = True
        for k in ks:
            row = measure(family, k, with_sympy=with_sympy)
            theirs = row["sympy s"]
            if theirs is not None and theirs > sympy_budget:
                with_sympy = False
            shown = f"{theirs:.4f}" if theirs is not None else "(skipped)"
            lines.append(f"| {family} | {k} | {row['tree']:.3g} | {row['dag']} | "
                         f"{row['chainrule s']:.4f} | {shown} |")
    return "\n".join(lines)


def operations(expr: Expr) -> int:
    """The number of operations of ``expr`` with sharing: DAG nodes that are not leaves."""
    return sum(1 for node in postorder([expr]) if node.prim is not None)


def sympy_operations(expr: Any) -> int:
    """SymPy's operation count of a SymPy expression after its own CSE: ``count_ops``
    of every assignment and of the result (a node with k arguments counts k - 1)."""
    import sympy

    assignments, reduced = sympy.cse(expr)
    return sum(sympy.count_ops(value) for _, value in assignments) + \
        sum(sympy.count_ops(r) for r in reduced)


def against_sympy(order: int, text: str = "exp(sin(x))") -> dict[str, Any]:
    """The simplified ``order``-th derivative of ``text`` by chainrule (``diff`` with
    ``simplify=True``: one simplify per order) and by ``sympy.diff`` plus ``sympy.cse``,
    in this process: CPU seconds and operation counts."""
    import sympy

    from chainrule.symbolic.parser import parse
    from chainrule.symbolic.sympy_bridge import to_sympy

    f = parse(text)
    start = time.process_time()
    ours = diff(f, "x", order)
    ours_s = time.process_time() - start
    x = sympy.Symbol("x", real=True)
    g = to_sympy(f)
    start = time.process_time()
    theirs = sympy.diff(g, x, order)
    sympy.cse(theirs)
    theirs_s = time.process_time() - start
    return {"order": order, "chainrule ops": operations(ours),
            "chainrule ops (sympy count)": sympy_operations(to_sympy(ours)),
            "chainrule dag": dag_size(ours), "chainrule s": ours_s,
            "sympy ops": sympy_operations(theirs), "sympy s": theirs_s}


def against_sympy_table(orders: Iterable[int] = (5, 10, 15, 20)) -> str:
    """A Markdown table of ``against_sympy`` for ``exp(sin(x))``."""
    lines = ["| order | chainrule ops (DAG) | chainrule ops (SymPy's count) | sympy diff+cse ops "
             "| chainrule diff+simplify (s) | sympy diff+cse (s) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for k in orders:
        r = against_sympy(k)
        lines.append(f"| {k} | {r['chainrule ops']} | {r['chainrule ops (sympy count)']} | "
                     f"{r['sympy ops']} | {r['chainrule s']:.3f} | {r['sympy s']:.3f} |")
    return "\n".join(lines)


def random_dag(nodes: int = 10_000, seed: int = 0) -> Expr:
    """A random expression DAG with about ``nodes`` nodes whose values stay in [-1, 1]."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x, y = symbol("x"), symbol("y")
    made = [x, y, x * y]
    steps = [lambda a, b: ops.tanh(a + b), lambda a, b: a * b,
             lambda a, b: ops.sin(a) * b, lambda a, b: ops.cos(a - b)]
    while dag_size(made[-1]) < nodes:
        for _ in range(max(1, nodes // 100)):
            a = made[-1 - rng.integers(0, min(30, len(made)))]
            b = made[rng.integers(0, len(made))]
            made.append(steps[rng.integers(0, len(steps))](a, b))
    return made[-1]


def large_dag(nodes: int = 10_000) -> dict[str, Any]:
    """CPU seconds of one unsimplified ``diff`` of a ``random_dag`` of ``nodes`` nodes."""
    f = random_dag(nodes)
    start = time.process_time()
    d = diff(f, "x", simplify=False)
    seconds = time.process_time() - start
    return {"input dag": dag_size(f), "input tree": tree_size(f), "dag": dag_size(d),
            "chainrule s": seconds}


if __name__ == "__main__":  # pragma: no cover - a report, run by hand
    print(table())
    print(large_dag())
    print(against_sympy_table())
