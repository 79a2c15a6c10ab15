"""``derivative``: the n-th derivative of a scalar function, at a point or elementwise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .evaluate import EvaluationError, Evaluator, fmt
from .result import Derivative
from .richardson import extrapolate
from .steps import EPS, auto_step
from .validate import (
    as_real_points,
    check_derivative_order,
    check_method,
    check_step,
    resolve_order,
)
from .weights import fd_stencil

__all__ = ["derivative", "offset_label", "stencil_error_estimate"]


def derivative(
    f: Callable,
    x: ArrayLike,
    *,
    method: str = "central",
    step: ArrayLike | None = None,
    order: int | None = None,
    n: int = 1,
) -> Derivative:
    """The n-th derivative of f at x by finite differences, complex step or Richardson.

    Why: an oracle that needs nothing but f's values, to check symbolic and
    automatic derivatives against (and to show what finite differences cost).
    ``x`` may be an array: then f must be elementwise (``f(x)[i] == f(x[i])``)
    and every point is differentiated at once, one call of f per stencil point.

    - ``method``: ``"central"`` (default), ``"forward"``, ``"backward"``
      (one-sided, for points at the edge of f's domain), ``"complex"`` (complex
      step: first derivatives exact to rounding, but f must accept complex
      input) or ``"richardson"`` (central differences at shrinking steps,
      extrapolated; the most accurate real-valued method, with a measured
      error estimate).
    - ``order``: accuracy order of the stencil; ``None`` means 2 for central
      and Richardson, 1 for forward and backward; even for central. The
      complex step ignores it (its truncation error is far below rounding).
    - ``step``: the step h (scalar or one per point); default ``auto_step``.
      For Richardson, the first and largest step of its shrinking sequence.
    - ``n``: derivative order, any n >= 1 (the complex step: n = 1 only).

    f failing (raising, or returning NaN or infinity) at a stencil point raises
    ``EvaluationError`` naming the point; if f fails at x itself, the error
    says so. Central stencils of odd n never evaluate f at x, so a pole
    exactly at x with finite values at ``x +- h`` goes unnoticed.

    The error estimate of a plain stencil is a model, not a measurement: the
    round-off bound ``eps * sum|w_k f(x + z_k h)| / h**n`` plus the truncation
    error that balances it at the automatic step. Richardson's comes from its
    tableau, the complex step's from rounding alone.

    >>> d = derivative(np.exp, 0.0)
    >>> round(float(d), 9), d.evaluations
    (1.0, 2)
    >>> float(derivative(np.sin, 0.0, method="complex"))
    1.0
    >>> float(np.round(derivative(np.sin, [0.0, np.pi], method="richardson"), 12)[1])
    -1.0
    >>> round(float(derivative(lambda x: x**4, 1.0, n=3, order=4)), 6)
    24.0
    """
    method = check_method(method)
    n = check_derivative_order(n)
    order = resolve_order(method, order)
    points = as_real_points(x)
    h = check_step(step, points.shape)
    if method == "complex" and n != 1:
        raise ValueError(
            f"method='complex' gives first derivatives only (n=1); got n={n}. "
            "Use method='richardson' or 'central' for higher derivatives"
        )
    ev = Evaluator(f)
    try:
        h, value, error = _dispatch(ev, points, h, method, n, order)
    except EvaluationError as failure:
        ev.check_domain(points, _describer(points, np.ones_like(points), "x"), failure)
        raise
    return Derivative(value, error, ev.calls, h, method, order)


def _dispatch(
    ev: Evaluator, points: np.ndarray, h: np.ndarray | None, method: str, n: int, order: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(step, value, error estimate) of one method."""
    if method == "complex":
        h = auto_step(points, method="complex") if h is None else h
        return (h, *_complex_step(ev, points, h))
    if method == "richardson":
        return _richardson(ev, points, h, n, order)
    h = auto_step(points, n, order, method) if h is None else h
    offsets, weights = fd_stencil(method, n, order)
    h = _representable(points, h)
    value, rounding = _stencil(ev, points, h, offsets, weights, n)
    return h, value, stencil_error_estimate(rounding, n, order)


def stencil_error_estimate(rounding: np.ndarray, n: int, order: int) -> np.ndarray:
    """Model error of a plain stencil: round-off plus the truncation balancing it at the best step.

    At the step minimising ``eps/h**n + C h**p`` the truncation error is
    ``n/p`` times the round-off error, so the total is ``(1 + n/p)`` round-off.
    """
    return rounding * (1.0 + n / order)


def offset_label(z: float, var: str = "h") -> str:
    """Name of the point x + z*h: ``x``, ``x + h``, ``x - 2*h``, ``x + 0.5*h``."""
    if z == 0:
        return "x"
    sign = "+" if z > 0 else "-"
    size = abs(z)
    coeff = "" if size == 1 else f"{size:g}*"
    return f"x {sign} {coeff}{var}"


def _representable(points: np.ndarray, h: np.ndarray) -> np.ndarray:
    # (x + h) - x is the step the floating-point stencil really takes; dividing by
    # it instead of h removes the error of rounding x + h (a classic trick).
    h_eff = (points + h) - points
    if np.any(h_eff == 0):
        i = np.argwhere(h_eff == 0)[0]
        raise ValueError(
            f"step {fmt(np.asarray(h)[tuple(i)])} is too small to change x = "
            f"{fmt(points[tuple(i)])} in floating point; use a larger step"
        )
    return h_eff


def _describer(points: np.ndarray, h: np.ndarray, label: str) -> Callable:
    def describe(index: tuple[int, ...] | None) -> str:
        if points.ndim == 0:
            where, x_i, h_i = "", points[()], h[()]
        elif index is not None and len(index) == points.ndim:
            where, x_i, h_i = f"[{', '.join(map(str, index))}]", points[index], h[index]
        elif label == "x":
            return f"x itself (x of shape {points.shape})"
        else:
            return f"the stencil point {label} (x of shape {points.shape})"
        if label == "x":
            return f"x{where} = {fmt(x_i)} itself"
        pt = label.replace("x", f"x{where}", 1)
        value = _eval_label(label, x_i, h_i)
        return (f"the stencil point {pt} = {fmt(value)} (x{where} = {fmt(x_i)}, "
                f"h = {fmt(h_i)})")

    return describe


def _eval_label(label: str, x: float, h: float) -> object:
    """The number a label like ``x - 2*h`` or ``x + i*h`` stands for (for messages only)."""
    if label == "x":
        return x
    _, sign, rest = label.split(" ", 2)
    sgn = 1.0 if sign == "+" else -1.0
    if rest.startswith("i*"):
        return complex(x, sgn * h)
    coeff = float(rest.split("*")[0]) if "*" in rest else 1.0
    return x + sgn * coeff * h


def _check_elementwise(out: np.ndarray, points: np.ndarray) -> None:
    try:
        ok = np.broadcast_shapes(out.shape, points.shape) == points.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"derivative needs a scalar function applied elementwise: for x of shape "
            f"{points.shape} f returned shape {out.shape}. For a function of a vector use "
            "gradient (scalar f) or jacobian (vector-valued f)"
        )


def _stencil(
    ev: Evaluator,
    points: np.ndarray,
    h: np.ndarray,
    offsets: np.ndarray,
    weights: np.ndarray,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """sum_k w_k f(x + z_k h) / h**n, with its round-off bound."""
    total = np.zeros(points.shape)
    magnitude = np.zeros(points.shape)
    for z, w in zip(offsets, weights, strict=True):
        label = offset_label(z)
        out = ev(points + z * h, label, _describer(points, h, label))
        _check_elementwise(out, points)
        total = total + w * out
        magnitude = magnitude + np.abs(w * out)
    scale = h**n
    return total / scale, EPS * magnitude / scale


def _complex_step(
    ev: Evaluator, points: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Im f(x + ih) / h: no subtraction, so no cancellation, whatever the step."""
    label = "x + i*h"
    out = ev.complex_call(points + 1j * h, label, _describer(points, h, label))
    _check_elementwise(out, points)
    value = np.broadcast_to(out.imag / h, points.shape)
    ev.guard_complex_step(out, value, np.maximum(1.0, np.abs(points)), points,
                          _describer(points, np.ones_like(points), "x"))
    # Rounding of the imaginary part only; the O(h**2) truncation is ~1e-40 at the default step.
    error = 2 * EPS * np.abs(value)
    return value, error


def _richardson(
    ev: Evaluator, points: np.ndarray, h: np.ndarray | None, n: int, order: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h0 = auto_step(points, n, order, "richardson") if h is None else h
    offsets, weights = fd_stencil("central", n, order)

    def estimate(factor: float) -> tuple[np.ndarray, np.ndarray]:
        return _stencil(ev, points, _representable(points, factor * h0), offsets, weights, n)

    out = extrapolate(estimate, power=order)
    return out.first_factor * h0, out.value, out.error
