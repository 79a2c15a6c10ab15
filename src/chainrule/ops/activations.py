"""Normalizing activations: softmax and log_softmax, with fused rules.

Each is a primitive rather than the composite ``exp(x - logsumexp(x))``:
the implementation subtracts the maximum first (no overflow, even for
inputs like 1000), and the rules reuse the output, so a backward pass costs
one reduction. The composite stays in the tests as their oracle.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import ndarray, ndim_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.elementary import exp
from chainrule.ops.reductions import sum
from chainrule.ops.shape import _ones, checked_axis

__all__ = [
    "softmax",
    "log_softmax",
]


_max = xp.maximum
_INF = float("inf")
_dot = xp.dot


def _shifted(x, axis):
    """x minus its maximum along ``axis`` (rows that are all -inf are left as they are;
    an empty axis has no maximum, and its softmax is empty as in PyTorch)."""
    x = xp.asarray(x)
    if x.size == 0:
        return x
    peak = xp.maximum.reduce(x, axis=axis, keepdims=True)  # xp.max without its wrapper
    return x - xp.where(xp.isfinite(peak), peak, 0.0)


def _softmax_impl(x, axis):
    e = xp.exp(_shifted(x, axis))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _log_softmax_impl(x, axis):
    if type(x) is ndarray and x.ndim and (axis == x.ndim - 1 or axis == -1):
        out = _log_softmax_last(x)
        if out is not None:
            return out
    z = _shifted(x, axis)
    return z - xp.log(xp.add.reduce(xp.exp(z), axis=axis, keepdims=True))


_SHORT = 16  # a last axis this short: its maximum is taken across the rows (see below)


def _log_softmax_last(x):
    """log_softmax along the last axis of a float32/float64 array in C order, or None.

    NumPy reduces a short last axis row by row (64 x 10: 4 us for the maximum, of
    which little is arithmetic): the maximum is taken over a transposed copy instead,
    and each row's sum of exponentials is one matrix-vector product with ones. Rows
    whose maximum is not finite (a NaN, an infinity, a row of -inf; their squares'
    sum shows them, as would squares too large for the dtype) get None: the general
    path handles them, with the same floating-point warnings as before.
    """
    n = x.shape[-1]
    if x.dtype.char not in "fd" or not x.size or not x.flags.c_contiguous:
        return None
    rows = x.reshape(-1, n)
    if n <= _SHORT < rows.shape[0]:
        peak = _max.reduce(rows.T.copy(), axis=0)
    else:
        peak = _max.reduce(rows, axis=1)
    if not _dot(peak, peak) < _INF:  # (False for NaN too)
        return None
    z = rows - peak[:, None]
    sums = _dot(xp.exp(z), _ones(n, x.dtype))
    z -= xp.log(sums, out=sums)[:, None]
    return z if x.ndim == 2 else z.reshape(x.shape)


def _log_softmax_vjp(g, out, x, axis):
    """g - softmax * (the sum of g along the axis); on plain arrays NumPy directly, with
    the very operations of the recorded formula (a traced or jitted sweep gives the same
    bits), in two fewer new arrays."""
    if type(g) is ndarray and type(out) is ndarray and g.dtype is out.dtype \
            and g.shape == out.shape and out.dtype.char in "fd":
        e = xp.exp(out)
        e *= xp.add.reduce(g, axis=axis, keepdims=True)  # sum's implementation
        return xp.subtract(g, e, out=e)
    return g - exp(out) * sum(g, axis=axis, keepdims=True)


# Jacobian of softmax: diag(out) - out out^T along the axis, applied without forming it
softmax_p = Primitive("softmax", _softmax_impl)
softmax_p.defvjp(lambda g, out, x, axis: out * (g - sum(g * out, axis=axis, keepdims=True)))
softmax_p.defjvp(lambda dx, out, x, axis: out * (dx - sum(dx * out, axis=axis, keepdims=True)))

# Jacobian of log_softmax: I - 1 softmax^T along the axis, where softmax = exp(out)
log_softmax_p = Primitive("log_softmax", _log_softmax_impl)
log_softmax_p.defvjp(_log_softmax_vjp)
log_softmax_p.defjvp(lambda dx, out, x, axis:
                     dx - sum(exp(out) * dx, axis=axis, keepdims=True))


def softmax(x: Any, axis: int | tuple[int, ...] | None = -1) -> Any:
    """exp(x) / sum(exp(x)) along ``axis`` (an int, a tuple, or None for all axes),
    computed without overflow.

    >>> import numpy as np, chainrule as cr
    >>> cr.softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    return softmax_p(x, axis=checked_axis("softmax", axis, ndim_of(x)))


def log_softmax(x: Any, axis: int | tuple[int, ...] | None = -1) -> Any:
    """x - logsumexp(x) along ``axis`` (an int, a tuple, or None for all axes): the
    log-probabilities of a softmax, accurate where softmax itself underflows.

    >>> import numpy as np, chainrule as cr
    >>> cr.log_softmax(np.array([0.0, -1000.0]))
    array([    0., -1000.])
    """
    return log_softmax_p(x, axis=checked_axis("log_softmax", axis, ndim_of(x)))
