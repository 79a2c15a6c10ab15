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

This module is the engine; each primitive's series rule is registered beside
its other rules, in its family module of ``chainrule.ops``, and the shared
recurrences live in ``chainrule.ops.series`` (whose table :data:`RULES` is).
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
from chainrule.ops.series import SERIES as RULES
from chainrule.pytree import flatten, unflatten
from chainrule.tensor_numpy import ArrayOperators, NumpyInterface
from chainrule.transforms.grad import _plain, check_callable

__all__ = ["Jet", "jet", "taylor", "derivative", "RULES"]



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
