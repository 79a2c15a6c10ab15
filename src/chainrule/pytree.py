"""Nested containers of arrays (pytrees): flattened to a list of leaves and back.

Transforms take and return structured values as JAX does: a model's
parameters as a dict of arrays, a pair of inputs, a list of layers. Tuples
(named tuples included), lists and dicts are containers, ``None`` is a
container with no leaves (an absent bias, say), and everything else is a
leaf. Dict keys are visited in sorted order, so two dicts with the same keys
have the same structure whatever order they were built in.

>>> from chainrule import pytree
>>> leaves, tree = pytree.flatten({"w": [1.0, 2.0], "b": 3.0})
>>> leaves
[3.0, 1.0, 2.0]
>>> pytree.unflatten(tree, [30.0, 10.0, 20.0])
{'b': 30.0, 'w': [10.0, 20.0]}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["TreeDef", "flatten", "unflatten", "tree_map", "flatten_up_to", "leaf_paths"]


class TreeDef:
    """The shape of a pytree without its leaves: what ``unflatten`` rebuilds from.

    ``kind`` is "leaf", "none", "tuple", "list", "dict" or "namedtuple";
    ``meta`` holds a dict's keys or a named tuple's type.
    """

    __slots__ = ("kind", "meta", "children", "num_leaves")

    def __init__(self, kind: str, meta: Any = None, children: tuple[TreeDef, ...] = ()) -> None:
        self.kind = kind
        self.meta = meta
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TreeDef) and self.kind == other.kind
                and self.meta == other.meta and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.kind, self.children))

    def __repr__(self) -> str:
        return f"TreeDef({_describe(self)})"


def _describe(tree: TreeDef) -> str:
    """A short picture of a structure with * for each leaf: ``{'b': *, 'w': [*, *]}``."""
    inner = [_describe(c) for c in tree.children]
    if tree.kind == "leaf":
        return "*"
    if tree.kind == "none":
        return "None"
    if tree.kind == "dict":
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(tree.meta, inner)) + "}"
    if tree.kind == "list":
        return "[" + ", ".join(inner) + "]"
    comma = "," if len(inner) == 1 else ""
    name = tree.meta.__name__ if tree.kind == "namedtuple" else ""
    return f"{name}(" + ", ".join(inner) + comma + ")"


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _sorted_keys(d: dict) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError:  # keys of mixed types: keep the order they were inserted in
        return tuple(d)


def _children(x: Any) -> tuple[str, Any, tuple] | None:
    """(kind, meta, children) of a container, or None for a leaf."""
    if x is None:
        return "none", None, ()
    if isinstance(x, dict):
        keys = _sorted_keys(x)
        return "dict", keys, tuple(x[k] for k in keys)
    if _is_namedtuple(x):
        return "namedtuple", type(x), tuple(x)
    if isinstance(x, tuple):
        return "tuple", None, x
    if isinstance(x, list):
        return "list", None, tuple(x)
    return None


def flatten(tree: Any) -> tuple[list[Any], TreeDef]:
    """The leaves of ``tree`` in a fixed order, and its structure.

    >>> flatten((1.0, [2.0, None]))[0]
    [1.0, 2.0]
    """
    leaves: list[Any] = []
    return leaves, _flatten_into(tree, leaves)


# Module-level helpers rather than nested recursive closures: a closure that
# calls itself is a reference cycle, garbage on every transform call.

def _flatten_into(x: Any, leaves: list[Any]) -> TreeDef:
    node = _children(x)
    if node is None:
        leaves.append(x)
        return _LEAF
    kind, meta, children = node
    return TreeDef(kind, meta, tuple(_flatten_into(c, leaves) for c in children))


_LEAF = TreeDef("leaf")


def unflatten(tree: TreeDef, leaves: list[Any]) -> Any:
    """Rebuild a value of structure ``tree`` from ``leaves`` (in ``flatten``'s order)."""
    if len(leaves) != tree.num_leaves:
        raise ValueError(f"unflatten: the structure {_describe(tree)} has {tree.num_leaves} "
                         f"leaves, got {len(leaves)}")
    return _build(tree, iter(leaves))


def _build(t: TreeDef, leaves: Any) -> Any:
    if t.kind == "leaf":
        return next(leaves)
    if t.kind == "none":
        return None
    children = [_build(c, leaves) for c in t.children]
    if t.kind == "dict":
        return dict(zip(t.meta, children))
    if t.kind == "list":
        return children
    if t.kind == "namedtuple":
        return t.meta(*children)
    return tuple(children)


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """Apply ``f`` to each leaf (and the matching leaves of ``rest``), keeping the structure.

    >>> tree_map(lambda a, b: a + b, {"x": 1.0, "y": (2.0,)}, {"x": 10.0, "y": (20.0,)})
    {'x': 11.0, 'y': (22.0,)}
    """
    leaves, structure = flatten(tree)
    others = [flatten_up_to(structure, r, f"argument {i + 2}") for i, r in enumerate(rest)]
    return unflatten(structure, [f(*xs) for xs in zip(leaves, *others)])


def flatten_up_to(tree: TreeDef, value: Any, name: str = "value") -> list[Any]:
    """The parts of ``value`` at the leaf positions of ``tree``.

    Whatever sits at a leaf position is taken whole (``None`` included), so
    a tangent or cotangent may stand in for a primal leaf. A different
    structure raises ValueError naming the first place where they part.

    >>> flatten_up_to(flatten((1.0, 2.0))[1], (None, [3.0]))
    [None, [3.0]]
    """
    out: list[Any] = []
    _match(tree, value, name, "", out)
    return out


def _match(t: TreeDef, x: Any, name: str, path: str, out: list[Any]) -> None:
    if t.kind == "leaf":
        out.append(x)
        return
    node = _children(x)
    if node is None or node[0] != t.kind or node[1] != t.meta \
            or len(node[2]) != len(t.children):
        got = _describe(flatten(x)[1]) if node is not None else type(x).__name__
        raise ValueError(f"{name}{path}: expected {_describe(t)}, got {got}")
    for i, (c, v) in enumerate(zip(t.children, node[2])):
        _match(c, v, name, path + _step(t, i), out)


def _step(t: TreeDef, i: int) -> str:
    return f"[{t.meta[i]!r}]" if t.kind == "dict" else f"[{i}]"


def leaf_paths(tree: TreeDef) -> list[str]:
    """Where each leaf sits, as an indexing suffix (``"[0]['w']"``), for error messages.

    >>> leaf_paths(flatten({"w": (1.0, 2.0)})[1])
    ["['w'][0]", "['w'][1]"]
    """
    paths: list[str] = []
    _collect_paths(tree, "", paths)
    return paths


def _collect_paths(t: TreeDef, path: str, paths: list[str]) -> None:
    if t.kind == "leaf":
        paths.append(path)
    for i, c in enumerate(t.children):
        _collect_paths(c, path + _step(t, i), paths)
