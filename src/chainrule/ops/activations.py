"""Normalizing activations: softmax and log_softmax, with fused rules.

Each is a primitive rather than the composite ``exp(x - logsumexp(x))``:
the implementation subtracts the maximum first (no overflow, even for
inputs like 1000), and the rules reuse the output, so a backward pass costs
one reduction. The composite stays in the tests as their oracle.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import ndim_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.elementary import exp
from chainrule.ops.reductions import sum
from chainrule.ops.shape import checked_axis

__all__ = [
    "softmax",
    "log_softmax",
]


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
    z = _shifted(x, axis)
    return z - xp.log(xp.add.reduce(xp.exp(z), axis=axis, keepdims=True))


# Jacobian of softmax: diag(out) - out out^T along the axis, applied without forming it
softmax_p = Primitive("softmax", _softmax_impl)
softmax_p.defvjp(lambda g, out, x, axis: out * (g - sum(g * out, axis=axis, keepdims=True)))
softmax_p.defjvp(lambda dx, out, x, axis: out * (dx - sum(dx * out, axis=axis, keepdims=True)))

# Jacobian of log_softmax: I - 1 softmax^T along the axis, where softmax = exp(out)
log_softmax_p = Primitive("log_softmax", _log_softmax_impl)
log_softmax_p.defvjp(lambda g, out, x, axis: g - exp(out) * sum(g, axis=axis, keepdims=True))
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
