"""Ties in a sort: the stable order, the groups of tied elements, and their detector.

Sorting is piecewise linear: away from ties its Jacobian is the permutation
matrix that the sort applied. Where m elements of a slice tie, every order of
them is a valid sort, and the Clarke generalized Jacobian is the convex hull of
their m! permutation matrices. ``sort`` and ``topk`` (``chainrule.ops.sorting``)
use these helpers in their rules; ``kinks()`` uses ``sort_ties``. Plain NumPy
throughout: the permutation is piecewise constant and carries no derivative.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp
from chainrule.subgradients.detectors import MAX_LISTED, Hits, _quiet_rule
from chainrule.subgradients.sets import Orderings


def stable_order(x: Any, axis: int, descending: bool = False) -> Any:
    """The permutation that sorts ``x`` along ``axis``, tied elements in input order.

    Descending keeps ties in input order too (as ``torch.sort(stable=True,
    descending=True)`` and ``jnp.sort(descending=True)`` do), so it is not
    the ascending order reversed.

    >>> import numpy as np
    >>> stable_order(np.array([1.0, 3.0, 3.0, 2.0]), 0, descending=True)
    array([1, 2, 3, 0])
    """
    return sorted_order(x, axis, descending)[0]


def sorted_order(x: Any, axis: int, descending: bool = False,
                 stable: bool = True) -> tuple[Any, Any]:
    """``stable_order(x, axis, descending)`` and ``x`` in that order.

    NumPy's default sort is several times faster than its stable one, and
    where nothing ties (NaN counted as tying) the order is the same: the
    stable sort runs only when the fast one finds a tie, and not at all
    with ``stable=False`` (for callers to whom the order of ties is moot).
    """
    x = xp.asarray(x)
    source = xp.flip(x, axis) if descending else x  # reversed, sorted stably, reversed back:
    perm = xp.argsort(source, axis=axis)            # ties come out in input order
    ordered = xp.take_along_axis(source, perm, axis)
    if stable and _may_tie(ordered, axis):
        perm = xp.argsort(source, axis=axis, kind="stable")
        ordered = xp.take_along_axis(source, perm, axis)
    if descending:
        perm, ordered = xp.flip(x.shape[axis] - 1 - perm, axis), xp.flip(ordered, axis)
    return perm, ordered


def _may_tie(ordered: Any, axis: int) -> bool:
    if ordered.dtype.kind in "fc" and xp.isnan(ordered).any():
        return True
    ordered = xp.moveaxis(ordered, axis, -1)
    return bool((ordered[..., 1:] == ordered[..., :-1]).any())


def inverse(perm: Any, axis: int) -> Any:
    """The inverse of the permutations ``perm`` along ``axis`` (a scatter, not a sort)."""
    inv = xp.empty_like(perm)
    positions = xp.arange(perm.shape[axis]).reshape((-1,) + (1,) * (perm.ndim - 1 - axis))
    xp.put_along_axis(inv, perm, xp.broadcast_to(positions, perm.shape), axis)
    return inv


def along(perm: Any, axis: int) -> tuple:
    """The advanced index with ``x[along(perm, axis)] == take_along_axis(x, perm, axis)``."""
    grids = list(xp.indices(perm.shape, sparse=True))
    grids[axis] = perm
    return tuple(grids)


def tie_starts(ordered: Any, axis: int, tol: float = 0.0) -> Any:
    """True where a new group of ties begins in ``ordered`` (sorted along ``axis``).

    Neighbours within ``tol`` tie (equal ones always: two infinities tie);
    NaN ties nothing.
    """
    ordered = xp.moveaxis(xp.asarray(ordered), axis, -1)
    first = xp.ones(ordered.shape[:-1] + (min(1, ordered.shape[-1]),), dtype=bool)
    left, right = ordered[..., :-1], ordered[..., 1:]
    with xp.errstate(invalid="ignore"):
        same = (left == right) | (xp.abs(right - left) <= tol) if tol else left == right
    return xp.moveaxis(xp.concatenate([first, ~same], axis=-1), -1, axis)


def tie_groups(starts: Any, axis: int) -> tuple[Any, Any]:
    """A global group number per sorted position (unique across slices) and the size
    of each group: what averaging the cotangents of ties needs."""
    moved = xp.moveaxis(starts, axis, -1)
    ids = xp.cumsum(moved.reshape(-1)).reshape(moved.shape) - 1  # each slice starts a group
    ids = xp.moveaxis(ids, -1, axis)
    return ids, xp.bincount(ids.reshape(-1))


def sort_ties(prim: Any, args: tuple, params: dict, out: Any, tol: float) -> Hits | None:
    """sort and topk: each group of tied elements that reaches the output.

    One hit per group: ``indices`` is the output position of its first
    element, ``elements`` the tied input elements (in stable order), the
    subdifferential the ``Orderings`` of them (of which topk keeps the first
    ``k``), and ``chosen`` the first tied output's row of the Jacobian block:
    how its cotangent is shared among the tied elements, asked of the rule.
    """
    x = xp.asarray(args[0], dtype=xp.float64)
    axis = params["axis"]
    n = x.shape[axis]
    k = params.get("k", n)
    descending = params.get("descending", params.get("largest", False))
    perm, ordered = sorted_order(x, axis, descending)
    starts = xp.moveaxis(tie_starts(ordered, axis, tol), axis, -1)
    if starts.all():
        return None
    ends = xp.concatenate([starts[..., 1:], xp.ones(starts.shape[:-1] + (1,), bool)], -1)
    size = _run_lengths(starts)
    heads = starts & ~ends & (xp.arange(n) < k)  # groups of two or more reaching the output
    count = int(heads.sum())
    if not count:
        return None
    listed = [tuple(int(i) for i in ix) for ix in xp.argwhere(heads)[:MAX_LISTED]]
    moved_perm = xp.moveaxis(perm, axis, -1)
    probe = xp.zeros(heads.shape[:-1] + (k,))
    indices, points, sets, elements = [], [], [], []
    for ix in listed:
        *rest, j = ix
        m = int(size[ix])
        coords = [_at(rest, int(i), axis) for i in moved_perm[(*rest, slice(j, j + m))]]
        elements.append(coords)
        points.append(tuple(float(x[c]) for c in coords))
        sets.append(Orderings(m, min(m, k - j)))
        indices.append(_at(rest, j, axis))
        probe[(*rest, j)] = 1.0
    share = _quiet_rule(prim.vjps[0], xp.moveaxis(probe, -1, axis), out, args[0], **params)
    chosen = [tuple(float(share[c]) for c in coords) for coords in elements]
    return Hits(count, indices, points, sets, chosen, elements)


def _run_lengths(starts: Any) -> Any:
    """The size of each position's group (``starts`` along the last axis)."""
    ids, sizes = tie_groups(starts, starts.ndim - 1)
    return sizes[ids]


def _at(rest: list, i: int, axis: int) -> tuple[int, ...]:
    """A full index from the other axes' indices and a position along ``axis``."""
    full = list(rest)
    full.insert(axis % (len(rest) + 1), i)
    return tuple(full)
