"""Taylor series rules: the table Taylor mode reads, and the recurrences they share.

A series rule maps the truncated Taylor series of a primitive's arguments
(``[x0, x1, ..., xK]`` each, coefficients, not derivatives; an entry None is a
known zero) to the terms ``[y1, ..., yK]`` of its output, given the output
``y0``: ``rule(out, xs, order, params) -> list``. Each family module of
``chainrule.ops`` registers its primitives' rules with :func:`defseries` in a
block beside their other rules; ``chainrule.transforms.taylor`` is the engine
that runs them. The recurrences are the standard ones (Griewank and Walther,
*Evaluating Derivatives*, ch. 13): a product is a Cauchy product, a quotient
solves one triangular system, and exp, log, sin/cos, tanh, powers... follow
from their ODEs ``y' = f'(x) x'``, each order costing O(k) array operations.
They are written with operators (and primitives bound by name), so a series
nests inside the other transforms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import registry
from chainrule.core.trace import bind

Series = list  # [x0, x1, ..., xK]; an entry None is a known zero (a constant's)
SeriesRule = Callable[[Any, list, int, dict], list]

SERIES: dict[str, SeriesRule] = {}


def defseries(prim: Any, rule: SeriesRule) -> None:
    """Give the registered primitive ``prim`` (or its name) its Taylor series rule."""
    SERIES[prim if isinstance(prim, str) else prim.name] = rule


# ----- series arithmetic (None is a known zero) -----

def add(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def scale(c: float, a: Any) -> Any:
    return None if a is None else c * a


def cauchy(x: Series, y: Series, k: int, start: int = 0, stop: int | None = None) -> Any:
    """sum_{j=start}^{stop} x_j y_{k-j} (stop defaults to k)."""
    total = None
    for j in range(start, k + 1 if stop is None else stop + 1):
        a, b = x[j], y[k - j]
        if a is None or b is None:
            continue
        total = add(total, a * b)
    return total


def weighted(x: Series, q: Series, k: int) -> Any:
    """(1/k) sum_{j=1}^k j x_j q_{k-j}: the k-th coefficient of y when y' = q x'."""
    total = None
    for j in range(1, k + 1):
        a, b = x[j], q[k - j]
        if a is None or b is None:
            continue
        total = add(total, (j / k) * a * b)
    return total


def integral(y0: Any, x: Series, q: Series, order: int) -> list:
    """The series of y with y' = q x', given q entirely."""
    return [weighted(x, q, k) for k in range(1, order + 1)]


def mul_series(x: Series, y: Series, order: int) -> Series:
    return [cauchy(x, y, k) for k in range(order + 1)]


def div_series(x: Series, y: Series, order: int, z0: Any) -> Series:
    """z = x / y: z_k = (x_k - sum_{j=1}^k y_j z_{k-j}) / y_0."""
    z = [z0]
    for k in range(1, order + 1):
        rest = cauchy(y, z + [None] * (order + 1 - len(z)), k, start=1)
        num = x[k] if rest is None else (rest * -1.0 if x[k] is None else x[k] - rest)
        z.append(None if num is None else num / y[0])
    return z


def recip_series(x: Series, order: int, y0: Any) -> Series:
    one = [1.0] + [None] * order
    return div_series(one, x, order, y0)


def exp_series(x: Series, order: int, y0: Any) -> Series:
    y = [y0] + [None] * order
    for k in range(1, order + 1):
        y[k] = weighted(x, y, k)
    return y


def log_terms(x: Series, order: int, y0: Any) -> list:
    """y = log x: y_k = (x_k - (1/k) sum_{j=1}^{k-1} j y_j x_{k-j}) / x_0."""
    y = [y0] + [None] * order
    for k in range(1, order + 1):
        rest = None
        for j in range(1, k):
            if y[j] is not None and x[k - j] is not None:
                rest = add(rest, (j / k) * y[j] * x[k - j])
        num = x[k] if rest is None else (-1.0 * rest if x[k] is None else x[k] - rest)
        y[k] = None if num is None else num / x[0]
    return y[1:]


def sin_cos(x: Series, order: int, s0: Any, c0: Any) -> tuple[Series, Series]:
    s, c = [s0] + [None] * order, [c0] + [None] * order
    for k in range(1, order + 1):
        s[k] = weighted(x, c, k)
        w = weighted(x, s, k)
        c[k] = None if w is None else -1.0 * w
    return s, c


def sinh_cosh(x: Series, order: int, s0: Any, c0: Any) -> tuple[Series, Series]:
    s, c = [s0] + [None] * order, [c0] + [None] * order
    for k in range(1, order + 1):
        s[k] = weighted(x, c, k)
        c[k] = weighted(x, s, k)
    return s, c


def tan_like(x: Series, order: int, y0: Any, sign: float) -> list:
    """y = tan x (sign +1: y' = (1 + y^2) x') or tanh x (sign -1: y' = (1 - y^2) x')."""
    y = [y0] + [None] * order
    w = [1.0 + sign * y0 * y0] + [None] * order
    for k in range(1, order + 1):
        y[k] = weighted(x, w, k)
        sq = cauchy(y, y, k)
        w[k] = scale(sign, sq)
    return y[1:]


def power_const(x: Series, order: int, y0: Any, p: Any) -> list:
    """y = x^p: y_k = (1 / (k x_0)) sum_{j=1}^k ((p + 1) j - k) x_j y_{k-j}."""
    y = [y0] + [None] * order
    for k in range(1, order + 1):
        total = None
        for j in range(1, k + 1):
            if x[j] is None or y[k - j] is None:
                continue
            total = add(total, (((p + 1) * j - k) / k) * x[j] * y[k - j])
        y[k] = None if total is None else total / x[0]
    return y[1:]


def q_arctan(x: Series, order: int) -> Series:  # 1 / (1 + x^2)
    one_plus = mul_series(x, x, order)
    one_plus[0] = one_plus[0] + 1.0
    return recip_series(one_plus, order, 1.0 / one_plus[0])


def q_arctanh(x: Series, order: int) -> Series:  # 1 / (1 - x^2)
    d = [scale(-1.0, t) for t in mul_series(x, x, order)]
    d[0] = d[0] + 1.0
    return recip_series(d, order, 1.0 / d[0])


def q_arcsin(x: Series, order: int) -> Series:  # (1 - x^2)^(-1/2)
    d = [scale(-1.0, t) for t in mul_series(x, x, order)]
    d[0] = d[0] + 1.0
    q0 = d[0] ** -0.5
    return [q0, *power_const(d, order, q0, -0.5)]


def q_arcsinh(x: Series, order: int) -> Series:  # (1 + x^2)^(-1/2)
    d = mul_series(x, x, order)
    d[0] = d[0] + 1.0
    q0 = d[0] ** -0.5
    return [q0, *power_const(d, order, q0, -0.5)]


def q_arccos(x: Series, order: int) -> Series:
    return [scale(-1.0, t) for t in q_arcsin(x, order)]


def q_erf(x: Series, order: int) -> Series:  # 2/sqrt(pi) exp(-x^2)
    e = exp_series([scale(-1.0, t) for t in mul_series(x, x, order)], order,
                    bind(registry["exp"], -(x[0] * x[0])))
    return [scale(2.0 / math.sqrt(math.pi), t) for t in e]


def derivative_times(q_of: Callable[[Series, int], Series]) -> SeriesRule:
    """A rule for y = f(x) given the series of f'(x) as a function of x's series."""
    def rule(out: Any, xs: list, order: int, params: dict) -> list:
        (x,) = xs
        return integral(out, x, q_of(x, order), order)
    return rule


def derivative_of(x: Series, order: int) -> Series:
    """The series of x' (order - 1 terms): (k + 1) x_{k+1}."""
    return [scale(float(k + 1), x[k + 1]) for k in range(order)]


# ----- rules shared by families of primitives -----

def linear(prim: Any) -> SeriesRule:
    """A primitive linear in all its arguments together (shape operations, sums):
    each term is the primitive applied to the arguments' terms."""
    def rule(out: Any, xs: list, order: int, params: dict) -> list:
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
    return rule


def linear_in_first(prim: Any) -> SeriesRule:
    """Linear in the first argument, the others constant (astype's dtype, an index)."""
    def rule(out: Any, xs: list, order: int, params: dict) -> list:
        rest = [s[0] for s in xs[1:]]
        if any(s[k] is not None for s in xs[1:] for k in range(1, order + 1)):
            raise NotImplementedError(f"taylor: {prim.name} with a series in an argument "
                                      f"after the first has no Taylor rule")
        return [None if xs[0][k] is None else bind(prim, xs[0][k], *rest, **params)
                for k in range(1, order + 1)]
    return rule


def bilinear(prim: Any) -> SeriesRule:
    """matmul, tensordot: the Cauchy product with the primitive as the product."""
    def rule(out: Any, xs: list, order: int, params: dict) -> list:
        x, y = xs
        terms = []
        for k in range(1, order + 1):
            total = None
            for j in range(k + 1):
                if x[j] is None or y[k - j] is None:
                    continue
                total = add(total, bind(prim, x[j], y[k - j], **params))
            terms.append(total)
        return terms
    return rule


def piecewise_linear(prim: Any) -> SeriesRule:
    """relu, abs, maximum, minimum, clip, remainder: linear on each piece, so every
    term is the first-order one, sum_i partial_i x_{i,k}. The partials are the
    primitive's own, so at a kink the series follows the subgradient policy the
    first-order rules follow (``cr.subgradient_policy``), term by term."""
    def rule(out: Any, xs: list, order: int, params: dict) -> list:
        args = [s[0] for s in xs]
        moving = tuple(i for i, s in enumerate(xs) if any(t is not None for t in s[1:]))
        extra = {"perturbed": moving} if prim.takes_perturbed else {}
        slopes = {i: prim.partials[i](out, *args, **extra) for i in moving}
        terms = []
        for k in range(1, order + 1):
            total = None
            for i in moving:
                if xs[i][k] is not None:
                    total = add(total, slopes[i] * xs[i][k])
            terms.append(total)
        return terms
    return rule


def constant(out: Any, xs: list, order: int, params: dict) -> list:
    """floor, sign, floor_divide...: flat almost everywhere (jumps have no series)."""
    return [None] * order


def identity(out: Any, xs: list, order: int, params: dict) -> list:
    return list(xs[0][1:])
