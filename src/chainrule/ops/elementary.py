"""Elementary functions: each primitive is its NumPy implementation plus one
partial derivative, from which ``defpartials`` makes both rules. Where that
partial calls chainrule operations, the same formula in NumPy alone follows it
(the first-order sweep on arrays uses it; it must give identical values).

The partials of tan, tanh and sigmoid, which read only the (floating) output,
write 1 as 1.0: NumPy combines an array with a Python float faster than with
an int, with the same result.

Comments on a rule's line note where the derivative is infinite or undefined;
sqrt and cbrt report their poles at 0 to ``cr.kinks()``. A NumPy-only partial that
takes a square root calls sqrt's own (watched) implementation, as the rule's partial
does through ``sqrt``, so a backward sweep reports the same poles either way.

Partials that are infinite at the edge of the domain are written as a product of
reciprocals of the value that vanishes there (``0.5 * reciprocal(sqrt(x))``, not
``0.5 / sqrt(x)``): differentiated again, such a partial is a product of infinite
factors and constants, so higher derivatives at the edge are PyTorch's one-sided
limits (inf or -inf), where the quotient's rule would multiply the vanishing value
by an infinite one (0 * inf = NaN).
"""

from __future__ import annotations

import math

from chainrule.backend import xp
from chainrule.core.primitive import Primitive, defpartials, registry
from chainrule.subgradients.recording import watched

__all__ = [
    "exp",
    "expm1",
    "log",
    "log1p",
    "log2",
    "log10",
    "sqrt",
    "cbrt",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "arctan2",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arctanh",
    "sigmoid",
    "softplus",
    "erf",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _unary(name, impl, partial, array_partial=None):
    # array_partial: the partial in NumPy alone, where ``partial`` calls chainrule
    # operations (a faster first-order sweep; see defpartials)
    prim = Primitive(name, impl)
    defpartials(prim, partial, arrays=None if array_partial is None else (array_partial,))
    return prim


exp = _unary("exp", xp.exp, lambda out, x: out)
expm1 = _unary("expm1", xp.expm1, lambda out, x: out + 1)

def _recip(x):
    # arithmetic imports this module (for log): its reciprocal is looked up when a rule runs
    return registry["reciprocal"](x)


def _square(x):
    return registry["square"](x)


log = _unary("log", xp.log, lambda out, x: _recip(x),  # pole at x == 0
             lambda out, x: 1 / x)
log1p = _unary("log1p", xp.log1p, lambda out, x: _recip(x + 1),  # pole at x == -1
               lambda out, x: 1 / (x + 1))
log2 = _unary("log2", xp.log2, lambda out, x: _recip(x * _LN2),  # pole at x == 0
              lambda out, x: 1 / (x * _LN2))
log10 = _unary("log10", xp.log10, lambda out, x: _recip(x * _LN10),  # pole at x == 0
               lambda out, x: 1 / (x * _LN10))


sqrt = _unary("sqrt", watched("sqrt", xp.sqrt), lambda out, x: 0.5 * _recip(out),
              lambda out, x: 0.5 / out)  # +inf at x == 0
cbrt = _unary("cbrt", watched("cbrt", xp.cbrt),
              lambda out, x: _square(_recip(out)) / 3,  # +inf at x == 0
              lambda out, x: xp.square(1 / out) / 3)
sin = _unary("sin", xp.sin, lambda out, x: cos(x), lambda out, x: xp.cos(x))
cos = _unary("cos", xp.cos, lambda out, x: -sin(x), lambda out, x: -xp.sin(x))
tan = _unary("tan", xp.tan, lambda out, x: 1.0 + out * out)
arcsin = _unary("arcsin", xp.arcsin, lambda out, x: _recip(sqrt(1 - x * x)),  # inf at |x| == 1
                lambda out, x: 1 / sqrt.impl(1 - x * x))
arccos = _unary("arccos", xp.arccos, lambda out, x: -_recip(sqrt(1 - x * x)),  # inf at |x| == 1
                lambda out, x: -1 / sqrt.impl(1 - x * x))
arctan = _unary("arctan", xp.arctan, lambda out, x: 1 / (1 + x * x))
sinh = _unary("sinh", xp.sinh, lambda out, x: cosh(x), lambda out, x: xp.cosh(x))
cosh = _unary("cosh", xp.cosh, lambda out, x: sinh(x), lambda out, x: xp.sinh(x))
tanh = _unary("tanh", xp.tanh, lambda out, x: 1.0 - out * out)
arcsinh = _unary("arcsinh", xp.arcsinh, lambda out, x: 1 / sqrt(x * x + 1),
                 lambda out, x: 1 / sqrt.impl(x * x + 1))
arctanh = _unary("arctanh", xp.arctanh, lambda out, x: _recip(1 - x * x),  # inf at |x| == 1
                 lambda out, x: 1 / (1 - x * x))

arctan2 = Primitive("arctan2", xp.arctan2)  # arctan2(y, x); undefined at (0, 0)
defpartials(arctan2,
            lambda out, y, x: x / (x * x + y * y),
            lambda out, y, x: -y / (x * x + y * y))


def _sigmoid_impl(x):
    # exp(min(x, 0)) / (1 + exp(-|x|)): exp of non-positive numbers only, so nothing
    # overflows; the same values as 1/(1+e) for x >= 0 and e/(1+e) below, without
    # xp.where (5x slower here)
    return xp.exp(xp.minimum(x, 0)) / (1 + xp.exp(-xp.abs(x)))


sigmoid = _unary("sigmoid", _sigmoid_impl, lambda out, x: out * (1.0 - out))


def _softplus_impl(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), exact for large |x|
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


softplus = _unary("softplus", _softplus_impl, lambda out, x: sigmoid(x),
                  lambda out, x: _sigmoid_impl(x))

_erf_scalar = xp.frompyfunc(math.erf, 1, 1)


def _erf_impl(x):
    # math.erf is correctly rounded; frompyfunc maps it over the array.
    x = xp.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else xp.dtype(xp.float64)
    return xp.asarray(_erf_scalar(x), dtype=dtype)


erf = _unary("erf", _erf_impl, lambda out, x: _TWO_OVER_SQRT_PI * exp(-(x * x)),
              lambda out, x: _TWO_OVER_SQRT_PI * xp.exp(-(x * x)))
