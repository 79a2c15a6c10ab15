"""Symbolic differentiation: expressions in, derivative expressions out.

>>> from chainrule import symbolic as sym
>>> e = sym.parse("x**2 - 3*x - 2")
>>> sym.diff(e, "x")
2*x - 3
>>> sym.diff(e, "x", 2)
2

**One rule per primitive.** This engine has no derivative table of its own.
An expression (:class:`Expr`) is a traced value, like a reverse-mode tensor,
of the highest level: every chainrule operation applied to one goes through
``bind`` to ``Expr._process``, which returns the hash-consed node
``prim(*args)`` (after cheap local folding: ``x*1`` is ``x``, ``2 - 3`` is
``-1``). ``diff`` then walks the DAG once, children first, giving each node
the tangent ``sum_i prim.jvps[i](d arg_i, node, *args)``: the very JVP rules
forward mode runs on arrays. Because those rules are written with chainrule
operations and Python operators, given expressions they build expressions:
``sin``'s rule ``dx * cos(x)`` makes the node ``cos(x)``. (``gradient(...,
mode="reverse")`` runs the VJP rules backwards instead.) So a fix to a rule
fixes every engine, and the derivative of a kinked primitive shows its
convention as a formula: ``diff("relu(x)", "x")`` is ``x > 0`` (0 at the
kink), ``diff("abs(x)", "x")`` is ``sign(x)``.

**Expression swell, and the DAG that tames it.** Written out as a tree, a
derivative can grow exponentially with the order or the nesting; stored as a
DAG it stays small, because the rules reuse the nodes they are given (the
primal ``out``, the argument's tangent). ``tree_size`` and ``dag_size`` show
both; ``cse`` turns the DAG into straight-line code, which is what forward
and reverse AD effectively run:

>>> f = sym.parse("exp(sin(x))")
>>> d = sym.diff(f, "x", 8, simplify=False)
>>> sym.tree_size(d) > 10_000, sym.dag_size(d) < 400
(True, True)

**Safety.** ``parse`` is a hand-written parser that never hands text to
``eval``; input length and nesting depth are limited. Every traversal is
iterative, so deep expressions never hit Python's recursion limit.

**Where things are.** ``expr`` (nodes, hash-consing, construction-time
folding), ``operators`` (Python operators as chainrule operations),
``parser``, ``derivatives`` (diff, gradient, jacobian, hessian),
``simplifier``, ``printing`` and ``latex_text``, ``evaluation`` and
``numeric`` (evaluate, lambdify, trace), ``subexpressions`` (cse, subs,
dag_text), ``sympy_bridge``, ``walk`` (traversals and sizes), and ``swell``
(the tree-vs-DAG measurements behind the benchmark).
"""

from chainrule.symbolic.derivatives import diff, gradient, hessian, jacobian
from chainrule.symbolic.errors import (
    MissingVariableError,
    ParseError,
    SymbolicError,
    SymbolicZeroDivisionError,
)
from chainrule.symbolic.expr import Expr, constant, symbol, symbols
from chainrule.symbolic.latex_text import latex
from chainrule.symbolic.numeric import evaluate, lambdify, trace
from chainrule.symbolic.parser import parse
from chainrule.symbolic.printing import tree_text
from chainrule.symbolic.simplifier import simplify
from chainrule.symbolic.subexpressions import cse, dag_text, subs
from chainrule.symbolic.sympy_bridge import from_sympy, to_sympy
from chainrule.symbolic.walk import dag_size, depth, tree_size

__all__ = [
    "Expr", "MissingVariableError", "ParseError", "SymbolicError",
    "SymbolicZeroDivisionError", "constant", "cse", "dag_size", "dag_text", "depth", "diff",
    "evaluate", "from_sympy", "gradient", "hessian", "jacobian", "lambdify", "latex",
    "parse", "simplify", "subs", "symbol", "symbols", "to_sympy", "trace", "tree_size",
    "tree_text",
]
