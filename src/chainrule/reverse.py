"""The backward sweep: cotangents flow from an output back to its inputs.

One pass in topological order over the recorded nodes. For each node the
primitive's VJP rules give the inputs' cotangents; the sweep sums each back
over broadcast axes and casts it to its input's dtype (rules never do), adds
it to whatever that input already received, and forgets the node's own
cotangent at once. Without ``create_graph`` the rules run on plain arrays
(fast); with it they run on tensors, so the sweep itself is recorded and can
be differentiated again. A node older than the latest in-place change of any
tensor has its inputs' versions checked before its saved values are used
(``core.graph.check_saved``), and every leaf's result gets memory of its own
(``own_cotangents``).
"""

from __future__ import annotations

import sys
import weakref
from heapq import heappop, heappush
from typing import Any

from chainrule.backend import ndarray, xp
from chainrule.core import collector
from chainrule.core.config import state, sweep_caches
from chainrule.core.graph import (
    EXACT,
    Node,
    changes,
    check_rebound,
    check_saved,
    topological_order,
)
from chainrule.core.primitive import Primitive, arrays_inside, mask_zeros, unknown_values
from chainrule.core.trace import Traced
from chainrule.core.wirtinger import declare_complex
from chainrule.ops.arithmetic import passes_cotangent
from chainrule.ops.complex_numbers import to_dtype
from chainrule.ops.shape import sum_to

# Objects told about backward sweeps: DistributedDataParallel starts each bucket's
# all-reduce as soon as the sweep has finished its gradients. Each has
# ``begin(root, create_graph) -> bool`` (takes part in this sweep), ``on_node``
# (None, or called with each node and the leaf cotangents found so far, before the
# first-order sweep visits the node) and ``end(found)`` (may replace cotangents).
# Empty in ordinary use: one test per backward, nothing per node.
sweep_observers: list[Any] = []

# Hooks (Tensor.register_hook, Tensor.retain_grad): functions that see, and may
# replace, a tensor's cotangent. A non-leaf's cotangent is its node's, so its hooks
# are the node's; a leaf's are the tensor's. Each owner keeps its list of hooks in
# its ``_hooks`` slot, so a hook that refers to its own tensor makes a cycle the
# collector frees with the graph (a list held here would keep that graph forever).
# These tables only say which owners have hooks: a weak reference by id of the owner,
# gone with it. Empty in ordinary use: the sweep then runs unchanged (one test per
# backward, nothing per node).
node_hooks: dict[int, Any] = {}
leaf_hooks: dict[int, Any] = {}


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` takes the hook away again
    (it holds its owner weakly, so a kept handle does not keep a graph)."""

    __slots__ = ("table", "key", "owner", "fn")

    def __init__(self, table: dict, key: int, owner: Any, fn: Any) -> None:
        self.table, self.key, self.owner, self.fn = table, key, owner, fn  # owner: a weakref

    def remove(self) -> None:
        owner = self.owner()
        if owner is None:
            return
        fns = owner._hooks
        if self.fn in fns:
            fns.remove(self.fn)
        if not fns and self.table.get(self.key) is self.owner:
            del self.table[self.key]


def add_hook(table: dict, owner: Any, fn: Any) -> RemovableHandle:
    """Attach ``fn`` to ``owner`` (a node or a leaf tensor) and note it in ``table``."""
    collector.stop("a hook was registered")  # its function may close a cycle through a node
    key = id(owner)
    ref = table.get(key)
    if ref is None or ref() is not owner:
        owner._hooks = []
        ref = weakref.ref(owner, lambda r, k=key, t=table: t.pop(k, None) if t.get(k) is r
                          else None)
        table[key] = ref
    owner._hooks.append(fn)
    return RemovableHandle(table, key, ref, fn)


def _run_hooks(table: dict, owner: Any, g: Any) -> Any:
    """``g`` passed through the hooks of ``owner``, each seeing the previous result."""
    ref = table.get(id(owner))
    if ref is None or ref() is not owner:
        return g
    # as in PyTorch, retain_grad's hook runs after every other: .grad is what flows on
    for fn in sorted(owner._hooks, key=lambda h: getattr(h, "retains", False)):
        new = fn(g)
        if new is None:
            continue
        data = new
        if not isinstance(g, Traced):  # a first-order sweep works on arrays
            while isinstance(data, Traced):
                data = data.data
            data = xp.asarray(data)
        if data.shape != g.shape:
            raise ValueError(f"hook {getattr(fn, '__name__', fn)!r}: returned a cotangent of "
                             f"shape {tuple(data.shape)}, expected {tuple(g.shape)} (the "
                             f"tensor's shape); return None to keep the cotangent")
        if data.dtype != g.dtype:  # the sweep's rules expect the tensor's dtype (the
            data = to_dtype(data, g.dtype)  # operators' EXACT nodes fit nothing after)
        g = data
    return g


def _fit(gi: Any, ref: Any) -> Any:
    """The cotangent ``gi`` summed to ``ref``'s shape and cast to its dtype (a real
    input keeps the real part of a complex cotangent: chainrule.core.wirtinger)."""
    shape = ref.shape
    if gi.shape != shape:
        gi = sum_to(gi, shape)
    if gi.dtype != ref.dtype:
        gi = to_dtype(gi, ref.dtype)
    return gi


def _check_finite(gi: Any, node: Node, i: int) -> None:
    data = getattr(gi, "data", gi)
    if not xp.all(xp.isfinite(data)):
        where = f" (created at {node.where})" if node.where else ""
        raise FloatingPointError(
            f"anomaly: the backward rule of {node.prim.name!r} for argument {i} "
            f"produced NaN or Inf{where}")


def backward_pass(root: Node, seed: Any, *, targets: set[int] | None = None,
                  create_graph: bool = False, retain_graph: bool = False
                  ) -> dict[int, tuple[Any, Any]]:
    """Sweep from ``root`` (its cotangent ``seed``) and return leaf cotangents.

    The result maps ``id(x)`` to ``(x, cotangent)`` for every leaf tensor
    reached, and for every target node (by node id) when ``targets`` is given;
    the sweep stops at target nodes instead of passing through them.

    A cotangent that is exactly zero at an element stays zero through an
    infinite local derivative: the gradient of ``where(x > 0, sqrt(x), 0)`` at
    0 is 0, not 0 * inf = NaN. Checking every rule's result would tax every
    sweep, so the first sweep runs plain and only a NaN in its results (one
    check per result) makes a second, masked sweep; saved values are freed
    after that decision.
    """
    # the commonest sweep (a plain loss.backward()) skips the tests that cannot hold
    plain = targets is None and not (sweep_observers or create_graph or state.anomaly
                                     or node_hooks or leaf_hooks)
    try:
        if plain:
            found, swept = _sweep_plain(root, seed)
            if len(found) == 1:  # one leaf: a float64 scalar's test inline
                [(_, g)] = found.values()
                nan = g != g if type(g) is _F64_SCALAR else _has_nan(found)
            else:
                nan = _has_nan(found)
            if nan:
                found, swept = _sweep(root, seed, None, None, False, False, True)
        else:
            found, swept = _sweep_general(root, seed, targets, create_graph)
    finally:
        for cache in sweep_caches:  # (an empty cache, the usual one, is left as it is)
            if cache:
                cache.clear()
    if not retain_graph:
        for node in swept:  # Node.free, inlined: it runs once per node of every sweep
            node._in0 = node._in1 = node._ins = node.args = node.out = None
    return found


def _sweep_general(root: Node, seed: Any, targets: set[int] | None, create_graph: bool
                   ) -> tuple[dict[int, tuple[Any, Any]], list[Node]]:
    """``backward_pass``'s sweep with targets, observers, hooks, anomaly mode or
    ``create_graph``: the plain or the recorded sweep, masked again on a NaN."""
    keep = None if targets is None else set(topological_order(root, targets))
    observers = on_node = None
    if sweep_observers and targets is None:
        observers = [o for o in sweep_observers if o.begin(root, create_graph)]
        hooks = [o.on_node for o in observers if o.on_node is not None]
        on_node = _each(hooks) if hooks else None
    hooked = bool(node_hooks or leaf_hooks)
    found = done = None
    masked = False
    if keep is None and not (create_graph or state.anomaly):
        # The plain sweep, hooks run as it goes (one registered elsewhere, on a tensor a
        # notebook still holds, costs this graph one lookup a node). A hook runs once:
        # its result is kept, and the masked pass a NaN calls for reuses it, which is
        # exact because a hook runs only on a cotangent without NaN (the masked pass
        # changes nothing else); a hook's node that meets a NaN starts that pass at once.
        done = {} if node_hooks else None
        try:
            found, swept = _sweep_plain(root, seed, on_node if done is None
                                        else _run_hooks_once(on_node, done))
        except _NaNAtHooks:
            masked = True
    if found is None:
        # (elsewhere a hook's node is swept masked from the start: run once, as it must)
        masked = masked or state.anomaly or bool(node_hooks)
        found, swept = _sweep(root, seed, targets, keep, create_graph, hooked, masked, done)
    if not masked and _has_nan(found):
        found, swept = _sweep(root, seed, targets, keep, create_graph, hooked, True, done)
    if leaf_hooks:
        for key, (x, g) in found.items():
            if key in leaf_hooks:
                found[key] = (x, _run_hooks(leaf_hooks, x, g))
    for observer in observers or ():
        observer.end(found)
    return found, swept


def _sweep(root: Node, seed: Any, targets: set[int] | None, keep: set[Node] | None,
           create_graph: bool, hooked: bool, masked: bool, done: dict | None = None
           ) -> tuple[dict[int, tuple[Any, Any]], list[Node]]:
    """One pass from ``root``; ``masked`` keeps zero cotangents zero in elementwise rules.

    Nodes are visited newest first from a heap of those that have received a
    cotangent. A node is created after its inputs, so every node that can
    send it a cotangent has been visited by the time it is popped: a
    topological order found on the way, with no separate search and sort, and
    nodes that receive nothing (symbolic zeros) are never visited. ``keep``
    (when targets are given) holds the nodes on a path to a target.
    """
    if keep is not None and root not in keep:
        return {}, []
    cots: dict[Node, Any] = {root: seed}
    heap = [(-root.seq, root)]
    found: dict[int, tuple[Any, Any]] = {}
    swept = []
    anomaly = state.anomaly
    last_change = changes.last
    while heap:
        node = heappop(heap)[1]
        g = cots.pop(node)
        if hooked and id(node) in node_hooks:  # the cotangent of the node's tensor is whole
            # (``done``: what its hooks made of this same cotangent in a first pass)
            g = done[node] if done and node in done else _run_hooks(node_hooks, node, g)
        if targets is not None and id(node) in targets:
            found[id(node)] = (node, g)
            continue
        inputs = node.inputs
        if inputs is None:
            node.parents()  # raises: freed by an earlier backward
        if node.seq < last_change:  # something changed in place since: were its inputs?
            check_saved(node)
        swept.append(node)
        prim = node.prim
        params = node.params
        if create_graph:
            check_rebound(node)
            args = inputs
            out = prim(*inputs, **params)  # recomputed so the rule sees a live tensor
        else:
            args = node.args
            out = node.out
        if prim.takes_perturbed:  # which arguments this level differentiates (kinks)
            params = {**params, "perturbed": node.needs}
        rules = prim.vjps
        for i in node.needs:
            try:
                rule = rules[i]
            except IndexError:  # fewer rules than arguments
                _missing_rule(prim, i)
            if rule is None:
                continue
            x = inputs[i]
            xnode = x._node
            if keep is not None and xnode is not None and xnode not in keep:
                continue  # cannot reach a target
            gi = rule(g, out, *args, **params)
            if gi is None:  # a symbolic zero
                continue
            if masked and (type(prim.impl) is xp.ufunc or getattr(rule, "elementwise", False)):
                gi = _keep_zeros(g, gi)
            ref = args[i]
            if gi.shape != ref.shape or gi.dtype is not ref.dtype:  # _fit compares properly
                gi = _fit(gi, ref)
            if anomaly:
                _check_finite(gi, node, i)
            if xnode is None:  # a leaf: its cotangent is a result
                xkey = id(x)
                prev = found.get(xkey)
                found[xkey] = (x, gi if prev is None else prev[1] + gi)
            else:
                prev = cots.get(xnode)
                if prev is None:
                    cots[xnode] = gi
                    heappush(heap, (-xnode.seq, xnode))
                else:
                    cots[xnode] = prev + gi
    return found, swept


class _NaNAtHooks(Exception):
    """A node with hooks got a cotangent holding a NaN in the plain sweep."""


def _run_hooks_once(observe: Any, done: dict) -> Any:
    """The plain sweep's per-node call when nodes have hooks: ``observe`` (the
    observers' call, or None), then the node's hooks on its whole cotangent, their
    result kept in ``done``; a NaN in that cotangent stops the sweep before them."""
    def on_node(node: Node, g: Any, found: dict) -> Any:
        if observe is not None:
            observe(node, g, found)
        ref = node_hooks.get(id(node))
        if ref is not None and ref() is node:
            if _has_nan({0: (node, g)}):
                raise _NaNAtHooks
            g = done[node] = _run_hooks(node_hooks, node, g)
        return g
    return on_node


def _each(hooks: list[Any]) -> Any:
    """The observers' per-node calls as the plain sweep's one ``on_node``."""
    def on_node(node: Node, g: Any, found: dict) -> Any:
        for hook in hooks:
            hook(node, found)
        return g
    return on_node


def _sweep_plain(root: Node, seed: Any, on_node: Any = None
                 ) -> tuple[dict[int, tuple[Any, Any]], list[Node]]:
    """``_sweep`` for the commonest case, first order on arrays with no
    targets, masking or anomaly checks: the loop every ``backward`` runs.
    ``on_node(node, g, found)``, if given, is called with each node and its whole
    cotangent before the node is swept, and returns the cotangent to sweep it with.

    A few shortcuts keep it lean. A node of one input without parameters (the
    commonest kind) has a path of its own: it always needs its input's
    cotangent (a node records only inputs that need one), and ``g * partial``
    of an elementwise primitive has the shape of ``g``, so only its dtype can
    need fitting. An elementwise rule is ``g * partial``, so the partial is
    called directly, in its NumPy-only form when the node saved plain arrays
    (``Node.plain``). Rules of one or two arguments are called without
    ``*args``. And a newly waiting node newer than all others waiting (in a
    chain, the common shape, the only one; in a diamond, the newer branch) is
    visited next without passing through the heap or ``cots``.
    """
    cots: dict[Node, Any] = {}
    heap: list[tuple[int, Node]] = []
    found: dict[int, tuple[Any, Any]] = {}
    swept: list[Node] = []
    visit = swept.append
    last_change = changes.last
    node, g = root, seed
    while True:
        if on_node is not None:  # observers and hooks (_sweep_general): g made whole
            g = on_node(node, g, found)
        args = node.args
        if args is None:  # freed (with its inputs) by an earlier backward
            node.parents()  # raises
        if node.seq < last_change:  # something changed in place since: were its inputs?
            check_saved(node)
        visit(node)
        prim = node.prim
        params = node.params
        partial = prim.unary_partial
        if len(args) == 1 and not params and (partial is not None or not prim.takes_perturbed):
            ref = args[0]
            if partial is not None and node.plain:
                # the commonest node: a one-argument elementwise primitive on arrays
                gi = g * partial(node.out, ref)
                if gi.dtype is not ref.dtype:
                    gi = _fit(gi, ref)
            else:
                partials = prim.array_partials if node.plain else prim.partials
                if partials is not None:
                    partial = partials[0]
                    gi = None if partial is None else g * partial(node.out, ref)
                    if gi is not None and gi.dtype is not ref.dtype:
                        gi = _fit(gi, ref)
                else:
                    try:
                        rule = prim.vjps[0]
                    except IndexError:  # no rule at all
                        _missing_rule(prim, 0)
                    gi = None if rule is None else rule(g, node.out, ref)
                    if gi is not None and (gi.dtype is not ref.dtype or gi.shape != ref.shape):
                        gi = _fit(gi, ref)
            if gi is not None:
                x = node._in0
                xnode = x if type(x) is Node else x._node  # a result is kept as its node
                if xnode is None:
                    prev = found.get(id(x))
                    found[id(x)] = (x, gi) if prev is None else (x, prev[1] + gi)
                elif not heap or xnode.seq > -heap[0][0]:  # newer than all waiting: next
                    node, g = xnode, gi
                    continue
                elif heap[0][1] is xnode:  # the newest waiting (a diamond's join): next
                    heappop(heap)
                    node, g = xnode, cots.pop(xnode) + gi
                    continue
                elif xnode in cots:
                    cots[xnode] = cots[xnode] + gi
                else:
                    cots[xnode] = gi
                    heappush(heap, (-xnode.seq, xnode))
            if not heap:
                break
            node = heappop(heap)[1]
            g = cots.pop(node)
            continue
        out = node.out
        if len(args) == 2 and not params and not prim.takes_perturbed:
            # two inputs without parameters (operators): the loop below, spelled out
            a0, a1 = args
            plain = node.plain
            partials = prim.array_partials if plain else prim.partials
            single = single_g = None
            for i in node.needs:
                ref = a1 if i else a0
                if partials is not None:
                    partial = partials[i]
                    if partial is None:
                        continue
                    gi = g * partial(out, a0, a1)
                else:
                    try:
                        rule = prim.vjps[i]
                    except IndexError:
                        _missing_rule(prim, i)
                    if rule is None:
                        continue
                    gi = g if rule is passes_cotangent else rule(g, out, a0, a1)
                    if gi is None:
                        continue
                if plain is not EXACT and (gi.dtype is not ref.dtype or gi.shape != ref.shape):
                    gi = _fit(gi, ref)  # _fit compares properly
                x = node._in1 if i else node._in0
                xnode = x if type(x) is Node else x._node  # a result is kept as its node
                if xnode is None:
                    prev = found.get(id(x))
                    found[id(x)] = (x, gi) if prev is None else (x, prev[1] + gi)
                elif xnode is single:
                    single_g = single_g + gi
                elif single is None and (not heap or xnode.seq > -heap[0][0]):
                    single, single_g = xnode, gi  # (newer than all waiting: not in cots)
                elif xnode in cots:
                    cots[xnode] = cots[xnode] + gi
                else:
                    if single is not None and xnode.seq > single.seq:  # the newer stays out
                        single, single_g, xnode, gi = xnode, gi, single, single_g
                    cots[xnode] = gi
                    heappush(heap, (-xnode.seq, xnode))
            if single is not None:
                node, g = single, single_g
            elif heap:
                node = heappop(heap)[1]
                g = cots.pop(node)
            else:
                break
            continue
        if prim.takes_perturbed:
            params = {**params, "perturbed": node.needs}
        partials = None if params else prim.array_partials if node.plain else prim.partials
        single = single_g = None  # the newest node waiting, when it is newer than all
        # in the heap, and its cotangent (kept out of ``cots``: a chain never touches it)
        unary = len(args) == 1  # arguments spelled out: a call with *args costs more
        # g * partial of a unary elementwise primitive has the shape of g, the
        # output's, so the input's: only its dtype can need fitting
        shaped = unary and partials is not None
        for i in node.needs:
            ref = args[i]
            if partials is not None:
                partial = partials[i]
                if partial is None:
                    continue
                gi = g * (partial(out, ref) if unary else partial(out, *args))
            else:
                try:
                    rule = prim.vjps[i]
                except IndexError:
                    _missing_rule(prim, i)
                if rule is None:
                    continue
                if params:
                    gi = rule(g, out, *args, **params)
                elif unary:
                    gi = rule(g, out, ref)
                elif len(args) == 2:
                    gi = rule(g, out, args[0], args[1])
                else:
                    gi = rule(g, out, *args)
                if gi is None:
                    continue
            if gi.dtype is not ref.dtype or not shaped and gi.shape != ref.shape:
                gi = _fit(gi, ref)  # _fit compares properly
            x = node._in0 if i == 0 else node._in1 if i == 1 else node._ins[i]
            xnode = x if type(x) is Node else x._node  # a result is kept as its node
            if xnode is None:
                prev = found.get(id(x))
                found[id(x)] = (x, gi) if prev is None else (x, prev[1] + gi)
            elif xnode is single:
                single_g = single_g + gi
            elif xnode in cots:
                cots[xnode] = cots[xnode] + gi
            elif single is None and (not heap or xnode.seq > -heap[0][0]):
                single, single_g = xnode, gi
            else:
                if single is not None and xnode.seq > single.seq:  # the newer stays out
                    single, single_g, xnode, gi = xnode, gi, single, single_g
                cots[xnode] = gi
                heappush(heap, (-xnode.seq, xnode))
        if single is not None:
            node, g = single, single_g
        elif heap:
            node = heappop(heap)[1]
            g = cots.pop(node)
        else:
            break
    return found, swept


# A result made by the sweep and held by nothing else has this many references
# inside ``own_cotangents``: its (leaf, cotangent) pair, the loop variable and
# getrefcount's argument (measured, not assumed, with the loop's own shape).
def _refs_when_unshared() -> tuple[int, int]:
    found = {0: (None, xp.empty(2)[::-1])}
    for _key, (_x, g) in found.items():
        base = g.base
        return sys.getrefcount(g), sys.getrefcount(base)
    raise AssertionError  # unreachable


# and a view's base held by nothing but the view has this many (the view's
# reference, the local name and the argument): the view's memory is private
_UNSHARED, _PRIVATE_BASE = _refs_when_unshared()
_own_p = Primitive("copy", lambda x: xp.array(x, order="C"), register=False)
_own_p.defvjp(lambda g, out, x: g)
_own_p.defjvp(lambda dx, out, x: dx)
declare_complex(_own_p)  # the identity: its rules hold for complex gradients as written


def own_cotangents(found: dict[int, tuple[Any, Any]]) -> None:
    """Give every cotangent in ``found`` (a sweep's result, changed in place)
    memory of its own: a writable, C-contiguous array held by nothing else.

    The rules return what is cheapest: one array for both inputs of an add,
    the caller's seed passed through, a read-only broadcast view (sum's rule).
    As PyTorch's gradient accumulation does, an array is kept only if it is
    writable and C-contiguous and nothing else refers to it or to the memory
    it views (reference counts); otherwise it is copied, so the common case
    copies nothing. A tensor (``create_graph``) is copied on the graph when shared.
    """
    for key, (x, g) in found.items():
        if type(g) is ndarray:
            if sys.getrefcount(g) > _UNSHARED or not (g.flags.writeable
                                                      and g.flags.c_contiguous):
                found[key] = (x, xp.array(g, order="C"))
            else:
                base = g.base  # a view (a reshaped sum, say) of memory no one else holds?
                if base is not None and (type(base) is not ndarray
                                         or sys.getrefcount(base) > _PRIVATE_BASE):
                    found[key] = (x, xp.array(g, order="C"))
        elif isinstance(g, Traced):
            if getattr(g, "_level", None) != 0:
                continue  # a value of an enclosing transform: never handed to the caller as is
            data = g.data
            if sys.getrefcount(g) > _UNSHARED or data.base is not None \
                    or not (data.flags.writeable and data.flags.c_contiguous):
                found[key] = (x, _own_p(g))
        else:  # a NumPy or Python scalar
            found[key] = (x, xp.array(g))


def _missing_rule(prim: Any, i: int) -> None:
    raise TypeError(f"{prim.name}: no reverse rule for argument {i}; defvjp needs one rule "
                    f"per positional argument (None for no derivative)") from None


_dot = xp.dot
_F64_SCALAR = xp.float64


def _has_nan(found: dict[int, tuple[Any, Any]]) -> bool:
    for _, g in found.values():
        if type(g) is ndarray:  # the commonest: one array per leaf, in a first-order sweep
            kind = g.dtype.kind
            if kind == "f":  # r . r is NaN exactly when r holds a NaN; one BLAS call
                # (xp.dot, not @: a third of the cost on small r); ravel in memory order
                # is a view when g is contiguous in any axis order (a transposed weight
                # gradient), else a copy, which keeps every NaN; a vector is used as is
                r = g if g.ndim == 1 else g.ravel() if g.flags.c_contiguous else g.ravel("K")
                v = _dot(r, r)
                if v != v:
                    return True
            elif kind == "c" and xp.isnan(g).any():
                return True
            continue
        if type(g) is _F64_SCALAR or isinstance(g, xp.inexact):
            # a NumPy scalar: a comparison, not a ufunc call
            if g != g:
                return True
            continue
        if unknown_values(g):
            return True  # a traced program: the masked sweep, whose masks wait for values
        for a in arrays_inside(g) if isinstance(g, Traced) else (g,):
            kind = getattr(getattr(a, "dtype", None), "kind", "")
            if kind == "f":
                r = a.ravel() if a.flags.c_contiguous else a.ravel("K")
                v = _dot(r, r)
                if v != v:
                    return True
            elif kind == "c" and xp.isnan(a).any():
                return True
    return False


def _keep_zeros(g: Any, gi: Any) -> Any:
    """``gi`` with zeros wherever the cotangent ``g`` is zero, if it has a NaN or Inf.

    For an elementwise rule ``gi[k]`` depends on ``g[k]`` alone and linearly,
    so this changes nothing but 0 * inf. The mask is built with chainrule's
    ``where``, so with ``create_graph`` (or inside a transform) it is recorded
    and a second derivative masks again.
    """
    return mask_zeros(g, gi)
