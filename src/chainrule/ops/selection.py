"""Selecting elements by position or condition: ``take``, ``compress``, ``nonzero``.

Each is ``getitem`` with an index worked out first, so the gradient is
getitem's (scattered back, repeated positions accumulating) and no new rule
is needed. ``argwhere`` (and ``nonzero`` over it) returns integers: it has
no derivative, like the comparisons.
"""

from __future__ import annotations

import builtins
from typing import Any

from chainrule.backend import ndim_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.gather import take_traced, traced_index
from chainrule.ops.shape import checked_axis, getitem, reshape
from chainrule.subgradients import concrete

__all__ = ["take", "compress", "argwhere", "nonzero", "flatnonzero"]

argwhere_p = Primitive("argwhere", xp.argwhere)  # integers: no derivative


def argwhere(a: Any) -> Any:
    """Like ``numpy.argwhere``: the index of every non-zero element, one row each.

    >>> import numpy as np, chainrule as cr
    >>> cr.argwhere(np.array([[0.0, 2.0], [3.0, 0.0]]))
    array([[0, 1],
           [1, 0]])
    """
    return argwhere_p(a)


def nonzero(a: Any) -> tuple[Any, ...]:
    """Like ``numpy.nonzero``: one integer array of positions per axis, off the graph.

    >>> import numpy as np, chainrule as cr
    >>> cr.nonzero(cr.tensor([0.0, 2.0, 3.0]))
    (tensor([1, 2]),)
    """
    n = ndim_of(a)
    if n == 0:
        raise ValueError("nonzero: a 0-d array has no positions; use atleast_1d or "
                         "reshape(1) first, as NumPy asks")
    rows = argwhere_p(a)
    return tuple(getitem(rows, (builtins.slice(None), k)) for k in range(n))


def flatnonzero(a: Any) -> Any:
    """Like ``numpy.flatnonzero``: positions of the non-zero elements of ``a`` flattened.

    >>> import numpy as np, chainrule as cr
    >>> cr.flatnonzero(np.array([[0.0, 1.0], [1.0, 1.0]]))
    array([1, 2, 3])
    """
    return nonzero(reshape(a, (-1,)))[0]


def _positions(name: str, indices: Any) -> Any:
    positions = xp.asarray(concrete(indices))
    if positions.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got dtype {positions.dtype}")
    return positions


def _take(name: str, a: Any, positions: Any, axis: int | None) -> Any:
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    axis = checked_axis(name, axis, ndim_of(a))
    n = shape_of(a)[axis]
    if positions.size and (positions.min() < -n or positions.max() >= n):
        bad = positions.min() if positions.min() < -n else positions.max()
        raise IndexError(f"{name}: index {int(bad)} is out of bounds for axis {axis} "
                         f"with size {n}")
    return getitem(a, (builtins.slice(None),) * axis + (positions,))


def take(a: Any, indices: Any, axis: int | None = None, mode: str = "raise") -> Any:
    """Like ``numpy.take``: elements at ``indices`` along ``axis`` (None: of ``a``
    flattened). An index taken twice gets the sum of both cotangents.

    >>> import numpy as np, chainrule as cr
    >>> cr.take(np.array([[1.0, 2.0], [3.0, 4.0]]), [1, 1, 0], axis=1)
    array([[2., 2., 1.],
           [4., 4., 3.]])
    """
    if mode != "raise":
        raise ValueError(f"take: only mode='raise' is supported, got mode={mode!r}")
    traced = traced_index(indices)
    if traced is not None:  # mapped by vmap or traced by jit: the index is an argument
        return take_traced("take", a, traced, axis)
    return _take("take", a, _positions("take", indices), axis)


def compress(condition: Any, a: Any, axis: int | None = None) -> Any:
    """Like ``numpy.compress``: the slices along ``axis`` where ``condition`` is true.

    >>> import numpy as np, chainrule as cr
    >>> cr.compress([True, False, True], np.array([1.0, 2.0, 3.0]))
    array([1., 3.])
    """
    if traced_index(condition) is not None:
        raise TypeError("compress: a condition mapped by vmap (or traced by jit) gives a "
                        "result whose length depends on its values; select with "
                        "cr.where(condition, a, 0) instead")
    mask = xp.asarray(concrete(condition))
    if mask.ndim != 1:
        raise ValueError(f"compress: condition must be 1-D, got shape {mask.shape}")
    return _take("compress", a, xp.flatnonzero(mask), axis)
