"""Graph nodes of reverse mode and their iterative topological order.

A node remembers one primitive application: the primitive, its inputs
(tensors or constants), its raw argument arrays, its parameters and its
output array. The output tensor points to its node; the node points only
upstream (to input tensors) and to its output through a weak reference, so
tensor and node form no reference cycle and a dropped output frees its graph
by reference counting alone.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any


class Node:
    """One recorded primitive application."""

    __slots__ = ("prim", "inputs", "args", "params", "out", "out_ref", "needs", "where",
                 "__weakref__")

    def __init__(self, prim: Any, inputs: tuple, args: tuple, params: dict, out: Any,
                 needs: tuple[int, ...]) -> None:
        self.prim = prim
        self.inputs: tuple | None = inputs  # tensors or constants, as passed
        self.args: tuple | None = args  # the raw arrays the implementation saw
        self.params = params
        self.out = out  # raw output array
        self.out_ref: weakref.ref | None = None
        self.needs = needs  # indices of inputs that require grad
        self.where: str | None = None  # "file:line" of the user's code, in anomaly mode

    @property
    def freed(self) -> bool:
        return self.inputs is None

    def free(self) -> None:
        """Drop saved values after a sweep that does not retain the graph."""
        self.inputs = None
        self.args = None
        self.out = None

    def parents(self) -> Iterable[Any]:
        """The input tensors that require grad (nodes or leaves)."""
        inputs = self.inputs
        if inputs is None:
            raise RuntimeError(
                f"backward through the graph a second time: the saved values of "
                f"{self.prim.name!r} were freed after the first backward; pass "
                f"retain_graph=True to the first backward to keep them")
        return [inputs[i] for i in self.needs]

    def __repr__(self) -> str:
        return f"<Node {self.prim.name}>"


def topological_order(root: Node, targets: set[int] | None = None) -> list[Node]:
    """Nodes reachable from ``root``, every node before the nodes it depends on.

    Iterative depth-first search (a million-node chain must not overflow the
    stack). If ``targets`` (ids of nodes or leaf tensors) is given, only nodes
    on a path from the root to a target are kept, so an inner derivative does
    not sweep an outer computation it cannot affect.
    """
    post: list[Node] = []
    reaches: dict[int, bool] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if expanded:
            if targets is not None:
                hit = key in targets
                for p in node.parents():
                    pnode = p._node
                    hit = hit or (id(p) in targets if pnode is None else reaches[id(pnode)])
                reaches[key] = hit
                if not hit:
                    continue
            post.append(node)
            continue
        if key in reaches:
            continue
        reaches[key] = False  # visiting
        stack.append((node, True))
        for p in node.parents():
            pnode = p._node
            if pnode is not None and id(pnode) not in reaches:
                stack.append((pnode, False))
    post.reverse()
    return post
