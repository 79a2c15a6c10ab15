"""Text for expressions: ``str`` with minimal parentheses, LaTeX, tree and DAG views.

``str`` writes operators with the parser's precedences (``**`` above unary
minus above ``* /`` above ``+ -`` above comparisons above ``&`` above ``|``)
and puts a parenthesis only where the tree needs one, so parsing the text
gives back the very same node. Printing walks with an explicit stack; an
expression too large to write out (expression swell: a DAG of 300 nodes can
stand for a tree of 10**30) raises instead of filling memory. ``dag_text``
and ``cse`` show such expressions with sharing.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from chainrule import ops
from chainrule.symbolic.errors import SymbolicError
from chainrule.symbolic.numbers import scientific
from chainrule.symbolic.walk import depth, tree_size, use_counts

if TYPE_CHECKING:
    from chainrule.symbolic.expr import Expr

PRINT_LIMIT = 1_000_000  # nodes of the written-out tree

OR, AND, CMP, ADD, MUL, NEG, POW, ATOM = range(1, 9)

# primitive -> (operator text, precedence, least precedence of left and right operand)
BINARY = {
    ops.add: (" + ", ADD, ADD, MUL),
    ops.subtract: (" - ", ADD, ADD, MUL),
    ops.multiply: ("*", MUL, MUL, NEG),
    ops.divide: ("/", MUL, MUL, NEG),
    ops.power: ("**", POW, ATOM, NEG),
    ops.greater: (" > ", CMP, ADD, ADD),
    ops.greater_equal: (" >= ", CMP, ADD, ADD),
    ops.less: (" < ", CMP, ADD, ADD),
    ops.less_equal: (" <= ", CMP, ADD, ADD),
    ops.equal: (" == ", CMP, ADD, ADD),
    ops.not_equal: (" != ", CMP, ADD, ADD),
    ops.logical_and: (" & ", AND, AND, CMP + 1),
    ops.logical_or: (" | ", OR, OR, AND + 1),
}


def number_text(value: Any) -> str:
    """A number as the parser reads it back: ``3``, ``-1/2``, ``0.25``, ``inf``.

    An integer longer than Python writes out (``sys.get_int_max_str_digits()``,
    4300 digits by default; the parser never builds one, but ``constant`` takes
    any) is written in scientific notation, approximately: text for it cannot be
    both exact and short.
    """
    if type(value) is Fraction:
        return f"{_integer_text(value.numerator)}/{_integer_text(value.denominator)}"
    if type(value) is int:
        return _integer_text(value)
    return repr(value)


def _integer_text(value: int) -> str:
    try:
        return repr(value)
    except ValueError:  # longer than Python's int-to-str limit
        return scientific(value)


def _number_precedence(value: Any) -> int:
    if type(value) is Fraction:
        return MUL  # written as a division
    if type(value) is float:
        return NEG if math.copysign(1.0, value) < 0 else ATOM
    return NEG if value < 0 else ATOM


def precedence(node: Expr) -> int:
    """How tightly the text of ``node`` binds (higher: tighter)."""
    if node.prim is None:
        return ATOM if type(node.value) is str else _number_precedence(node.value)
    if node.prim is ops.negative:
        return NEG
    entry = BINARY.get(node.prim)
    return entry[1] if entry is not None else ATOM


def _check_size(expr: Expr, what: str) -> None:
    size = tree_size(expr)
    if size > PRINT_LIMIT:
        raise SymbolicError(f"{what}: the expression has {size} nodes when written out as "
                            f"a tree (its DAG has fewer); show it with dag_text() or cse()")


def _operand(parts: list, child: Expr, least: int, bool_operand: bool = False) -> None:
    p = precedence(child)
    if p < least or (bool_operand and p == CMP):
        parts.extend(("(", child, ")"))
    else:
        parts.append(child)


def _layout(node: Expr) -> list:
    """The pieces of ``node``'s text: strings and argument nodes."""
    prim = node.prim
    if prim is ops.negative:
        parts: list = ["-"]
        _operand(parts, node.args[0], NEG)
        return parts
    entry = BINARY.get(prim)
    if entry is not None:
        text, prec, left, right = entry
        boolean = prec <= AND  # (x > 0) & (y > 0): clearer, and valid Python too
        parts = []
        _operand(parts, node.args[0], left, boolean)
        parts.append(text)
        _operand(parts, node.args[1], right, boolean)
        return parts
    parts = [f"{prim.name}("]
    for i, a in enumerate(node.args):
        if i:
            parts.append(", ")
        parts.append(a)
    parts.append(")")
    return parts


def to_str(expr: Expr) -> str:
    """The expression as text the parser reads back to the same node.

    >>> from chainrule.symbolic import parse
    >>> str(parse("(x + 1) * (x - -y) ^ 2 / 3"))
    '(x + 1)*(x + y)**2/3'
    """
    _check_size(expr, "str")
    out: list[str] = []
    stack: list[Any] = [expr]
    while stack:
        item = stack.pop()
        if type(item) is str:
            out.append(item)
        elif item.prim is None:
            out.append(item.value if type(item.value) is str else number_text(item.value))
        else:
            stack.extend(reversed(_layout(item)))
    return "".join(out)


def tree_text(expr: Expr, max_depth: int = 500) -> str:
    """The expression as an indented tree; a node shared in the DAG is written out
    once, marked ``#k``, and referred to as ``-> #k`` afterwards. Deeper trees
    than ``max_depth`` raise (the indentation alone would grow quadratically).

    >>> from chainrule.symbolic import parse
    >>> print(tree_text(parse("sin(x)*cos(x) + sin(x)")))
    add
    ├── multiply
    │   ├── sin  #1
    │   │   └── x
    │   └── cos
    │       └── x
    └── -> #1 sin(x)
    """
    levels = depth(expr)
    if levels > max_depth:
        raise SymbolicError(f"tree_text: the expression is {levels} levels deep, more than "
                            f"max_depth={max_depth}; show it with dag_text()")
    counts = use_counts([expr])
    labels: dict[int, int] = {}
    lines: list[str] = []
    stack: list[tuple[Expr, str, str]] = [(expr, "", "")]  # node, own prefix, child prefix
    while stack:
        node, prefix, child_prefix = stack.pop()
        if node.prim is None:
            lines.append(prefix + to_str(node))
            continue
        if id(node) in labels:
            lines.append(f"{prefix}-> #{labels[id(node)]} {_short(node)}")
            continue
        label = ""
        if counts[id(node)] > 1:
            labels[id(node)] = len(labels) + 1
            label = f"  #{labels[id(node)]}"
        lines.append(prefix + node.prim.name + label)
        n = len(node.args)
        for i, a in reversed(list(enumerate(node.args))):
            last = i == n - 1
            stack.append((a, child_prefix + ("└── " if last else "├── "),
                          child_prefix + ("    " if last else "│   ")))
    return "\n".join(lines)


def _short(node: Expr, width: int = 40) -> str:
    if tree_size(node) > 200:
        return f"({node.prim.name} ...)" if node.prim is not None else to_str(node)
    text = to_str(node)
    return text if len(text) <= width else text[: width - 3] + "..."
