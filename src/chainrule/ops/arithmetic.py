"""Arithmetic primitives: one paragraph each, implementation beside its rules.

Rules never mention broadcasting: the engines sum a cotangent back to its
input's shape and cast it to its dtype.
"""

from __future__ import annotations

from chainrule.backend import xp
from chainrule.core.primitive import Primitive, defpartials
from chainrule.ops.elementary import log
from chainrule.ops.nonsmooth import where

__all__ = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "negative",
    "power",
    "reciprocal",
    "square",
]



def passes_cotangent(g, out, x, y):
    """The reverse rule of an argument whose partial is 1: the cotangent as it is
    (the first-order sweep, which knows this function, skips calling it)."""
    return g


add = Primitive("add", xp.add)
"""x + y, elementwise with NumPy's broadcasting; its partials are 1 and 1."""
add.defvjp(passes_cotangent, passes_cotangent)
add.defjvp(lambda dx, out, x, y: dx, lambda dy, out, x, y: dy)

subtract = Primitive("subtract", xp.subtract)
"""x - y, elementwise with broadcasting; its partials are 1 and -1."""
subtract.defvjp(passes_cotangent, lambda g, out, x, y: -g)  # -g: negative, without a call
subtract.defjvp(lambda dx, out, x, y: dx, lambda dy, out, x, y: negative(dy))

multiply = Primitive("multiply", xp.multiply)
"""``x * y``, elementwise with broadcasting; its partials are y and x."""
multiply.defvjp(lambda g, out, x, y: g * y, lambda g, out, x, y: g * x)
multiply.defjvp(lambda dx, out, x, y: dx * y, lambda dy, out, x, y: x * dy)

divide = Primitive("divide", xp.true_divide)
"""``x / y`` (true division), elementwise; partials ``1/y`` and ``-x/y**2``, infinite at y == 0."""
divide.defvjp(lambda g, out, x, y: g / y,
              lambda g, out, x, y: -g * x / (y * y))  # pole at y == 0
divide.defjvp(lambda dx, out, x, y: dx / y,
              lambda dy, out, x, y: negative(dy) * x / (y * y))

negative = Primitive("negative", xp.negative)
"""-x, elementwise; its derivative is -1."""
negative.defvjp(lambda g, out, x: -g)
negative.defjvp(lambda dx, out, x: negative(dx))


def _power_dx(out, x, y):
    # y * x**(y-1), taken as 0 where y == 0 (so 0**0 has derivative 0, not nan)
    return where(y == 0, 0.0, y * power(x, y - 1))


def _power_dy(out, x, y):
    # out * log(x); 0 at x == 0 with y >= 0 (the limit along the real axis)
    safe_x = where(x == 0, 1.0, x)
    return where(x == 0, 0.0, out * log(safe_x))


def _power_dx_array(out, x, y):  # _power_dx in NumPy alone (a first-order sweep on arrays)
    return xp.where(y == 0, 0.0, y * xp.power(x, y - 1))


def _power_dy_array(out, x, y):
    return xp.where(x == 0, 0.0, out * xp.log(xp.where(x == 0, 1.0, x)))


power = Primitive("power", xp.power)
"""``x ** y``, elementwise; partials ``y * x**(y-1)`` (0 where y == 0, so ``0**0`` has
slope 0) and ``x**y * log(x)`` (0 at x == 0)."""
defpartials(power, _power_dx, _power_dy, arrays=(_power_dx_array, _power_dy_array))

reciprocal = Primitive("reciprocal", lambda x: xp.reciprocal(x) if xp.asarray(x).dtype.kind == "f"
                       else xp.true_divide(1.0, x))
"""``1 / x``, elementwise (integers give floats); its derivative is ``-1/x**2``."""
defpartials(reciprocal, lambda out, x: negative(out * out),  # pole at x == 0
            arrays=(lambda out, x: xp.negative(out * out),))

square = Primitive("square", xp.square)
"""``x ** 2``, elementwise; its derivative is ``2 * x``."""
# on arrays x + x: the same number as 2 * x (doubling is exact; the array partials
# meet real values only, complex ones go to square's twin), without the conversion of
# a Python 2 that NumPy makes (twice the cost on small arrays)


def _square_partial_array(out, x):
    # 2x exactly (a doubling); on a NumPy scalar, not a 0-d array, which costs
    # a ufunc call several times the scalar's
    return x + x if x.ndim else 2 * x[()]


defpartials(square, lambda out, x: 2 * x, arrays=(_square_partial_array,))


# ----- Taylor series rules (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.core.trace import Traced  # noqa: E402
from chainrule.ops import series as _s  # noqa: E402


def _power_series(out, xs, order, params):
    x, y = xs
    if all(t is None for t in y[1:]):
        p = y[0]
        if not isinstance(p, Traced) and xp.ndim(p) == 0:
            p = float(p)  # an array exponent works elementwise in the same recurrence
        return _s.power_const(x, order, out, p)
    logx0 = log(x[0])  # x^y = exp(y log x), both series
    logx = [logx0] + _s.log_terms(x, order, logx0)
    return _s.exp_series(_s.mul_series(y, logx, order), order, out)[1:]


_s.defseries("add", lambda out, xs, order, params:
             [_s.add(xs[0][k], xs[1][k]) for k in range(1, order + 1)])
_s.defseries("subtract", lambda out, xs, order, params:
             [_s.add(xs[0][k], _s.scale(-1.0, xs[1][k])) for k in range(1, order + 1)])
_s.defseries("multiply", lambda out, xs, order, params:
             [_s.cauchy(xs[0], xs[1], k) for k in range(1, order + 1)])
_s.defseries("divide", lambda out, xs, order, params:
             _s.div_series(xs[0], xs[1], order, out)[1:])
_s.defseries("negative", lambda out, xs, order, params: [_s.scale(-1.0, t) for t in xs[0][1:]])
_s.defseries("power", _power_series)
_s.defseries("square", lambda out, xs, order, params:
             [_s.cauchy(xs[0], xs[0], k) for k in range(1, order + 1)])
_s.defseries("reciprocal", lambda out, xs, order, params:
             _s.recip_series(xs[0], order, out)[1:])
