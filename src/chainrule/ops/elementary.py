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
"""``e ** x``, elementwise; its derivative is itself, ``e ** x``."""
expm1 = _unary("expm1", xp.expm1, lambda out, x: out + 1)
"""``e ** x - 1``, exact for small x; its derivative is ``e ** x``."""

def _recip(x):
    # arithmetic imports this module (for log): its reciprocal is looked up when a rule runs
    return registry["reciprocal"](x)


def _square(x):
    return registry["square"](x)


log = _unary("log", xp.log, lambda out, x: _recip(x),  # pole at x == 0
             lambda out, x: 1 / x)
"""The natural logarithm; its derivative is 1/x, with a pole at 0."""
log1p = _unary("log1p", xp.log1p, lambda out, x: _recip(x + 1),  # pole at x == -1
               lambda out, x: 1 / (x + 1))
"""log(1 + x), exact for small x; its derivative is 1/(1 + x), a pole at -1."""
log2 = _unary("log2", xp.log2, lambda out, x: _recip(x * _LN2),  # pole at x == 0
              lambda out, x: 1 / (x * _LN2))
"""The base-2 logarithm; its derivative is 1/(x ln 2), a pole at 0."""
log10 = _unary("log10", xp.log10, lambda out, x: _recip(x * _LN10),  # pole at x == 0
               lambda out, x: 1 / (x * _LN10))
"""The base-10 logarithm; its derivative is 1/(x ln 10), a pole at 0."""


sqrt = _unary("sqrt", watched("sqrt", xp.sqrt), lambda out, x: 0.5 * _recip(out),
              lambda out, x: 0.5 / out)  # +inf at x == 0
"""The square root; its derivative 1/(2 sqrt(x)) is +inf at 0, which ``cr.kinks()``
reports."""
cbrt = _unary("cbrt", watched("cbrt", xp.cbrt),
              lambda out, x: _square(_recip(out)) / 3,  # +inf at x == 0
              lambda out, x: xp.square(1 / out) / 3)
"""The real cube root (negative for x < 0); its derivative ``1/(3 cbrt(x)**2)``
is +inf at 0, which ``cr.kinks()`` reports."""
sin = _unary("sin", xp.sin, lambda out, x: cos(x), lambda out, x: xp.cos(x))
"""The sine (radians); its derivative is cos(x)."""
cos = _unary("cos", xp.cos, lambda out, x: -sin(x), lambda out, x: -xp.sin(x))
"""The cosine (radians); its derivative is -sin(x)."""
# The NumPy-only partials that read the output add or subtract 1 as a read-only 0-d
# float64 array when the output is float64: NumPy then skips converting a Python
# float (a sixth of such a small call); the same operand, so the same numbers. A 0-d
# array is no weak scalar (NEP 50), so any other dtype gets the Python float.
_ONE_F64 = xp.array(1.0)
_ONE_F64.setflags(write=False)
_F64 = xp.dtype(xp.float64)


tan = _unary("tan", xp.tan, lambda out, x: 1.0 + out * out,
             lambda out, x: (_ONE_F64 if out.dtype is _F64 else 1.0) + out * out)
"""The tangent (radians); its derivative is ``1 + tan(x)**2``, read from the output."""
arcsin = _unary("arcsin", xp.arcsin, lambda out, x: _recip(sqrt(1 - x * x)),  # inf at |x| == 1
                lambda out, x: 1 / sqrt.impl(1 - x * x))
"""The inverse sine on [-1, 1]; its derivative ``1/sqrt(1 - x**2)`` is infinite at +-1."""
arccos = _unary("arccos", xp.arccos, lambda out, x: -_recip(sqrt(1 - x * x)),  # inf at |x| == 1
                lambda out, x: -1 / sqrt.impl(1 - x * x))
"""The inverse cosine on [-1, 1]; its derivative ``-1/sqrt(1 - x**2)``
is infinite at +-1."""
arctan = _unary("arctan", xp.arctan, lambda out, x: 1 / (1 + x * x))
"""The inverse tangent; its derivative is ``1/(1 + x**2)``."""
sinh = _unary("sinh", xp.sinh, lambda out, x: cosh(x), lambda out, x: xp.cosh(x))
"""The hyperbolic sine; its derivative is cosh(x)."""
cosh = _unary("cosh", xp.cosh, lambda out, x: sinh(x), lambda out, x: xp.sinh(x))
"""The hyperbolic cosine; its derivative is sinh(x)."""
tanh = _unary("tanh", xp.tanh, lambda out, x: 1.0 - out * out,
              lambda out, x: (_ONE_F64 if out.dtype is _F64 else 1.0) - out * out)
"""The hyperbolic tangent; its derivative is ``1 - tanh(x)**2``, read from the output."""
arcsinh = _unary("arcsinh", xp.arcsinh, lambda out, x: 1 / sqrt(x * x + 1),
                 lambda out, x: 1 / sqrt.impl(x * x + 1))
"""The inverse hyperbolic sine; its derivative is ``1/sqrt(x**2 + 1)``."""
arctanh = _unary("arctanh", xp.arctanh, lambda out, x: _recip(1 - x * x),  # inf at |x| == 1
                 lambda out, x: 1 / (1 - x * x))
"""The inverse hyperbolic tangent on (-1, 1); its derivative ``1/(1 - x**2)`` is
infinite at +-1."""

arctan2 = Primitive("arctan2", xp.arctan2)  # arctan2(y, x); undefined at (0, 0)
"""arctan2(y, x), the angle of the point (x, y) in [-pi, pi]; partials
``x/(x**2 + y**2)`` and ``-y/(x**2 + y**2)``, undefined at (0, 0)."""
defpartials(arctan2,
            lambda out, y, x: x / (x * x + y * y),
            lambda out, y, x: -y / (x * x + y * y))


def _sigmoid_impl(x):
    # exp(min(x, 0)) / (1 + exp(-|x|)): exp of non-positive numbers only, so nothing
    # overflows; the same values as 1/(1+e) for x >= 0 and e/(1+e) below, without
    # xp.where (5x slower here)
    return xp.exp(xp.minimum(x, 0)) / (1 + xp.exp(-xp.abs(x)))


sigmoid = _unary("sigmoid", _sigmoid_impl, lambda out, x: out * (1.0 - out),
                 lambda out, x: out * ((_ONE_F64 if out.dtype is _F64 else 1.0) - out))
"""The logistic function ``1/(1 + e**-x)``, computed without overflow; its derivative
is ``s * (1 - s)``, read from the output s."""


def _softplus_impl(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), exact for large |x|
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


softplus = _unary("softplus", _softplus_impl, lambda out, x: sigmoid(x),
                  lambda out, x: _sigmoid_impl(x))
"""``log(1 + e**x)``, computed without overflow; its derivative is sigmoid(x)."""

_erf_scalar = xp.frompyfunc(math.erf, 1, 1)


def _erf_impl(x):
    # math.erf is correctly rounded; frompyfunc maps it over the array.
    x = xp.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else xp.dtype(xp.float64)
    return xp.asarray(_erf_scalar(x), dtype=dtype)


erf = _unary("erf", _erf_impl, lambda out, x: _TWO_OVER_SQRT_PI * exp(-(x * x)),
              lambda out, x: _TWO_OVER_SQRT_PI * xp.exp(-(x * x)))
"""The error function (``math.erf``, correctly rounded); its derivative is
``2/sqrt(pi) * e**(-x**2)``."""


# ----- Taylor series rules (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.ops import series as _s  # noqa: E402


def _log_base(base):
    def rule(out, xs, order, params):
        return [_s.scale(1.0 / math.log(base), t) for t in _s.log_terms(xs[0], order, out)]
    return rule


def _sigmoid_series(out, xs, order, params):  # sigmoid = (1 + tanh(x / 2)) / 2
    half = [_s.scale(0.5, t) for t in xs[0]]
    return [_s.scale(0.5, t) for t in _s.tan_like(half, order, 2.0 * out - 1.0, -1.0)]


def _softplus_series(out, xs, order, params):  # softplus' = sigmoid(x)
    x = xs[0]
    s0 = sigmoid(x[0])
    return _s.integral(out, x, [s0, *_sigmoid_series(s0, [x], order, params)], order)


def _arctan2_series(out, xs, order, params):
    """z = arctan2(y, x): z' = (x y' - y x') / (x^2 + y^2), integrated term by term.
    Undefined at (0, 0), as its first-order rules are (0 / 0)."""
    y, x = xs
    if order == 0:
        return []
    dy, dx = _s.derivative_of(y, order), _s.derivative_of(x, order)
    num = [_s.add(_s.cauchy(x, dy, k), _s.scale(-1.0, _s.cauchy(y, dx, k)))
           for k in range(order)]
    den = [_s.add(_s.cauchy(x, x, k), _s.cauchy(y, y, k)) for k in range(order)]
    q = _s.div_series(num, den, order - 1, None if num[0] is None else num[0] / den[0])
    return [_s.scale(1.0 / k, q[k - 1]) for k in range(1, order + 1)]


_s.defseries("exp", lambda out, xs, order, params: _s.exp_series(xs[0], order, out)[1:])
_s.defseries("expm1", lambda out, xs, order, params:
             _s.exp_series(xs[0], order, out + 1.0)[1:])
_s.defseries("log", lambda out, xs, order, params: _s.log_terms(xs[0], order, out))
_s.defseries("log1p", lambda out, xs, order, params:
             _s.log_terms([xs[0][0] + 1.0, *xs[0][1:]], order, out))
_s.defseries("log2", _log_base(2.0))
_s.defseries("log10", _log_base(10.0))
_s.defseries("sqrt", lambda out, xs, order, params: _s.power_const(xs[0], order, out, 0.5))
_s.defseries("cbrt", lambda out, xs, order, params:
             _s.power_const(xs[0], order, out, 1.0 / 3.0))
_s.defseries("sin", lambda out, xs, order, params:
             _s.sin_cos(xs[0], order, out, cos(xs[0][0]))[0][1:])
_s.defseries("cos", lambda out, xs, order, params:
             _s.sin_cos(xs[0], order, sin(xs[0][0]), out)[1][1:])
_s.defseries("sinh", lambda out, xs, order, params:
             _s.sinh_cosh(xs[0], order, out, cosh(xs[0][0]))[0][1:])
_s.defseries("cosh", lambda out, xs, order, params:
             _s.sinh_cosh(xs[0], order, sinh(xs[0][0]), out)[1][1:])
_s.defseries("tanh", lambda out, xs, order, params: _s.tan_like(xs[0], order, out, -1.0))
_s.defseries("tan", lambda out, xs, order, params: _s.tan_like(xs[0], order, out, 1.0))
_s.defseries("arctan", _s.derivative_times(_s.q_arctan))
_s.defseries("arctanh", _s.derivative_times(_s.q_arctanh))
_s.defseries("arcsin", _s.derivative_times(_s.q_arcsin))
_s.defseries("arccos", _s.derivative_times(_s.q_arccos))
_s.defseries("arcsinh", _s.derivative_times(_s.q_arcsinh))
_s.defseries("erf", _s.derivative_times(_s.q_erf))
_s.defseries("sigmoid", _sigmoid_series)
_s.defseries("softplus", _softplus_series)
_s.defseries("arctan2", _arctan2_series)
