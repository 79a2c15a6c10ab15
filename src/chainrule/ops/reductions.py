"""Reductions over ``axis`` (None, an int or a tuple) with ``keepdims``.

Every rule first restores the reduced axes of the cotangent (``_unreduce``)
and then broadcasts it back over the input.
"""

from __future__ import annotations

from chainrule.backend import shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.elementary import exp
from chainrule.ops.shape import broadcast_to, reshape

__all__ = [
    "sum",
    "mean",
    "max",
    "min",
    "logsumexp",
]


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim if ndim else a for a in axis))


def _kept_shape(shape, axis):
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _unreduce(g, x, axis, keepdims):
    """Give a reduced cotangent back the reduced axes (size 1), then broadcast."""
    shape = shape_of(x)
    if not keepdims:
        g = reshape(g, shape=_kept_shape(shape, axis))
    return broadcast_to(g, shape=shape)


def _count(x, axis):
    shape = shape_of(x)
    n = 1
    for a in _axes(axis, len(shape)):
        n *= shape[a]
    return n


sum_p = Primitive("sum", lambda x, axis=None, keepdims=False: xp.sum(x, axis=axis, keepdims=keepdims))  # noqa: E501
sum_p.defvjp(lambda g, out, x, axis=None, keepdims=False: _unreduce(g, x, axis, keepdims))
sum_p.defjvp(lambda dx, out, x, axis=None, keepdims=False: sum(dx, axis=axis, keepdims=keepdims))

mean_p = Primitive("mean", lambda x, axis=None, keepdims=False:
                 xp.mean(x, axis=axis, keepdims=keepdims))
mean_p.defvjp(lambda g, out, x, axis=None, keepdims=False:
            _unreduce(g, x, axis, keepdims) / _count(x, axis))
mean_p.defjvp(lambda dx, out, x, axis=None, keepdims=False:
            mean(dx, axis=axis, keepdims=keepdims))


def _extremum_share(out, x, axis, keepdims):
    # ties share the cotangent evenly (the minimum-norm subgradient)
    hit = x == _unreduce(out, x, axis, keepdims)
    count = xp.sum(_data(hit), axis=axis, keepdims=True)
    return hit / count


def _data(v):
    return getattr(v, "data", v)


def _extremum(name, impl):
    prim = Primitive(name, lambda x, axis=None, keepdims=False:
                     impl(x, axis=axis, keepdims=keepdims), kink="ties share evenly")
    prim.defvjp(lambda g, out, x, axis=None, keepdims=False:
                _unreduce(g, x, axis, keepdims) * _extremum_share(out, x, axis, keepdims))
    prim.defjvp(lambda dx, out, x, axis=None, keepdims=False:
                sum(dx * _extremum_share(out, x, axis, keepdims), axis=axis, keepdims=keepdims))
    return prim


max_p = _extremum("max", xp.max)
min_p = _extremum("min", xp.min)


def _logsumexp_impl(x, axis=None, keepdims=False):
    x = xp.asarray(x)
    peak = xp.max(x, axis=axis, keepdims=True)
    peak = xp.where(xp.isfinite(peak), peak, 0)  # all -inf rows stay -inf, not nan
    out = xp.log(xp.sum(xp.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else xp.squeeze(out, axis=_axes(axis, x.ndim))


def _logsumexp_weights(out, x, axis, keepdims):
    return exp(x - _unreduce(out, x, axis, keepdims))  # the softmax of x along axis


logsumexp_p = Primitive("logsumexp", _logsumexp_impl)
logsumexp_p.defvjp(lambda g, out, x, axis=None, keepdims=False:
                 _unreduce(g, x, axis, keepdims) * _logsumexp_weights(out, x, axis, keepdims))
logsumexp_p.defjvp(lambda dx, out, x, axis=None, keepdims=False:
                 sum(dx * _logsumexp_weights(out, x, axis, keepdims), axis=axis,
                     keepdims=keepdims))


# Public functions: NumPy's signatures over the primitives above.

def _axis(axis):
    return axis if axis is None or isinstance(axis, int) else tuple(int(a) for a in axis)


def sum(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Like ``numpy.sum``."""
    return sum_p(x, axis=_axis(axis), keepdims=bool(keepdims))


def mean(x, axis=None, keepdims=False):
    """Like ``numpy.mean``."""
    return mean_p(x, axis=_axis(axis), keepdims=bool(keepdims))


def max(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Like ``numpy.max``; tied maxima share the cotangent evenly."""
    return max_p(x, axis=_axis(axis), keepdims=bool(keepdims))


def min(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Like ``numpy.min``; tied minima share the cotangent evenly."""
    return min_p(x, axis=_axis(axis), keepdims=bool(keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed without overflow; its gradient is the softmax."""
    return logsumexp_p(x, axis=_axis(axis), keepdims=bool(keepdims))
