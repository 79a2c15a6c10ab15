"""Keep Python's cyclic garbage collector off recorded graphs that hold no cycle.

Every full collection walks every object the collector tracks, in the whole
process (a process that imported PyTorch has some 170,000), and a long
forward pass triggers full collections by itself: each of its graph nodes
outlives a few younger collections and is promoted to the oldest generation,
and promotions are what start a full collection. PyTorch's graph lives
outside the Python heap and pays none of this; a chainrule node is a Python
object and would.

The collector exists for reference cycles, and a node is acyclic by
construction: it refers only to older things (the nodes or leaf tensors it
was computed from, registered primitives) and to values that refer to
nothing (arrays, numbers, tuples of them), and none of those is ever changed
to refer to a newer object, with two exceptions, both watched: a hook (its
function may refer to anything) and a gradient that carries a graph stored in
a leaf's ``.grad`` (``backward(create_graph=True)``). So when a younger
collection is about to promote objects, a callback looks at the nodes among
them, oldest first, and tells CPython to stop tracking each one that is
provably acyclic: every input a node or leaf tensor already judged so, no
hook, saved values only arrays and constants, parameters only plain values,
a registered primitive. The rest stay tracked, and so do the nodes that
depend on them. Reference counting still frees every node the moment its
graph is dropped; untracking only stops the collector from walking them.

The first hook or graph-carrying gradient in the process turns this off for
good and tracks every untracked node again (one walk of the heap), so the
cycles those can close are the collector's to free, as before. Off outside
CPython (the C calls go through ctypes).
"""

from __future__ import annotations

import atexit
import gc
import itertools
import operator
import sys
import threading
import weakref
from functools import partial
from typing import Any

from chainrule.backend import ndarray, xp
from chainrule.core.graph import EXACT, Node, node_sequence
from chainrule.core.primitive import registry

_untrack: Any = None  # CPython's own calls (ctypes), made by every C extension type
_track: Any = None  # that holds no cycle; found at the first look (see _c_calls)


def _c_calls() -> bool:
    """Bind PyObject_GC_UnTrack and PyObject_GC_Track, called with an object's
    address (its ``id`` in CPython; the caller holds the object): False outside CPython."""
    global _untrack, _track
    if _untrack is None:
        try:
            import ctypes

            prototype = ctypes.PYFUNCTYPE(None, ctypes.c_void_p)  # (twice as fast as py_object)
            untrack = prototype(("PyObject_GC_UnTrack", ctypes.pythonapi))
            track = prototype(("PyObject_GC_Track", ctypes.pythonapi))
        except (ImportError, AttributeError):  # pragma: no cover - not CPython
            return False
        _untrack, _track = untrack, track
    return True


_is_tracked = gc.is_tracked
_is_node = partial(operator.is_, Node)
_CONTAINERS = {tuple: True, dict: True}  # containers the collector may stop tracking
# values that refer to no other object (a NumPy array of numbers included: the
# collector never walks one, and a tensor's array is always numeric)
_ATOMS = frozenset({int, float, bool, complex, str, type(None), type(...), ndarray,
                    xp.dtype, xp.float64, xp.float32, xp.int64, xp.bool_})


class _State:
    __slots__ = ("on", "why", "last_seq", "pending", "untracked", "tensor")

    def __init__(self) -> None:
        # (a build without the GIL would need the calls made under its own locks)
        self.on = (sys.implementation.name == "cpython"
                   and getattr(sys, "_is_gil_enabled", lambda: True)())
        self.why = "" if self.on else "not CPython with its GIL"
        self.last_seq = -1
        self.pending: list[Any] = []  # weak references to nodes to look at again
        self.untracked = 0  # how many nodes were untracked (some may be alive still)
        self.tensor: Any = None  # chainrule.tensor.Tensor, set when it is defined


state = _State()
_lock = threading.RLock()


def watch(tensor_type: type) -> None:
    """Start looking at young nodes (``chainrule.tensor`` calls it once defined)."""
    state.tensor = tensor_type
    if state.on and _on_collection not in gc.callbacks:
        gc.callbacks.append(_on_collection)
        atexit.register(_forget)  # before the interpreter takes modules apart


def _forget() -> None:
    if _on_collection in gc.callbacks:
        gc.callbacks.remove(_on_collection)


def active() -> bool:
    """Whether acyclic nodes are kept off the collector in this process."""
    return state.on


def stop(why: str) -> None:
    """Track every node again, for good: something (a hook, a gradient with a graph
    stored in ``.grad``) may now close a cycle through a node."""
    with _lock:
        if not state.on:
            return
        state.on = False
        state.why = why
        if _on_collection in gc.callbacks:
            gc.callbacks.remove(_on_collection)
        if state.untracked:  # (a hook set before any long forward pass costs nothing)
            _track_all()


def _track_all() -> None:
    """Track again every node stopped so far: each is reachable from some tracked
    object (a tensor, a node still tracked, a container), directly, through untracked
    tuples and dicts (the collector stops tracking those that hold only untracked
    objects, such as a tuple of untracked nodes) or through untracked nodes."""
    refs = gc.get_referents(*gc.get_objects())  # one call: a process may hold 10**5
    todo: list[Node] = []
    while refs:  # (C-level loops throughout: there are some 10**6 references)
        kinds = list(map(type, refs))
        todo += itertools.filterfalse(_is_tracked, itertools.compress(refs, map(_is_node, kinds)))
        inner = list(itertools.filterfalse(
            _is_tracked, itertools.compress(refs, map(_CONTAINERS.get, kinds))))
        refs = gc.get_referents(*inner) if inner else []
    tensor = state.tensor
    while todo:
        node = todo.pop()
        if _is_tracked(node):
            continue
        _track(id(node))
        ins = node._ins  # (the hot paths leave _in1 unset for one input)
        for x in (ins if type(ins) is tuple else
                  (node._in0, node._in1) if ins == 2 else (node._in0,) if ins else ()):
            if type(x) is not Node:
                x = getattr(x, "_node", None) if type(x) is tensor else None
            if x is not None and not _is_tracked(x):
                todo.append(x)


def _on_collection(phase: str, info: dict) -> None:
    """Before a collection that promotes objects (generation 1 or 2), stop tracking
    the acyclic nodes among those it would promote."""
    if phase != "start" or not info["generation"] or not state.on:
        return
    seq = next(node_sequence)
    if seq == state.last_seq + 1 and not state.pending:  # no node made since the last look
        state.last_seq = seq
        return
    state.last_seq = seq
    young = gc.get_objects(0)
    young += gc.get_objects(1)
    nodes = list(itertools.compress(young, map(_is_node, map(type, young))))
    del young
    if state.pending:  # nodes that were being made at the last look
        nodes += [node for node in map(_call, state.pending) if node is not None]
        state.pending = []
    if not nodes or not _c_calls():
        return
    nodes.sort(key=_by_sequence)  # inputs before their users
    acyclic = _acyclic
    with _lock:
        if not state.on:
            return
        for node in nodes:
            try:
                if acyclic(node):
                    _untrack(id(node))
                    state.untracked += 1
            except AttributeError:  # being made right now (this collection started on
                # an allocation of its making): a slot is not set yet; look again next time
                state.pending.append(weakref.ref(node))


def _call(ref: Any) -> Any:
    return ref()


def _by_sequence(node: Node) -> int:
    try:
        return node.seq
    except AttributeError:  # being made right now
        return -1


def _acyclic(node: Node) -> bool:
    """Whether ``node`` can never be on a reference cycle (see the module's docstring).

    No hook is looked for: the first one stops all this (``stop``) before it is set."""
    plain = node.plain
    if plain is not True and plain is not EXACT \
            or node.where is not None and type(node.where) is not str:
        return False
    prim = node.prim
    if registry.get(prim.name) is not prim:  # a primitive made on the fly holds anything
        return False
    ins = node._ins
    if type(ins) is int:
        x = node._in0
        if type(x) is Node:
            if _is_tracked(x):  # not judged acyclic (an older node: judged first)
                return False
        elif not _acyclic_input(x):
            return False
        if ins == 2:
            x = node._in1
            if type(x) is Node:
                if _is_tracked(x):
                    return False
            elif not _acyclic_input(x):
                return False
    elif ins is not None and not all(map(_acyclic_input, ins)):  # (None: freed)
        return False
    params = node.params
    return not params or all(map(_plain_value, params.values()))


def _acyclic_input(x: Any) -> bool:
    kind = type(x)
    if kind is Node:
        return not _is_tracked(x)
    if kind is state.tensor:
        if x._level or type(x.data) is not ndarray:
            return False
        node = x._node
        return node is None or not _is_tracked(node)
    return kind in _ATOMS


def _plain_value(v: Any) -> bool:
    kind = type(v)
    if kind in _ATOMS or isinstance(v, (xp.dtype, xp.generic)):
        return True
    if kind is tuple:
        return all(map(_plain_value, v))
    if kind is slice:
        return _plain_value(v.start) and _plain_value(v.stop) and _plain_value(v.step)
    return False
