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

add = Primitive("add", xp.add)
"""x + y, elementwise with NumPy's broadcasting; its partials are 1 and 1."""
add.defvjp(lambda g, out, x, y: g, lambda g, out, x, y: g)
add.defjvp(lambda dx, out, x, y: dx, lambda dy, out, x, y: dy)

subtract = Primitive("subtract", xp.subtract)
"""x - y, elementwise with broadcasting; its partials are 1 and -1."""
subtract.defvjp(lambda g, out, x, y: g, lambda g, out, x, y: negative(g))
subtract.defjvp(lambda dx, out, x, y: dx, lambda dy, out, x, y: negative(dy))

multiply = Primitive("multiply", xp.multiply)
"""``x * y``, elementwise with broadcasting; its partials are y and x."""
multiply.defvjp(lambda g, out, x, y: g * y, lambda g, out, x, y: g * x)
multiply.defjvp(lambda dx, out, x, y: dx * y, lambda dy, out, x, y: x * dy)

divide = Primitive("divide", xp.true_divide)
"""``x / y`` (true division), elementwise; partials ``1/y`` and ``-x/y**2``, infinite at y == 0."""
divide.defvjp(lambda g, out, x, y: g / y,
              lambda g, out, x, y: negative(g) * x / (y * y))  # pole at y == 0
divide.defjvp(lambda dx, out, x, y: dx / y,
              lambda dy, out, x, y: negative(dy) * x / (y * y))

negative = Primitive("negative", xp.negative)
"""-x, elementwise; its derivative is -1."""
negative.defvjp(lambda g, out, x: negative(g))
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
defpartials(square, lambda out, x: 2 * x)
