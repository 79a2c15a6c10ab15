"""``checkpoint``: rematerialization, memory traded for a second forward pass.

``cr.checkpoint(f)(*args)`` records ONE node for the whole of ``f``: a user
primitive whose implementation runs ``f`` on plain arrays (nothing inside is
recorded, so no intermediate is kept) and whose reverse rule runs ``f`` again,
this time recorded at a fresh level, and sweeps back through it, freeing each
recomputed node's saved values as soon as that sweep has used them. The graph
holds only the segment's inputs and output. With traced inputs (a second
derivative, ``create_graph``) the recomputation records on the enclosing
levels, so checkpointed code differentiates to any order. Forward mode goes
through ``f`` with duals (no memory to save there).

Everything ``f`` differentiates with respect to must be an argument: a
parameter it closes over would be invisible to the single node, so it is
refused (``cr.nn.functional_call`` turns a module's parameters into
arguments; ``cr.nn.Sequential(..., checkpoint_every=k)`` does that for you).
Randomness is replayed (the generator's state is saved at the forward and
restored for the recomputation), and a recomputation that still differs
from the forward (a side effect, state changed in between) is refused.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

from chainrule import random as cr_random
from chainrule.backend import is_float_dtype, ndarray, xp
from chainrule.core.config import state, sweep_caches, transform_scope
from chainrule.core.escape import carries_derivative, register_transform
from chainrule.core.primitive import Primitive
from chainrule.core.trace import Traced
from chainrule.pytree import TreeDef, flatten, unflatten
from chainrule.reverse import (
    _has_nan,
    _sweep_plain,
    leaf_hooks,
    node_hooks,
    own_cotangents,
    sweep_observers,
)
from chainrule.tensor import Tensor
from chainrule.transforms.batching import OWN_RULES
from chainrule.transforms.grad import _cotangents, _lift, check_callable
from chainrule.transforms.jvp import jvp
from chainrule.transforms.vmap import vmap

__all__ = ["checkpoint"]

_SERVED = object()  # a cotangent already handed to the sweep (its slot in the cache)
_RETRY = object()  # the freeing sweep met a NaN: recompute and sweep masked


def checkpoint(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` whose inside is recomputed during the backward sweep instead of stored.

    >>> import numpy as np, chainrule as cr
    >>> block = cr.checkpoint(lambda x, w: cr.tanh(x @ w))
    >>> w = np.ones((2, 2))
    >>> g = cr.grad(lambda w: cr.sum(block(np.array([1.0, 2.0]), w)))(w)
    >>> g.shape
    (2, 2)
    """
    check_callable(f, "checkpoint")
    prims: dict[TreeDef, Primitive] = {}

    @functools.wraps(f)
    def checkpointed(*args: Any) -> Any:
        leaves, tree = flatten(args)
        prim = prims.get(tree)
        if prim is None:
            prim = prims[tree] = _make(f, tree)
        return prim(*leaves)

    return checkpointed


def _concrete(name: str, out: Any) -> Any:
    """The segment's output as a plain array, refusing a derivative it would hide."""
    if isinstance(out, (tuple, list, dict)) or out is None:
        raise TypeError(f"checkpoint {name}: the function returned {type(out).__name__}; a "
                        f"checkpointed function must return one array")
    if isinstance(out, Traced):
        if carries_derivative(out):
            raise ValueError(
                f"checkpoint {name}: the function uses a value that carries a derivative "
                f"but is not one of its arguments (a closure, or a module's parameters); "
                f"its derivative would be lost. Pass it as an argument (for a module: "
                f"cr.nn.functional_call(module, params, x) with params an argument)")
        while isinstance(out, Traced):
            out = out.data
    return out if type(out) is ndarray else xp.asarray(out)


def _make(f: Callable[..., Any], tree: TreeDef) -> Primitive:
    name = getattr(f, "__name__", "f")
    stash: dict[int, tuple[Any, Any]] = {}  # id(out) -> (weakref to out, generator state)
    cache: dict[tuple, tuple] = {}  # one sweep's recomputation, shared by the node's rules
    sweep_caches.append(cache)

    def impl(*leaves: Any) -> Any:
        state = cr_random.generator().bit_generator.state
        out = _concrete(name, f(*unflatten(tree, list(leaves))))
        key = id(out)
        stash[key] = (weakref.ref(out, lambda _r, k=key: stash.pop(k, None)), state)
        return out

    def replayed(out: Any) -> Any:
        hit = stash.get(id(out)) if type(out) is ndarray else None
        return hit[1] if hit is not None and hit[0]() is out else None

    def cotangent(i: int, g: Any, out: Any, leaves: tuple) -> Any:
        """Leaf ``i``'s cotangent; the sweep asks once per leaf it needs, so one
        recomputation serves them all, and each is dropped from the cache once
        handed over (the cotangents of a whole network's segments would otherwise
        stay alive until the sweep ends)."""
        key = (id(g), id(out), *map(id, leaves))
        hit = cache.get(key)
        if hit is None or hit[0] is not g or hit[1] is not out or hit[2][i] is _SERVED:
            cache.clear()  # one node's entry at a time: the sweep finishes a node first
            hit = cache[key] = (g, out, cotangents(g, out, leaves))
        result = hit[2]
        ct, result[i] = result[i], _SERVED
        if all(r is None or r is _SERVED for r in result):
            del cache[key]
        return ct

    def cotangents(g: Any, out: Any, leaves: tuple) -> list[Any]:
        result = recomputed(g, out, leaves, True)
        if result is _RETRY:  # a NaN in the freeing sweep: again, with the masked sweep
            result = recomputed(g, out, leaves, False)
        return result

    def recomputed(g: Any, out: Any, leaves: tuple, freeing: bool) -> Any:
        gen = cr_random.generator().bit_generator
        saved, now = replayed(out), gen.state
        if saved is not None:
            gen.state = saved  # the forward's random numbers again (dropout masks)
        try:
            with transform_scope() as level:
                lifted = [_lift(a, i, "checkpoint", level)
                          if is_float_dtype(getattr(a, "dtype", xp.result_type(a))) else a
                          for i, a in enumerate(leaves)]
                again = f(*unflatten(tree, lifted))
                if saved is not None:  # first order: the recomputation must agree
                    data = again
                    while isinstance(data, Traced):
                        data = data.data
                    if not xp.array_equal(xp.asarray(data), out, equal_nan=True):
                        raise RuntimeError(
                            f"checkpoint {name}: recomputing the function during the "
                            f"backward sweep gave a different output than the forward "
                            f"pass (a side effect, or state it reads changed in between); "
                            f"a checkpointed function must be pure")
                found = None
                if freeing and saved is not None and type(g) is ndarray:  # first order
                    found = _sweep_freeing(again, g, level)
                    if found is _RETRY:
                        return _RETRY
                if found is None:
                    found = _cotangents([again], [g], level)
        finally:
            if saved is not None:
                gen.state = now
        return [found.get(id(t)) if isinstance(t, Tensor) and t._level == level else None
                for t in lifted]

    def vjp_rule(i: int, g: Any, out: Any, *leaves: Any) -> Any:
        return cotangent(i, g, out, leaves)

    def jvp_rule(i: int, dx: Any, out: Any, *leaves: Any) -> Any:
        tangents = [dx if j == i else None for j in range(len(leaves))]
        return jvp(lambda *xs: f(*unflatten(tree, list(xs))), leaves, tangents)[1]

    prim = Primitive(f"checkpoint({name})", impl, register=False)
    prim.defvjp_variadic(vjp_rule)
    prim.defjvp_variadic(jvp_rule)
    versions: dict[tuple, Callable[..., Any]] = {}

    def batch_rule(_prim: Any, vals: list, batched: list, params: dict) -> Any:
        # under vmap: ONE checkpointed segment of the whole stack, not one per example
        key = tuple(batched)
        version = versions.get(key)
        if version is None:
            axes = tuple(unflatten(tree, [0 if b else None for b in batched]))
            version = versions[key] = checkpoint(vmap(f, in_axes=axes))
        return version(*unflatten(tree, vals))

    OWN_RULES[prim] = batch_rule
    return prim


def _sweep_freeing(again: Any, g: Any, level: int) -> Any:
    """The recomputed segment's first-order backward sweep, each node's saved values
    freed as soon as the sweep has used them (the engine's sweep frees them all at
    its end, as it may run again, masked, when a result holds a NaN: here the
    segment can be recomputed instead). None where the plain sweep does not apply
    (observers, hooks, anomaly mode); ``_RETRY`` when a result holds a NaN."""
    if not (isinstance(again, Tensor) and again._level == level and again.requires_grad
            and again._node is not None) or state.anomaly or sweep_observers \
            or node_hooks or leaf_hooks:
        return None
    previous: list[Any] = []

    def free_previous(node: Any, g: Any, found: dict) -> Any:
        if previous:  # the node visited before is done: nothing reads it again
            done = previous.pop()
            done.inputs = done.args = done.out = None
        previous.append(node)
        return g  # (the plain sweep's per-node call may replace the cotangent)

    try:
        found, swept = _sweep_plain(again._node, g, free_previous)
    finally:
        for cache in sweep_caches:
            cache.clear()
    for node in swept:
        node.inputs = node.args = node.out = None
    if _has_nan(found):
        return _RETRY
    own_cotangents(found)
    return {k: c for k, (_, c) in found.items()}


register_transform(checkpoint, "checkpoint", "checkpointed")
