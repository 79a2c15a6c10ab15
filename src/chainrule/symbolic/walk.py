"""Walking the DAG: topological order, sizes, use counts, a canonical sort key.

Every traversal is iterative with an explicit stack, and visits each shared
node once: an expression whose tree has 10**30 nodes but whose DAG has 300
costs 300 steps, and a chain a million deep does not touch Python's
recursion limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chainrule.symbolic.expr import Expr


def postorder(roots: Iterable[Expr]) -> list[Expr]:
    """Every node reachable from ``roots`` once, arguments before their users."""
    order: list[Expr] = []
    seen: set[int] = set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.args))]
        while stack:
            node, pending = stack[-1]
            for a in pending:
                if id(a) not in seen:
                    seen.add(id(a))
                    stack.append((a, iter(a.args)))
                    break
            else:  # every argument is done
                stack.pop()
                order.append(node)
    return order


def tree_size(expr: Expr) -> int:
    """The number of nodes of ``expr`` written out as a tree, shared parts repeated.

    Exact (a Python int), and computed on the DAG, so it is fast even when
    the number is astronomically large.

    >>> from chainrule.symbolic import parse, tree_size
    >>> tree_size(parse("sin(x) * sin(x)"))
    5
    """
    size: dict[int, int] = {}
    for node in postorder([expr]):
        size[id(node)] = 1 + sum(size[id(a)] for a in node.args)
    return size[id(expr)]


def dag_size(expr: Expr | list[Expr] | tuple[Expr, ...]) -> int:
    """The number of distinct nodes: the size of ``expr`` with sharing.

    >>> from chainrule.symbolic import parse, dag_size
    >>> dag_size(parse("sin(x) * sin(x)"))
    3
    """
    roots = list(expr) if isinstance(expr, list | tuple) else [expr]
    return len(postorder(roots))


def depth(expr: Expr) -> int:
    """The length of the longest path from ``expr`` down to a leaf (a leaf: 0).

    >>> from chainrule.symbolic import depth, parse
    >>> depth(parse("sin(x)*2"))
    2
    """
    d: dict[int, int] = {}
    for node in postorder([expr]):
        d[id(node)] = 1 + max((d[id(a)] for a in node.args), default=-1)
    return d[id(expr)]


def use_counts(roots: Sequence[Expr], order: list[Expr] | None = None) -> dict[int, int]:
    """How many times each node is used as an argument (roots count once more);
    ``order`` is ``postorder(roots)`` if the caller has it already."""
    counts: dict[int, int] = {}
    for node in postorder(roots) if order is None else order:
        counts.setdefault(id(node), 0)
        for a in node.args:
            counts[id(a)] = counts.get(id(a), 0) + 1
    for r in roots:
        counts[id(r)] += 1
    return counts


def sort_key(expr: Expr) -> tuple:
    """A total order on expressions that depends only on their structure.

    Numbers come first (by value), then symbols (by name), then applications
    (by primitive name, then their arguments' heads, then a digest of the
    rest). Cached on each node.
    """
    if expr._key is not None:
        return expr._key
    # a postorder that stops at nodes whose key is known, so each node is keyed once
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        if node._key is not None:
            continue
        if not expanded:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a._key is None)
            continue
        if node.prim is not None:
            head: tuple = (2, node.prim.name)
            # the arguments' heads, then a digest of everything below: a flat key,
            # since comparing nested tuples would recurse as deep as the expression
            args = tuple(a._key[0] for a in node.args)
            digest = _digest(head, [a._key[2] for a in node.args])
        elif type(node.value) is str:
            head, args = (1, node.value), ()
            digest = _digest(head, [])
        else:
            v = node.value
            kind = 0 if type(v) is int else 1 if type(v) is not float else 2
            head, args = ((0, 1, 0, kind) if v != v else (0, 0, v, kind)), ()  # nan last
            digest = _digest((0, _number_repr(v), kind), [])
        object.__setattr__(node, "_key", (head, args, digest))
    return expr._key


def _number_repr(value: object) -> str:
    try:
        return repr(value)
    except ValueError:  # an integer longer than Python's int-to-str limit
        return hex(value) if type(value) is int else \
            f"{hex(value.numerator)}/{hex(value.denominator)}"  # type: ignore[attr-defined]


def _digest(head: tuple, children: list[bytes]) -> bytes:
    """A structural fingerprint, the same in every process (unlike ``hash``)."""
    h = hashlib.blake2b(repr(head).encode(), digest_size=12)
    for c in children:
        h.update(c)
    return h.digest()
