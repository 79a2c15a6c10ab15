"""The rules of ``sort`` and ``topk`` on values traced by ``jit`` or mapped by ``vmap``.

Eager rules find the permutation with NumPy on the input's numbers. A traced
input has none (and a mapped one has the whole batch's), so here the program
computes it: an ``argsort`` equation (the stable order, an integer array) and
``gather``/``scatter`` equations indexed by it, so every call of the compiled
program sorts its own input; nothing about the order is frozen at trace time.
The ``"min-norm"`` average over ties is written the same way: a tie starts
where a sorted value differs from its left neighbour, a cumulative sum of those
starts numbers the groups, and a scatter and a gather by that number give each
group's mean. The permutation is the one eager mode finds and the sums run in
the order it adds them, so the results equal eager's bit for bit (up to the
sign of a zero).
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import registry
from chainrule.ops.gather import Slot, gather_p, scatter_p

__all__: list[str] = []


def abstract_value(x: Any) -> Any:
    """The traced array under a tensor's or a dual's wrappers, if it has no numbers
    (a ``jit`` tracer), else None."""
    while getattr(x, "_abstract", None) is None:
        inner = getattr(x, "data", None)
        if inner is None:
            inner = getattr(x, "primal", None)
        if inner is None:
            return None
        x = inner
    return x if x._abstract else None


def _bare(x: Any) -> Any:
    """``x`` without the reverse- and forward-mode wrappers around it (their inner value
    has x's shape; a vmap's batch, holding every example, has not)."""
    shape = tuple(shape_of(x))
    while True:
        inner = getattr(x, "data", None)
        if inner is None:
            inner = getattr(x, "primal", None)
        if inner is None or tuple(shape_of(inner)) != shape:
            return x
        x = inner


def _along(shape: tuple, axis: int) -> tuple:
    """The index template of ``take_along_axis`` along ``axis``: open grids elsewhere,
    the index array (``Slot(0)``) at ``axis``."""
    grids: list[Any] = list(xp.indices(shape, sparse=True))
    grids[axis] = Slot(0)
    return tuple(grids)


def _permutation(x: Any, axis: int, descending: bool, stable: bool) -> tuple[Any, Any, tuple]:
    """The bare input, its sorting order (equations) and the gather template.

    The order is the one eager mode takes (``sorted_order``): stable, or (when the
    rules average ties, to which the order of tied elements is moot) NumPy's default
    sort, descending by sorting the reversed input. The same algorithm on the same
    numbers gives the same order, so even NaNs (which tie nothing) are routed alike.
    """
    inner = _bare(x)
    argsort = registry["argsort"]
    if stable:
        perm = argsort(inner, axis=axis, kind="stable", descending=descending)
    elif descending:
        flip = registry["flip"]
        last = tuple(shape_of(inner))[axis] - 1
        ascending = argsort(flip(inner, axis=axis), axis=axis, kind=None, descending=False)
        perm = flip(registry["subtract"](last, ascending), axis=axis)
    else:
        perm = argsort(inner, axis=axis, kind=None, descending=False)
    return inner, perm, _along(tuple(shape_of(inner)), axis)


def _average_ties(v: Any, ordered: Any, axis: int) -> Any:
    """``v`` with each tie's entries replaced by their mean, ``ordered`` being sorted."""
    shape = tuple(shape_of(ordered))
    n = shape[axis]
    if n < 2:
        return v
    cut = [slice(None)] * len(shape)
    left, right = list(cut), list(cut)
    left[axis], right[axis] = slice(0, n - 1), slice(1, n)
    getitem = registry["getitem"]
    new = registry["not_equal"](getitem(ordered, index=tuple(right)),
                                getitem(ordered, index=tuple(left)))  # NaN ties nothing
    first = xp.ones(shape[:axis] + (1,) + shape[axis + 1:], dtype=bool)
    starts = registry["concatenate"](first, new, axis=axis)
    ids = registry["cumsum"](starts, axis=axis)  # 1, 2, ...: the group of each position
    where = _along(shape, axis)
    room = shape[:axis] + (n + 1,) + shape[axis + 1:]  # group numbers run to n
    sums = scatter_p(v, ids, shape=room, index=where)
    sizes = scatter_p(xp.ones(shape), ids, shape=room, index=where)
    share = registry["astype"](registry["divide"](1.0, gather_p(sizes, ids, index=where)),
                               dtype=xp.dtype(dtype_of(v)))
    return registry["multiply"](gather_p(sums, ids, index=where), share)


def sorted_tangent(dx: Any, x: Any, axis: int, descending: bool, average: bool) -> Any:
    """``dx`` in the order that sorts ``x`` (ties averaged if ``average``)."""
    inner, perm, where = _permutation(x, axis, descending, stable=not average)
    t = gather_p(dx, perm, index=where)
    return _average_ties(t, gather_p(inner, perm, index=where), axis) if average else t


def routed_back(g: Any, x: Any, axis: int, descending: bool, average: bool) -> Any:
    """A cotangent in sorted order sent back to the positions of ``x``."""
    inner, perm, where = _permutation(x, axis, descending, stable=not average)
    if average:
        g = _average_ties(g, gather_p(inner, perm, index=where), axis)
    return scatter_p(g, perm, shape=tuple(shape_of(x)), index=where)
