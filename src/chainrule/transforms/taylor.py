"""Taylor mode: truncated Taylor series pushed through a function in one sweep.

A :class:`Jet` of level L carries a value ``x0`` and the Taylor coefficients
``x1..xK`` of a path ``x(t) = x0 + x1 t + x2 t^2 + ...`` (coefficients, not
derivatives: ``x_k = x^(k)(0) / k!``). Each primitive maps the input series to
the output series by the standard recurrences (Griewank and Walther,
*Evaluating Derivatives*, ch. 13): a product is a Cauchy product, a quotient
solves one triangular system, and exp, log, sin/cos, tanh, powers... follow
from their ODEs (``y' = f'(x) x'``), each order costing O(k) array
operations. So all K derivatives cost O(K^2) operations, where nesting
``grad`` K times costs exponentially more.

The recurrences are written with chainrule operations, so a Jet nests inside
the other transforms. A primitive with no rule in :data:`RULES` is refused by
name: a missing series term would be a silent wrong derivative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from chainrule import ops
from chainrule.backend import dtype_of, is_float_dtype, shape_of, xp
from chainrule.core.config import transform_scope
from chainrule.core.escape import RefusesConversions
from chainrule.core.primitive import registry
from chainrule.core.trace import Traced, bind
from chainrule.pytree import flatten, unflatten
from chainrule.tensor_numpy import ArrayOperators, NumpyInterface
from chainrule.transforms.grad import _plain, check_callable

__all__ = ["Jet", "jet", "taylor", "derivative", "RULES"]

Series = list  # [x0, x1, ..., xK]; an entry None is a known zero (a constant's)


class Jet(RefusesConversions, ArrayOperators, NumpyInterface, Traced):
    """A value and its Taylor coefficients ``x1..xK`` at one transform level."""

    __slots__ = ("primal", "terms", "_level")

    def __init__(self, primal: Any, terms: list, level: int) -> None:
        self.primal = primal
        self.terms = terms  # K coefficients, each the primal's shape
        self._level = level

    def _process(self, prim: Any, args: tuple, params: dict) -> Any:
        level = self._level
        order = len(self.terms)
        series = []
        primals = []
        for a in args:
            if isinstance(a, Jet) and a._level == level:
                series.append([a.primal, *a.terms])
                primals.append(a.primal)
            else:
                series.append([a] + [None] * order)
                primals.append(a)
        out = bind(prim, *primals, **params)  # enclosing transforms record here
        if not is_float_dtype(dtype_of(out)):
            if xp.dtype(dtype_of(out)).kind == "c":  # dropping the series would be silent
                raise NotImplementedError(
                    f"taylor: {prim.name} gives a complex value ({dtype_of(out)}); Taylor mode "
                    f"propagates real series only (nested cr.grad or cr.jacfwd support "
                    f"complex intermediates)")
            return out  # a comparison, an index: no series
        rule = RULES.get(prim.name)
        if rule is None or registry.get(prim.name) is not prim:
            raise NotImplementedError(
                f"taylor: the primitive {prim.name!r} has no Taylor rule, so its series "
                f"cannot be propagated; cr.jet / cr.taylor handle elementwise functions, "
                f"arithmetic and linear shape operations (use nested cr.grad or cr.jacfwd "
                f"for this function)")
        terms = rule(out, series, order, params)
        shape, dtype = shape_of(out), dtype_of(out)
        fitted = []
        for t in terms:
            if t is None:
                t = xp.zeros(shape, dtype)
            else:
                if shape_of(t) != shape:
                    t = ops.broadcast_to(t, shape)
                if dtype_of(t) != dtype:
                    t = ops.astype(t, dtype)
            fitted.append(t)
        return Jet(out, fitted, level)

    @property
    def shape(self) -> tuple[int, ...]:
        return shape_of(self.primal)

    @property
    def dtype(self) -> Any:
        return dtype_of(self.primal)

    def __repr__(self) -> str:
        return f"Jet({self.primal!r}, terms={self.terms!r}, level={self._level})"


# ----- series arithmetic (None is a known zero) -----

def _add(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _scale(c: float, a: Any) -> Any:
    return None if a is None else c * a


def _cauchy(x: Series, y: Series, k: int, start: int = 0, stop: int | None = None) -> Any:
    """sum_{j=start}^{stop} x_j y_{k-j} (stop defaults to k)."""
    total = None
    for j in range(start, k + 1 if stop is None else stop + 1):
        a, b = x[j], y[k - j]
        if a is None or b is None:
            continue
        total = _add(total, a * b)
    return total


def _weighted(x: Series, q: Series, k: int) -> Any:
    """(1/k) sum_{j=1}^k j x_j q_{k-j}: the k-th coefficient of y when y' = q x'."""
    total = None
    for j in range(1, k + 1):
        a, b = x[j], q[k - j]
        if a is None or b is None:
            continue
        total = _add(total, (j / k) * a * b)
    return total


def _integral(y0: Any, x: Series, q: Series, order: int) -> list:
    """The series of y with y' = q x', given q entirely."""
    return [_weighted(x, q, k) for k in range(1, order + 1)]


def _mul_series(x: Series, y: Series, order: int) -> Series:
    return [_cauchy(x, y, k) for k in range(order + 1)]


def _div_series(x: Series, y: Series, order: int, z0: Any) -> Series:
    """z = x / y: z_k = (x_k - sum_{j=1}^k y_j z_{k-j}) / y_0."""
    z = [z0]
    for k in range(1, order + 1):
        rest = _cauchy(y, z + [None] * (order + 1 - len(z)), k, start=1)
        num = x[k] if rest is None else (rest * -1.0 if x[k] is None else x[k] - rest)
        z.append(None if num is None else num / y[0])
    return z


def _recip_series(x: Series, order: int, y0: Any) -> Series:
    one = [1.0] + [None] * order
    return _div_series(one, x, order, y0)


def _exp_series(x: Series, order: int, y0: Any) -> Series:
    y = [y0] + [None] * order
    for k in range(1, order + 1):
        y[k] = _weighted(x, y, k)
    return y


def _log_terms(x: Series, order: int, y0: Any) -> list:
    """y = log x: y_k = (x_k - (1/k) sum_{j=1}^{k-1} j y_j x_{k-j}) / x_0."""
    y = [y0] + [None] * order
    for k in range(1, order + 1):
        rest = None
        for j in range(1, k):
            if y[j] is not None and x[k - j] is not None:
                rest = _add(rest, (j / k) * y[j] * x[k - j])
        num = x[k] if rest is None else (-1.0 * rest if x[k] is None else x[k] - rest)
        y[k] = None if num is None else num / x[0]
    return y[1:]


def _sin_cos(x: Series, order: int, s0: Any, c0: Any) -> tuple[Series, Series]:
    s, c = [s0] + [None] * order, [c0] + [None] * order
    for k in range(1, order + 1):
        s[k] = _weighted(x, c, k)
        w = _weighted(x, s, k)
        c[k] = None if w is None else -1.0 * w
    return s, c


def _sinh_cosh(x: Series, order: int, s0: Any, c0: Any) -> tuple[Series, Series]:
    s, c = [s0] + [None] * order, [c0] + [None] * order
    for k in range(1, order + 1):
        s[k] = _weighted(x, c, k)
        c[k] = _weighted(x, s, k)
    return s, c


def _tan_like(x: Series, order: int, y0: Any, sign: float) -> list:
    """y = tan x (sign +1: y' = (1 + y^2) x') or tanh x (sign -1: y' = (1 - y^2) x')."""
    y = [y0] + [None] * order
    w = [1.0 + sign * y0 * y0] + [None] * order
    for k in range(1, order + 1):
        y[k] = _weighted(x, w, k)
        sq = _cauchy(y, y, k)
        w[k] = _scale(sign, sq)
    return y[1:]


def _power_const(x: Series, order: int, y0: Any, p: Any) -> list:
    """y = x^p: y_k = (1 / (k x_0)) sum_{j=1}^k ((p + 1) j - k) x_j y_{k-j}."""
    y = [y0] + [None] * order
    for k in range(1, order + 1):
        total = None
        for j in range(1, k + 1):
            if x[j] is None or y[k - j] is None:
                continue
            total = _add(total, (((p + 1) * j - k) / k) * x[j] * y[k - j])
        y[k] = None if total is None else total / x[0]
    return y[1:]


def _derivative_times(q_of: Callable[[Series, int], Series]) -> Callable[..., list]:
    """A rule for y = f(x) given the series of f'(x) as a function of x's series."""
    def rule(out: Any, xs: list, order: int, params: dict) -> list:
        (x,) = xs
        return _integral(out, x, q_of(x, order), order)
    return rule


# ----- the table -----

def _linear(out: Any, xs: list, order: int, params: dict, prim: Any) -> list:
    terms = []
    for k in range(1, order + 1):
        parts = [s[k] for s in xs]
        if all(p is None for p in parts):
            terms.append(None)
            continue
        parts = [xp.zeros(shape_of(s[0]), dtype_of(s[0])) if p is None else p
                 for p, s in zip(parts, xs)]
        terms.append(bind(prim, *parts, **params))
    return terms


def _linear_in_first(out: Any, xs: list, order: int, params: dict, prim: Any) -> list:
    """Linear in the first argument, the others constant (sum_to's shape, where's...)."""
    rest = [s[0] for s in xs[1:]]
    if any(s[k] is not None for s in xs[1:] for k in range(1, order + 1)):
        raise NotImplementedError(f"taylor: {prim.name} with a series in an argument after "
                                  f"the first has no Taylor rule")
    return [None if xs[0][k] is None else bind(prim, xs[0][k], *rest, **params)
            for k in range(1, order + 1)]


def _bilinear(out: Any, xs: list, order: int, params: dict, prim: Any) -> list:
    x, y = xs
    terms = []
    for k in range(1, order + 1):
        total = None
        for j in range(k + 1):
            if x[j] is None or y[k - j] is None:
                continue
            total = _add(total, bind(prim, x[j], y[k - j], **params))
        terms.append(total)
    return terms


def _with(prim_name: str, maker: Callable[..., list]) -> Callable[..., list]:
    def rule(out: Any, xs: list, order: int, params: dict) -> list:
        return maker(out, xs, order, params, registry[prim_name])
    return rule


def _where(out: Any, xs: list, order: int, params: dict) -> list:
    cond = xs[0][0]
    terms = []
    for k in range(1, order + 1):
        a, b = xs[1][k], xs[2][k]
        if a is None and b is None:
            terms.append(None)
        else:
            terms.append(ops.where(cond, 0.0 if a is None else a, 0.0 if b is None else b))
    return terms


def _piecewise_linear(slope_of: Callable[[Any], Any]) -> Callable[..., list]:
    """relu, abs: on each side of the kink a line, so y_k = slope(x_0) x_k."""
    def rule(out: Any, xs: list, order: int, params: dict) -> list:
        x = xs[0]
        slope = slope_of(x[0])
        return [None if x[k] is None else slope * x[k] for k in range(1, order + 1)]
    return rule


def _pick(mask_of: Callable[[Any, Any], Any]) -> Callable[..., list]:
    """maximum, minimum: the series of the chosen argument (the first at a tie)."""
    def rule(out: Any, xs: list, order: int, params: dict) -> list:
        x, y = xs
        first = mask_of(x[0], y[0])
        return [None if x[k] is None and y[k] is None else
                ops.where(first, 0.0 if x[k] is None else x[k], 0.0 if y[k] is None else y[k])
                for k in range(1, order + 1)]
    return rule


def _constant(out: Any, xs: list, order: int, params: dict) -> list:
    return [None] * order  # floor, sign, round...: flat almost everywhere


def _divide(out: Any, xs: list, order: int, params: dict) -> list:
    return _div_series(xs[0], xs[1], order, out)[1:]


def _power(out: Any, xs: list, order: int, params: dict) -> list:
    x, y = xs
    if all(t is None for t in y[1:]):
        p = y[0]
        if not isinstance(p, Traced) and xp.ndim(p) == 0:
            p = float(p)  # an array exponent works elementwise in the same recurrence
        return _power_const(x, order, out, p)
    # x^y = exp(y log x), both series
    logx = [ops.log(x[0])] + _log_terms(x, order, ops.log(x[0]))
    return _exp_series(_mul_series(y, logx, order), order, out)[1:]


def _exp(out, xs, order, params):
    return _exp_series(xs[0], order, out)[1:]


def _expm1(out, xs, order, params):
    return _exp_series(xs[0], order, out + 1.0)[1:]


def _log(out, xs, order, params):
    return _log_terms(xs[0], order, out)


def _log_base(base: float) -> Callable[..., list]:
    def rule(out, xs, order, params):
        return [_scale(1.0 / math.log(base), t) for t in _log_terms(xs[0], order, out)]
    return rule


def _log1p(out, xs, order, params):
    x = xs[0]
    shifted = [x[0] + 1.0, *x[1:]]
    return _log_terms(shifted, order, out)


def _sin(out, xs, order, params):
    return _sin_cos(xs[0], order, out, ops.cos(xs[0][0]))[0][1:]


def _cos(out, xs, order, params):
    return _sin_cos(xs[0], order, ops.sin(xs[0][0]), out)[1][1:]


def _sinh(out, xs, order, params):
    return _sinh_cosh(xs[0], order, out, ops.cosh(xs[0][0]))[0][1:]


def _cosh(out, xs, order, params):
    return _sinh_cosh(xs[0], order, ops.sinh(xs[0][0]), out)[1][1:]


def _tanh(out, xs, order, params):
    return _tan_like(xs[0], order, out, -1.0)


def _tan(out, xs, order, params):
    return _tan_like(xs[0], order, out, 1.0)


def _sqrt(out, xs, order, params):
    return _power_const(xs[0], order, out, 0.5)


def _cbrt(out, xs, order, params):
    return _power_const(xs[0], order, out, 1.0 / 3.0)


def _square(out, xs, order, params):
    x = xs[0]
    return [_cauchy(x, x, k) for k in range(1, order + 1)]


def _reciprocal(out, xs, order, params):
    return _recip_series(xs[0], order, out)[1:]


def _sigmoid(out, xs, order, params):
    # sigmoid = (1 + tanh(x / 2)) / 2
    half = [_scale(0.5, t) for t in xs[0]]
    return [_scale(0.5, t) for t in _tan_like(half, order, 2.0 * out - 1.0, -1.0)]


def _softplus(out, xs, order, params):
    # softplus' = sigmoid(x)
    x = xs[0]
    s0 = ops.sigmoid(x[0])
    return _integral(out, x, [s0, *_sigmoid(s0, [x], order, params)], order)


def _q_arctan(x: Series, order: int) -> Series:  # 1 / (1 + x^2)
    one_plus = _mul_series(x, x, order)
    one_plus[0] = one_plus[0] + 1.0
    return _recip_series(one_plus, order, 1.0 / one_plus[0])


def _q_arctanh(x: Series, order: int) -> Series:  # 1 / (1 - x^2)
    d = [_scale(-1.0, t) for t in _mul_series(x, x, order)]
    d[0] = d[0] + 1.0
    return _recip_series(d, order, 1.0 / d[0])


def _q_arcsin(x: Series, order: int) -> Series:  # (1 - x^2)^(-1/2)
    d = [_scale(-1.0, t) for t in _mul_series(x, x, order)]
    d[0] = d[0] + 1.0
    q0 = d[0] ** -0.5
    return [q0, *_power_const(d, order, q0, -0.5)]


def _q_arcsinh(x: Series, order: int) -> Series:  # (1 + x^2)^(-1/2)
    d = _mul_series(x, x, order)
    d[0] = d[0] + 1.0
    q0 = d[0] ** -0.5
    return [q0, *_power_const(d, order, q0, -0.5)]


def _q_arccos(x: Series, order: int) -> Series:
    return [_scale(-1.0, t) for t in _q_arcsin(x, order)]


def _q_erf(x: Series, order: int) -> Series:  # 2/sqrt(pi) exp(-x^2)
    e = _exp_series([_scale(-1.0, t) for t in _mul_series(x, x, order)], order,
                    ops.exp(-(x[0] * x[0])))
    return [_scale(2.0 / math.sqrt(math.pi), t) for t in e]


def _negative(out, xs, order, params):
    return [_scale(-1.0, t) for t in xs[0][1:]]


def _add_rule(out, xs, order, params):
    return [_add(xs[0][k], xs[1][k]) for k in range(1, order + 1)]


def _subtract(out, xs, order, params):
    return [_add(xs[0][k], _scale(-1.0, xs[1][k])) for k in range(1, order + 1)]


def _multiply(out, xs, order, params):
    return [_cauchy(xs[0], xs[1], k) for k in range(1, order + 1)]


def _identity(out, xs, order, params):
    return list(xs[0][1:])


RULES: dict[str, Callable[..., list]] = {
    "add": _add_rule, "subtract": _subtract, "multiply": _multiply, "divide": _divide,
    "negative": _negative, "power": _power, "square": _square, "reciprocal": _reciprocal,
    "exp": _exp, "expm1": _expm1, "log": _log, "log1p": _log1p, "log2": _log_base(2.0),
    "log10": _log_base(10.0), "sqrt": _sqrt, "cbrt": _cbrt,
    "sin": _sin, "cos": _cos, "tan": _tan, "sinh": _sinh, "cosh": _cosh, "tanh": _tanh,
    "arctan": _derivative_times(_q_arctan), "arctanh": _derivative_times(_q_arctanh),
    "arcsin": _derivative_times(_q_arcsin), "arccos": _derivative_times(_q_arccos),
    "arcsinh": _derivative_times(_q_arcsinh), "erf": _derivative_times(_q_erf),
    "sigmoid": _sigmoid, "softplus": _softplus,
    "relu": _piecewise_linear(lambda x0: ops.astype(x0 > 0, dtype_of(x0))),
    "abs": _piecewise_linear(lambda x0: ops.sign(x0)),
    "maximum": _pick(lambda a, b: a >= b), "minimum": _pick(lambda a, b: a <= b),
    "where": _where,
    "floor": _constant, "ceil": _constant, "round": _constant, "sign": _constant,
    "identity": _identity, "copy": _identity, "astype": _with("astype", _linear_in_first),
    "stop_gradient": _constant,
}
for _name in ("sum", "mean", "reshape", "transpose", "broadcast_to", "sum_to", "expand_dims",
              "squeeze", "getitem", "scatter_add", "concatenate", "flip", "cumsum", "pad",
              "diagonal", "diagonal_embed", "real", "imag", "conj"):
    RULES[_name] = _with(_name, _linear)
for _name in ("matmul", "tensordot"):
    RULES[_name] = _with(_name, _bilinear)


# ----- the transforms -----

def _check_order(order: Any, name: str) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, xp.integer)) or order < 0:
        raise ValueError(f"{name}: order must be a whole number >= 0, got {order!r}")
    return int(order)


def jet(f: Callable[..., Any], primals: Sequence[Any], series: Sequence[Any]
        ) -> tuple[Any, list]:
    """Push truncated Taylor series through ``f``, with JAX's meaning.

    ``primals`` is a tuple of arguments; ``series`` a tuple (one per argument)
    of lists of K derivatives of the input path: ``x(t)`` with ``x(0) = primal``
    and ``x^(k)(0) = series[i][k - 1]``. Returns ``(f(primals), [y1..yK])`` with
    ``y_k = d^k/dt^k f(x(t))`` at 0.

    >>> import numpy as np, chainrule as cr
    >>> out, (d1, d2, d3) = cr.jet(np.sin, (0.5,), ([1.0, 0.0, 0.0],))
    >>> bool(np.allclose([d1, d2, d3], [np.cos(0.5), -np.sin(0.5), -np.cos(0.5)]))
    True
    """
    check_callable(f, "jet")
    if not isinstance(primals, (tuple, list)) or not isinstance(series, (tuple, list)):
        raise TypeError("jet: primals and series must be tuples, one entry per argument: "
                        "jet(f, (x,), ([x1, x2, ...],))")
    if len(primals) != len(series):
        raise ValueError(f"jet: {len(primals)} primal(s) but {len(series)} series; give one "
                         f"series (a list of K terms) per primal")
    orders = {len(s) for s in series}
    if len(orders) != 1:
        raise ValueError(f"jet: every series must have the same number of terms, got "
                         f"{[len(s) for s in series]}")
    (order,) = orders
    with transform_scope() as level:
        args = []
        for i, (p, s) in enumerate(zip(primals, series)):
            p = p if isinstance(p, Traced) else xp.asarray(p, dtype=xp.result_type(p, 0.0))
            terms = []
            for k, t in enumerate(s, start=1):  # derivatives -> Taylor coefficients
                t = t if isinstance(t, Traced) else xp.asarray(t, dtype=dtype_of(p))
                if shape_of(t) != shape_of(p):
                    raise ValueError(f"jet: series[{i}][{k - 1}] has shape {shape_of(t)}, "
                                     f"expected {shape_of(p)} (the shape of primals[{i}])")
                terms.append(t / math.factorial(k))
            args.append(Jet(p, terms, level) if order else p)
        out = f(*args)
    outs, tree = flatten(out)
    values, derivatives = [], []
    for o in outs:
        if isinstance(o, Jet) and o._level == level:
            values.append(_plain(o.primal))
            derivatives.append([_plain(t * math.factorial(k))
                                for k, t in enumerate(o.terms, start=1)])
        else:
            values.append(_plain(o))
            derivatives.append([xp.zeros(shape_of(o), dtype_of(o))] * order)
    if tree.kind == "leaf":
        return values[0], derivatives[0]
    return unflatten(tree, values), unflatten(tree, [d for d in derivatives])


def taylor(f: Callable[[Any], Any], x: Any, order: int) -> Any:
    """``[f(x), f'(x), ..., f^(order)(x)]`` stacked on a new first axis, in one sweep.

    For an array ``x`` each element moves along its own axis at unit speed, so for
    an elementwise ``f`` entry ``[k, i]`` is the k-th derivative at ``x[i]``.

    >>> import chainrule as cr
    >>> [round(float(d), 6) for d in cr.taylor(cr.exp, 0.0, 3)]
    [1.0, 1.0, 1.0, 1.0]
    """
    check_callable(f, "taylor")
    order = _check_order(order, "taylor")
    x = x if isinstance(x, Traced) else xp.asarray(x, dtype=xp.result_type(x, 0.0))
    one = xp.ones(shape_of(x), dtype_of(x))
    zero = xp.zeros(shape_of(x), dtype_of(x))
    value, derivs = jet(f, (x,), ([one] + [zero] * (order - 1) if order else [],))
    return ops.stack([value, *derivs]) if isinstance(value, Traced) or any(
        isinstance(d, Traced) for d in derivs) else xp.stack([value, *derivs])


def derivative(f: Callable[[Any], Any], order: int = 1) -> Callable[[Any], Any]:
    """The ``order``-th derivative of a scalar (or elementwise) function, by Taylor mode.

    >>> import chainrule as cr
    >>> round(float(cr.derivative(cr.sin, order=4)(0.3)), 12) == round(float(cr.sin(0.3)), 12)
    True
    """
    check_callable(f, "derivative")
    order = _check_order(order, "derivative")

    def df(x: Any) -> Any:
        return taylor(f, x, order)[order]

    df.__name__ = f"derivative({getattr(f, '__name__', 'f')}, order={order})"
    return df
