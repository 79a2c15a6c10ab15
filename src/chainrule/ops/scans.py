"""Cumulative sums and products along one axis.

cumprod's rules never divide by ``x``: its derivatives are exact when ``x``
holds zeros (any number of them), to every order, because each rule is a
polynomial in ``x`` built from multiplies, adds and shifts, all of which are
differentiable again. ``products_of_others`` (the gradient of ``prod``) is
built the same way.
"""

from __future__ import annotations

import builtins
from typing import Any

from chainrule.backend import ndim_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.shape import checked_axis, flip, getitem, moveaxis, pad, reshape

__all__ = [
    "cumsum",
    "cumprod",
]


def shift(v, s, axis, fill=0.0):
    """``v`` moved ``s`` places along ``axis`` (towards the end if s > 0), ``fill`` behind.

    >>> import numpy as np
    >>> shift(np.array([1.0, 2.0, 3.0]), 1, 0, fill=9.0)
    array([9., 1., 2.])
    """
    n = shape_of(v)[axis]
    k = builtins.min(builtins.abs(s), n)
    lead = (builtins.slice(None),) * axis
    width = [(0, 0)] * ndim_of(v)
    if s > 0:
        kept, width[axis] = getitem(v, lead + (builtins.slice(0, n - k),)), (k, 0)
    else:
        kept, width[axis] = getitem(v, lead + (builtins.slice(k, n),)), (0, k)
    return pad(kept, tuple(width), constant_values=fill)


def linear_scan(a, b, axis, reverse=False):
    """y with y[k] = b[k] + a[k] * y[k-1] (y[k+1] if ``reverse``), 0 outside the array.

    A log-depth (Hillis-Steele) scan of multiplies and adds, so it is exact
    with zeros in ``a`` and differentiable to any order.

    >>> import numpy as np
    >>> linear_scan(np.array([5.0, 2.0, 0.0, 3.0]), np.ones(4), 0)
    array([1., 3., 1., 4.])
    """
    n = shape_of(b)[axis]
    step = -1 if reverse else 1
    s = 1
    while s < n:  # b[k] holds the last s terms of y[k]; a[k] the product that scales older ones
        b = b + a * shift(b, step * s, axis)
        if 2 * s < n:
            a = a * shift(a, step * s, axis)
        s *= 2
    return b


def _before(out, axis):
    """The product of the elements before each one (1 for the first): out shifted."""
    return shift(out, 1, axis, fill=1.0)


cumsum_p = Primitive("cumsum", lambda x, axis: xp.cumsum(x, axis=axis))
cumsum_p.defvjp(lambda g, out, x, axis: flip(cumsum_p(flip(g, axis), axis=axis), axis))
cumsum_p.defjvp(lambda dx, out, x, axis: cumsum_p(dx, axis=axis))

# d out[k] / d x[i] = before[i] * x[i+1] * ... * x[k] for i <= k: the JVP runs that
# recurrence forward, the VJP runs its transpose backward (coefficients x[i+1]).
cumprod_p = Primitive("cumprod", lambda x, axis: xp.cumprod(x, axis=axis))
cumprod_p.defvjp(lambda g, out, x, axis:
                 _before(out, axis) * linear_scan(shift(x, -1, axis), g, axis, reverse=True))
cumprod_p.defjvp(lambda dx, out, x, axis: linear_scan(x, dx * _before(out, axis), axis))


def products_of_others(x, axis):
    """For each element, the product of the other elements reduced along ``axis`` with it.

    Exclusive products from the left times exclusive products from the right:
    the gradient of ``prod``, exact with zeros and differentiable again.

    >>> import numpy as np
    >>> products_of_others(np.array([2.0, 0.0, 3.0]), None)
    array([0., 6., 0.])
    """
    shape = shape_of(x)
    ndim = len(shape)
    if axis is None:
        axes = tuple(range(ndim))
    else:
        axes = tuple(sorted((axis,) if isinstance(axis, int) else axis))
    ends = tuple(range(ndim - len(axes), ndim))
    moved = moveaxis(x, axes, ends)
    kept = shape_of(moved)[:ndim - len(axes)]
    size = 1
    for a in axes:
        size *= shape[a]
    flat = reshape(moved, kept + (size,))
    last = len(kept)
    left = _before(cumprod_p(flat, axis=last), last)
    right = flip(_before(cumprod_p(flip(flat, last), axis=last), last), last)
    return moveaxis(reshape(left * right, shape_of(moved)), ends, axes)


# Public functions: NumPy's signatures over the primitives above.

def _along(name, x, axis):
    """``x`` and the axis to scan; axis None means the flattened array, as in NumPy."""
    if axis is None:
        return reshape(x, (-1,)), 0
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{name}: axis must be an int or None, got {axis!r}")
    return x, checked_axis(name, axis, ndim_of(x))


def cumsum(x: Any, axis: int | None = None) -> Any:
    """Like ``numpy.cumsum``; the cotangent is summed from the end.

    >>> import chainrule as cr
    >>> cr.cumsum(cr.tensor([1.0, 2.0, 3.0]))
    tensor([1., 3., 6.])
    """
    x, axis = _along("cumsum", x, axis)
    return cumsum_p(x, axis=axis)


def cumprod(x: Any, axis: int | None = None) -> Any:
    """Like ``numpy.cumprod``; derivatives of every order are exact when ``x`` holds zeros.

    >>> import numpy as np, chainrule as cr
    >>> cr.grad(lambda x: cr.sum(cr.cumprod(x)))(np.array([2.0, 0.0, 3.0]))
    array([1., 8., 0.])
    """
    x, axis = _along("cumprod", x, axis)
    return cumprod_p(x, axis=axis)


# ----- Taylor series rules (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.ops import series as _s  # noqa: E402

_s.defseries(cumsum_p, _s.linear(cumsum_p))
