"""Graph nodes of reverse mode and their iterative topological order.

A node remembers one primitive application: the primitive, its inputs
(tensors or constants), its raw argument arrays, its parameters and its
output array. The output tensor points to its node; the node points only
upstream (to input tensors), so tensor and node form no reference cycle and
a dropped output frees its graph by reference counting alone.

The cyclic garbage collector still walks every live graph object in each of
its full collections, which a long forward pass triggers (and which walk
every other tracked object of the process too: a process that imported
PyTorch has some 170,000). So a recorded operation leaves as few tracked
objects as it can: its node, and nothing else once its output tensor is
dropped. The node keeps its first two inputs in slots of its own rather than
in a tuple (a tuple holding tensors would be one more tracked object per
operation), and an input that is itself the result of an operation as that
result's node (``stand_in`` shows it as a tensor again), so an intermediate
tensor lives only as long as its user holds it. Its saved arrays sit in a
tuple of untracked values, which the collector stops tracking at its first look.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterable
from typing import Any

node_sequence = itertools.count()  # creation numbers, shared by every way of making a node
_INDICES = [tuple(i for i in range(8) if mask >> i & 1) for mask in range(256)]


class _Changes:
    """When the latest in-place change of any tensor happened (a reading of
    ``node_sequence``): a sweep checks a node's inputs only when a change came
    after the node was recorded, so the check costs one comparison per node."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = -1


changes = _Changes()


def mark_changed(tensor: Any) -> None:
    """Record that ``tensor``'s array was changed in place (an optimizer step, an
    in-place update under ``no_grad``): its version becomes a fresh reading of
    the node clock, so every node recorded before has a smaller number."""
    stamp = next(node_sequence)
    tensor._version = stamp
    changes.last = stamp


# ``Node.plain`` of a plain node whose rules are known to give each argument a cotangent
# of its shape and dtype already (the operators record it when they can tell: a float64
# array with a float, or two arrays of one shape and dtype): the sweep fits nothing
EXACT = "exact"


def _no_stand_in(node: Node, data: Any) -> Any:
    raise RuntimeError("chainrule.tensor is not imported: no tensor can show a node's input")


# How a node shows an input it keeps as that input's node: a tensor over the array
# the operation saw, bound to the node (set by chainrule.tensor, which core cannot import)
stand_in: Callable[[Node, Any], Any] = _no_stand_in


def set_inputs(node: Node, inputs: tuple | None) -> None:
    """Store ``inputs`` (tensors or constants, as passed; None: freed) in ``node``."""
    if inputs is None:
        node._in0 = node._in1 = node._ins = None
        return
    n = len(inputs)
    node._in0 = inputs[0] if n else None
    node._in1 = inputs[1] if n > 1 else None
    node._ins = n if n <= 2 else tuple(inputs)


def free(node: Node) -> None:
    """Drop ``node``'s saved values (after a sweep that does not retain the graph)."""
    node._in0 = node._in1 = node._ins = node.args = node.out = None


def check_saved(node: Node) -> None:
    """Refuse to use ``node``'s saved values if an input tensor was changed in
    place after the node was recorded, or (``rebound``) given a new array."""
    seq = node.seq
    for i, a in enumerate(node.inputs):
        if getattr(a, "_version", -1) > seq:
            raise RuntimeError(_stale_message(node, i, a, "was changed in place"))


def check_rebound(node: Node) -> None:
    """With ``create_graph`` the sweep recomputes a node from its input tensors:
    refuse if one of them holds another array than the one the forward used."""
    for i, (a, v) in enumerate(zip(node.inputs, node.args)):
        if a is not v and getattr(a, "data", v) is not v:
            raise RuntimeError(_stale_message(node, i, a, "was given a new array (.data = ...)"))


def _owner_name(tensor: Any) -> str:
    """``" (Linear.weight)"`` when a module holds ``tensor`` as a parameter or buffer.

    Only the error path calls it: a search of the objects that refer to the
    tensor, so that the hot path needs no name on every tensor."""
    for holder in gc.get_referrers(tensor):  # a module's _parameters or _buffers dict
        if type(holder) is not dict:
            continue
        for attrs in gc.get_referrers(holder):  # the module's __dict__
            if type(attrs) is not dict or not (attrs.get("_parameters") is holder
                                               or attrs.get("_buffers") is holder):
                continue
            name = next((k for k, v in holder.items() if v is tensor), "?")
            owners = [o for o in gc.get_referrers(attrs) if getattr(o, "__dict__", None) is attrs]
            kind = type(owners[0]).__name__ if owners else "a module"
            return f" ({kind}.{name})"
    return ""


def _stale_message(node: Node, i: int, tensor: Any, what: str) -> str:
    data = getattr(tensor, "data", None)
    shape = getattr(data, "shape", "?")
    dtype = getattr(data, "dtype", "?")
    where = f" (recorded at {node.where})" if node.where else ""
    return (f"backward: a tensor of shape {shape} and dtype {dtype}{_owner_name(tensor)}, "
            f"argument {i} of "
            f"{node.prim.name!r}{where}, {what} after {node.prim.name!r} saved it "
            f"(an optimizer step or an update under no_grad), so the gradient would use "
            f"values the forward pass did not see; call backward before optimizer.step() "
            f"or before changing the tensor, or recompute the loss after the change")


def needed_indices(mask: int) -> tuple[int, ...]:
    """The argument indices whose bits are set in ``mask`` (shared tuples for small masks)."""
    if mask < 256:
        return _INDICES[mask]
    return tuple(i for i in range(mask.bit_length()) if mask >> i & 1)


class Node:
    """One recorded primitive application.

    Its inputs (``inputs``, tensors or constants as passed) are kept as
    ``_in0`` and ``_in1`` (the first two, None where absent) and ``_ins`` (how
    many when at most two, else the tuple of all; None once freed). The
    recording hot paths put a level-0 tensor that has a node in ``_in0`` or
    ``_in1`` as its node: the sweeps read the slots (``x if type(x) is Node else
    x._node``), everything else the ``inputs`` property, which shows such an
    input as a tensor over the saved array bound to that node. ``_hooks``,
    unset unless a hook is registered, holds the hooks of its tensor
    (``chainrule.reverse.add_hook``).
    """

    __slots__ = ("prim", "_in0", "_in1", "_ins", "args", "params", "out", "needs", "seq",
                 "where", "plain", "_hooks", "__weakref__")

    def __init__(self, prim: Any, inputs: tuple, args: Any, params: dict, out: Any,
                 needs: Any, plain: bool | str = False) -> None:
        self.prim = prim
        set_inputs(self, inputs)
        self.args = args  # the raw arrays the implementation saw
        self.params = params
        self.out = out  # raw output array
        self.needs = needs  # indices of inputs that require grad
        self.seq = next(node_sequence)  # creation order, which is a topological order
        self.where: str | None = None  # "file:line" of the user's code, in anomaly mode
        # args and out hold no value of an enclosing transform, only arrays and
        # constants: the first-order sweep may use NumPy-only partials (EXACT, which is
        # true too: and needs to fit no cotangent)
        self.plain = plain

    @property
    def inputs(self) -> tuple | None:
        """The inputs as passed (tensors or constants); None once freed."""
        ins = self._ins
        if type(ins) is int:
            if ins == 1:
                return (self.input(0),)
            return (self.input(0), self.input(1)) if ins == 2 else ()
        return ins

    @inputs.setter
    def inputs(self, inputs: tuple | None) -> None:
        set_inputs(self, inputs)

    def input(self, i: int) -> Any:
        """Input ``i`` (as ``inputs[i]``, without making the tuple)."""
        x = self._in0 if i == 0 else self._in1 if i == 1 else self._ins[i]
        return stand_in(x, self.args[i]) if type(x) is Node else x

    @property
    def freed(self) -> bool:
        return self._ins is None

    def free(self) -> None:
        """Drop saved values after a sweep that does not retain the graph."""
        free(self)

    def parents(self) -> Iterable[Any]:
        """The input tensors that require grad (nodes or leaves)."""
        if self._ins is None:
            raise RuntimeError(
                f"backward through the graph a second time: the saved values of "
                f"{self.prim.name!r} were freed after the first backward; pass "
                f"retain_graph=True to the first backward to keep them")
        return [self.input(i) for i in self.needs]

    def __repr__(self) -> str:
        return f"<Node {self.prim.name}>"


def topological_order(root: Node, targets: set[int] | None = None) -> list[Node]:
    """Nodes reachable from ``root``, every node before the nodes it depends on.

    A node is always created after its inputs, so sorting the reachable nodes
    by creation number, newest first, is a topological order: one iterative
    search (a million-node chain must not overflow the stack) and one sort.
    If ``targets`` (ids of nodes or leaf tensors) is given, only nodes on a
    path from the root to a target are kept, so an inner derivative does not
    sweep an outer computation it cannot affect.
    """
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        if node._ins is None:
            node.parents()  # raises: freed by an earlier backward
        for i in node.needs:
            parent = node._in0 if i == 0 else node._in1 if i == 1 else node._ins[i]
            if type(parent) is not Node:
                parent = parent._node
            if parent is not None and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    order = sorted(seen, key=_by_sequence, reverse=True)
    if targets is None:
        return order
    reaches: set[Node] = set()
    for node in reversed(order):  # oldest first: inputs before their users
        hit = id(node) in targets
        if not hit:
            for p in node.parents():
                pnode = p._node
                if (id(p) in targets) if pnode is None else (pnode in reaches):
                    hit = True
                    break
        if hit:
            reaches.add(node)
    return [node for node in order if node in reaches]


def _by_sequence(node: Node) -> int:
    return node.seq
