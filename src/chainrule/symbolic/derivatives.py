"""Symbolic derivatives from the primitive table's own rules.

``diff`` is forward-mode AD run on expressions instead of numbers: one
sweep over the DAG in topological order gives every node the tangent
``sum_i prim.jvps[i](d arg_i, node, *args)``. The JVP rules are the ones
forward mode runs on arrays; they are written with chainrule operations, so
given expressions they build expressions (see ``symbolic.expr``). With
``mode="reverse"`` the gradient comes from the VJP rules instead, one
backward sweep for all variables, exactly as reverse mode runs on arrays.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from typing import Any

from chainrule.symbolic.errors import SymbolicError
from chainrule.symbolic.expr import ONE, ZERO, Expr, as_expr
from chainrule.symbolic.parser import expr_of
from chainrule.symbolic.simplifier import simplify as run_simplify
from chainrule.symbolic.walk import postorder


def _variable(var: Any, where: str) -> Expr:
    node = expr_of(var, where)
    if not node.is_symbol:
        raise SymbolicError(f"{where}: can only differentiate with respect to a variable, "
                            f"got {node!r}")
    return node


def _variables(names: Any, where: str) -> list[Expr]:
    if isinstance(names, str):
        names = names.replace(",", " ").split()
    if isinstance(names, Expr):
        names = [names]
    result = [_variable(v, where) for v in names]
    if not result:
        raise SymbolicError(f"{where}: no variables given")
    return result


def _run_rule(rule: Any, node: Expr, seed: Expr, moving: Container[int]) -> Expr | None:
    """``rule(seed, node, *args)``; ``moving`` holds the ids of the nodes that depend
    on the variables, which kinked rules need (``perturbed``, see subgradients)."""
    params = {}
    if getattr(node.prim, "takes_perturbed", False):
        params["perturbed"] = tuple(i for i, a in enumerate(node.args) if id(a) in moving)
    try:
        out = rule(seed, node, *node.args, **params)
    except SymbolicError:
        raise
    except Exception as err:  # a rule that cannot run on expressions (a user's primitive)
        raise SymbolicError(f"the derivative rule of {node.prim.name!r} could not run on "
                            f"symbolic expressions: {type(err).__name__}: {err}") from err
    return None if out is None else as_expr(out, node.prim.name)


def _rules(node: Expr, kind: str) -> Any:
    prim = node.prim
    rules = prim.jvps if kind == "jvp" else prim.vjps
    if rules is None and (prim.jvps is not None or prim.vjps is not None):
        raise SymbolicError(f"the primitive {prim.name!r} has no {kind.upper()} rule; "
                            f"define one with def{kind}")
    return rules  # None: not differentiable (a comparison, sign, floor): derivative 0


def tangent(expr: Expr, var: Expr) -> Expr:
    """One forward sweep: the derivative of ``expr`` along ``var``, unsimplified."""
    tangents: dict[int, Expr] = {id(var): ONE}
    for node in postorder([expr]):
        if node.prim is None:
            continue
        total = None
        rules = None
        for i, a in enumerate(node.args):
            da = tangents.get(id(a))
            if da is None:
                continue
            if rules is None:
                rules = _rules(node, "jvp")
                if rules is None:
                    break
            rule = rules[i]
            if rule is None:  # e.g. the condition of where: no derivative flows
                continue
            t = _run_rule(rule, node, da, tangents)
            if t is not None:
                total = t if total is None else total + t
        if total is not None and total is not ZERO:
            tangents[id(node)] = total
    return tangents.get(id(expr), ZERO)


def adjoints(expr: Expr, variables: Sequence[Expr]) -> list[Expr]:
    """One backward sweep: the gradient of ``expr`` by the VJP rules, unsimplified."""
    order = postorder([expr])
    wanted = {id(v) for v in variables}
    depends: set[int] = set()  # nodes through which some variable reaches expr
    for node in order:
        if id(node) in wanted or any(id(a) in depends for a in node.args):
            depends.add(id(node))
    cots: dict[int, Expr] = {id(expr): ONE}
    for node in reversed(order):
        g = cots.get(id(node))
        if g is None or node.prim is None or id(node) not in depends:
            continue
        rules = _rules(node, "vjp")
        if rules is None:
            continue
        for i, a in enumerate(node.args):
            if id(a) not in depends or rules[i] is None:
                continue
            gi = _run_rule(rules[i], node, g, depends)
            if gi is not None:
                prev = cots.get(id(a))
                cots[id(a)] = gi if prev is None else prev + gi
    return [cots.get(id(v), ZERO) for v in variables]


def _finish(expr: Expr, simplify: bool) -> Expr:
    return run_simplify(expr) if simplify else expr


def diff(expr: Any, var: Any, n: int = 1, *, simplify: bool = True) -> Expr:
    """The n-th derivative of ``expr`` with respect to the variable ``var``.

    ``expr`` may be text. With ``simplify`` (the default) each derivative is
    simplified; without it you see exactly what the rules built, sharing and
    all (``tree_size`` vs ``dag_size`` shows the swell).

    >>> from chainrule.symbolic import diff, parse
    >>> e = parse("x**2 - 3*x - 2")
    >>> diff(e, "x")
    2*x - 3
    >>> diff(e, "x", 2)
    2
    >>> diff("sin(x)*exp(x)", "x")
    cos(x)*exp(x) + exp(x)*sin(x)
    >>> diff("relu(x)", "x")
    x > 0
    """
    expr = expr_of(expr, "diff")
    x = _variable(var, "diff")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise SymbolicError(f"diff: the order n must be a non-negative integer, got {n!r}")
    for _ in range(n):
        expr = _finish(tangent(expr, x), simplify)
    return expr


def gradient(expr: Any, variables: Any, *, simplify: bool = True,
             mode: str = "forward") -> list[Expr]:
    """The partial derivatives of ``expr`` with respect to each of ``variables``.

    ``mode="forward"`` runs one JVP sweep per variable, ``"reverse"`` one VJP
    sweep for all of them: the two give equal expressions.

    >>> from chainrule.symbolic import gradient
    >>> gradient("x**2*y + y", "x y")
    [2*x*y, x**2 + 1]
    """
    expr = expr_of(expr, "gradient")
    xs = _variables(variables, "gradient")
    if mode == "forward":
        parts = [tangent(expr, x) for x in xs]
    elif mode == "reverse":
        parts = adjoints(expr, xs)
    else:
        raise SymbolicError(f"gradient: mode must be 'forward' or 'reverse', got {mode!r}")
    return [_finish(p, simplify) for p in parts]


def jacobian(exprs: Any, variables: Any, *, simplify: bool = True) -> list[list[Expr]]:
    """The matrix of partial derivatives: one row per expression, one column per variable.

    >>> from chainrule.symbolic import jacobian
    >>> jacobian(["x*y", "x + y"], "x y")
    [[y, x], [1, 1]]
    """
    if isinstance(exprs, str | Expr):
        exprs = [exprs]
    return [gradient(e, variables, simplify=simplify) for e in exprs]


def hessian(expr: Any, variables: Any, *, simplify: bool = True) -> list[list[Expr]]:
    """The matrix of second partial derivatives (the Jacobian of the gradient).

    >>> from chainrule.symbolic import hessian
    >>> hessian("x**3*y", "x y")
    [[6*x*y, 3*x**2], [3*x**2, 0]]
    """
    return jacobian(gradient(expr, variables, simplify=simplify), variables,
                    simplify=simplify)
