"""Primitives with kinks: the derivative chosen where the function has none.

Convention (see ``chainrule.subgradients``): at a kink each primitive takes
the minimum-norm element of its subdifferential, so relu'(0) = 0 and
abs'(0) = 0; maximum/minimum split a tie evenly between their arguments.
"""

from __future__ import annotations

from chainrule.backend import xp
from chainrule.core.primitive import Primitive, defpartials

__all__ = [
    "where",
    "relu",
    "abs",
    "sign",
    "maximum",
    "minimum",
    "clip",
]

where = Primitive("where", xp.where)
where.defvjp(None,
             lambda g, out, c, x, y: where(c, g, 0.0),
             lambda g, out, c, x, y: where(c, 0.0, g))
where.defjvp(None,
             lambda dx, out, c, x, y: where(c, dx, 0.0),
             lambda dy, out, c, x, y: where(c, 0.0, dy))

relu = Primitive("relu", lambda x: xp.maximum(x, 0), kink="relu'(0) = 0")
defpartials(relu, lambda out, x: x > 0)

abs = Primitive("abs", xp.abs, kink="abs'(0) = 0")  # noqa: A001 - NumPy's name
defpartials(abs, lambda out, x: sign(x))

sign = Primitive("sign", xp.sign)  # derivative zero everywhere it exists: recorded as a constant


def _tie_share(x, y):
    # 1 where x wins, 1/2 at a tie, 0 where y wins
    return (x > y) + 0.5 * (x == y)


maximum = Primitive("maximum", xp.maximum, kink="tie: 1/2 to each argument")
defpartials(maximum, lambda out, x, y: _tie_share(x, y), lambda out, x, y: _tie_share(y, x))

minimum = Primitive("minimum", xp.minimum, kink="tie: 1/2 to each argument")
defpartials(minimum, lambda out, x, y: _tie_share(y, x), lambda out, x, y: _tie_share(x, y))

clip_p = Primitive("clip", xp.clip, kink="at a bound: 0 to x")
defpartials(clip_p,
            lambda out, x, lo, hi: (x > lo) & (x < hi),
            lambda out, x, lo, hi: x < lo,
            lambda out, x, lo, hi: x > hi)


def clip(x, a_min=None, a_max=None):
    """Like ``numpy.clip``; a missing bound is infinite. At a bound x gets 0."""
    if a_min is None and a_max is None:
        raise ValueError("clip: give at least one of a_min and a_max")
    return clip_p(x, -xp.inf if a_min is None else a_min, xp.inf if a_max is None else a_max)
