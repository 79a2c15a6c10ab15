"""Primitives whose derivative is zero wherever it exists.

They have no rules: engines treat their outputs as constants, which is the
symbolic zero the sweeps skip.
"""

from __future__ import annotations

from chainrule.backend import xp
from chainrule.core.primitive import Primitive
from chainrule.subgradients.recording import watched

__all__ = [
    "floor",
    "ceil",
    "round",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "logical_and",
    "logical_or",
    "logical_not",
    "isfinite",
    "isnan",
    "all",
    "any",
    "argmax",
    "argmin",
    "one_hot",
]

# watched: cr.kinks() reports evaluations exactly at their jumps
floor = Primitive("floor", watched("floor", xp.floor))
"""The largest integer <= x: piecewise constant, derivative 0 where it exists;
``cr.kinks()`` reports evaluations exactly at a jump."""
ceil = Primitive("ceil", watched("ceil", xp.ceil))
"""The smallest integer >= x: piecewise constant, derivative 0 where it exists;
``cr.kinks()`` reports evaluations exactly at a jump."""
_watched_round = watched("round", xp.round)


def _round_impl(x, decimals=0):
    # decimals goes by keyword: the watcher takes x alone positionally, and it
    # checks for jumps only at the default (to the nearest integer)
    return _watched_round(x, decimals=decimals) if decimals else _watched_round(x)


round = Primitive("round", _round_impl)  # noqa: A001 - NumPy's name
"""x rounded to ``decimals`` places (half to even, as NumPy): derivative 0 where it
exists; ``cr.kinks()`` reports evaluations exactly at a jump."""
equal = Primitive("equal", xp.equal)
"""x == y elementwise, a boolean array: no derivative, a constant to every engine."""
not_equal = Primitive("not_equal", xp.not_equal)
"""x != y elementwise, a boolean array: no derivative."""
less = Primitive("less", xp.less)
"""x < y elementwise, a boolean array: no derivative."""
less_equal = Primitive("less_equal", xp.less_equal)
"""x <= y elementwise, a boolean array: no derivative."""
greater = Primitive("greater", xp.greater)
"""x > y elementwise, a boolean array: no derivative."""
greater_equal = Primitive("greater_equal", xp.greater_equal)
"""x >= y elementwise, a boolean array: no derivative."""
logical_and = Primitive("logical_and", xp.logical_and)
"""x and y elementwise, a boolean array: no derivative."""
logical_or = Primitive("logical_or", xp.logical_or)
"""x or y elementwise, a boolean array: no derivative."""
logical_not = Primitive("logical_not", xp.logical_not)
"""not x elementwise, a boolean array: no derivative."""
isfinite = Primitive("isfinite", xp.isfinite)
"""Whether each element is finite (not inf, not NaN): no derivative."""
isnan = Primitive("isnan", xp.isnan)
"""Whether each element is NaN: no derivative."""
all = Primitive("all", lambda x, axis=None, keepdims=False: xp.all(x, axis=axis, keepdims=keepdims))  # noqa: A001,E501
"""Whether every element (along ``axis``) is true, as ``numpy.all``: no derivative."""
any = Primitive("any", lambda x, axis=None, keepdims=False: xp.any(x, axis=axis, keepdims=keepdims))  # noqa: A001,E501
"""Whether some element (along ``axis``) is true, as ``numpy.any``: no derivative."""
argmax = Primitive("argmax", xp.argmax)
"""The index of the largest element (along ``axis``), an integer: no derivative."""
argmin = Primitive("argmin", xp.argmin)
"""The index of the smallest element (along ``axis``), an integer: no derivative."""


def _one_hot_impl(labels, num_classes, dtype=xp.float32):
    labels = xp.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), "
                         f"got range [{labels.min()}, {labels.max()}]")
    return (labels[..., None] == xp.arange(num_classes)).astype(dtype)


one_hot = Primitive("one_hot", _one_hot_impl)
"""Integer ``labels`` as rows of 0 and 1 with ``num_classes`` columns (float32 by
default); labels outside [0, num_classes) are refused. No derivative."""


# ----- Taylor series rules (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.ops import series as _s  # noqa: E402

for _name in ("floor", "ceil", "round"):  # flat almost everywhere
    _s.defseries(_name, _s.constant)
