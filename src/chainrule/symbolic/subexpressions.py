"""Rewriting the DAG: common-subexpression elimination and substitution.

``cse``: every operation used more than once (or, with ``min_uses=1``, every
operation) gets a temporary name and one assignment. The assignments, in
order, are the program an AD engine effectively runs: a symbolic derivative
whose tree is exponentially large is, after CSE, a list of assignments as
long as its DAG (``dag_text`` prints it). ``subs`` replaces subexpressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule.symbolic.errors import SymbolicError
from chainrule.symbolic.expr import Expr, apply, make, symbol
from chainrule.symbolic.parser import expr_of
from chainrule.symbolic.walk import postorder, use_counts


def _fresh_names(prefix: str, taken: set[str]) -> Any:
    k = 0
    while True:
        name = f"{prefix}{k}"
        k += 1
        if name not in taken:
            yield name


def cse(exprs: Any, *, min_uses: int = 2, prefix: str = "t"
        ) -> tuple[list[tuple[Expr, Expr]], Any]:
    """``(assignments, reduced)``: ``assignments`` is a list of ``(temp, expression)``
    in dependency order, and ``reduced`` the expression(s) written with the temps.

    >>> from chainrule.symbolic import cse, parse
    >>> assignments, reduced = cse(parse("sin(x)**2 + sin(x)*cos(x)"))
    >>> assignments
    [(t0, sin(x))]
    >>> reduced
    t0**2 + t0*cos(x)
    """
    if isinstance(min_uses, bool) or not isinstance(min_uses, int) or min_uses < 1:
        raise SymbolicError(f"cse: min_uses must be a positive integer, got {min_uses!r}")
    single = isinstance(exprs, str | Expr) or not isinstance(exprs, Sequence)
    roots = [expr_of(exprs, "cse")] if single else [expr_of(e, "cse") for e in exprs]
    order = postorder(roots)
    counts = use_counts(roots, order)
    for r in roots:
        counts[id(r)] -= 1  # being an output is not a use
    names = _fresh_names(prefix, {n.value for n in order if n.is_symbol})
    new: dict[int, Expr] = {}
    assignments: list[tuple[Expr, Expr]] = []
    for node in order:
        if node.prim is None:
            new[id(node)] = node
            continue
        # the node itself, with its arguments replaced by their temporaries
        rebuilt = make(node.prim, tuple(new[id(a)] for a in node.args))
        if counts[id(node)] >= min_uses:
            temp = symbol(next(names))
            assignments.append((temp, rebuilt))
            new[id(node)] = temp
        else:
            new[id(node)] = rebuilt
    reduced = [new[id(r)] for r in roots]
    return assignments, reduced[0] if single else reduced


def dag_text(expr: Expr) -> str:
    """The expression as straight-line code: one line per distinct operation.

    Its length is the DAG size, however large the written-out tree.

    >>> from chainrule.symbolic import parse
    >>> print(dag_text(parse("sin(x)*cos(x) + sin(x)")))
    t0 = sin(x)
    t1 = cos(x)
    t2 = t0*t1
    out = t2 + t0
    """
    assignments, result = cse(expr, min_uses=1)
    lines = [f"{name} = {value}" for name, value in assignments]
    lines.append(f"out = {result}")
    return "\n".join(lines)


def rebuild(expr: Expr, replace: dict[int, Expr]) -> Expr:
    """``expr`` with the nodes whose ids are in ``replace`` replaced; the nodes
    above them are rebuilt through the chainrule operations (so they fold)."""
    new: dict[int, Expr] = {}
    for node in postorder([expr]):
        key = id(node)
        if key in replace:
            new[key] = replace[key]
        elif node.prim is None:
            new[key] = node
        else:
            args = tuple(new[id(a)] for a in node.args)
            same = all(n is a for n, a in zip(args, node.args))
            new[key] = node if same else apply(node.prim, args)
    return new[id(expr)]


def subs(expr: Any, mapping: dict[Any, Any] | None = None, **kwargs: Any) -> Expr:
    """``expr`` with symbols (names or symbols) or subexpressions replaced by
    expressions, numbers or text; the nodes above them fold again.

    >>> from chainrule.symbolic import parse, subs
    >>> subs(parse("x**2 + y"), x=3)
    9 + y
    """
    expr = expr_of(expr, "subs")
    mapping = {**(mapping or {}), **kwargs}
    replace = {}
    olds = []  # kept alive while their ids are keys
    for old, new in mapping.items():
        olds.append(expr_of(old, "subs"))
        replace[id(olds[-1])] = expr_of(new, "subs")
    return rebuild(expr, replace)
