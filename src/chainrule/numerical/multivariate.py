"""Derivatives of functions of arrays: ``gradient``, ``jacobian``, ``directional_derivative``.

Each partial derivative is a one-dimensional stencil along one coordinate of x,
so a first-order gradient costs one stencil per input: 2n evaluations for
central differences, n + 1 for forward ones (f(x) is shared), n for the complex
step. That cost, linear in the number of inputs, is the weakness of finite
differences that reverse-mode AD removes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .evaluate import Evaluator, fmt
from .flags import at_x as _at_x
from .flags import check_analytic, not_settled
from .points import Points, domain_checked
from .pointwise import kink_test
from .result import Derivative
from .sequence import StepTooSmall, settle
from .steps import EPS, auto_step
from .validate import as_real_points, check_method, check_step, resolve_order
from .weights import fd_stencil

__all__ = [
    "complex_partials",
    "directional_derivative",
    "gradient",
    "jacobian",
    "require_scalar",
]


def gradient(
    f: Callable,
    x: ArrayLike,
    *,
    method: str = "central",
    step: ArrayLike | None = None,
    order: int | None = None,
    measure_error: bool = True,
) -> Derivative:
    """The gradient of a scalar function of an array: one partial derivative per element of x.

    Why: the reference against which reverse-mode gradients are checked. The
    result has x's shape. Methods as in ``derivative``. Each partial's error
    is measured as ``derivative``'s is: its stencil runs at two steps (more
    where they disagree, until they settle; ``converged`` is per element),
    so ``"central"`` costs 4 calls of f per element of x (plus f(x), to
    flag a kink at x: its one-sided slopes then differ whatever the step),
    ``"forward"``/``"backward"`` (order 1) two per element plus f(x),
    ``"richardson"`` several rows of central differences, and ``"complex"``
    one per element plus two checking that f is analytic. With
    ``measure_error=False`` a single stencil runs (2 calls per element for
    central differences), its error estimate a round-off model only.

    >>> g = gradient(lambda x: np.sum(x**2), np.array([1.0, 2.0]))
    >>> np.round(g.value, 8).tolist(), g.evaluations, g.success
    ([2.0, 4.0], 9, True)
    >>> gradient(lambda x: x[0] * x[1], [3.0, 5.0], method="complex").value.tolist()
    [5.0, 3.0]
    """
    checked = require_scalar("gradient", "use jacobian for vector-valued f")
    return _first_derivatives(f, x, method, step, order, checked, kind="gradient",
                              measure=bool(measure_error))


def jacobian(
    f: Callable,
    x: ArrayLike,
    *,
    method: str = "central",
    step: ArrayLike | None = None,
    order: int | None = None,
    measure_error: bool = True,
) -> Derivative:
    """The Jacobian of an array function: ``J[i + j] = d f(x)[i] / d x[j]`` for index tuples i, j.

    Why: the full first derivative of a vector (or any-shape) function, the
    reference for ``jacfwd``/``jacrev``. Its shape is ``f(x).shape + x.shape``,
    so a scalar f gives the gradient's shape. Costs as ``gradient``.

    >>> f = lambda x: np.array([x[0] * x[1], x[0] + 3 * x[1]])
    >>> np.round(jacobian(f, [2.0, 5.0]).value, 8).tolist()
    [[5.0, 2.0], [1.0, 3.0]]
    """
    return _first_derivatives(f, x, method, step, order, _any_output, kind="jacobian",
                              measure=bool(measure_error))


def directional_derivative(
    f: Callable,
    x: ArrayLike,
    v: ArrayLike,
    *,
    method: str = "central",
    step: ArrayLike | None = None,
    order: int | None = None,
    measure_error: bool = True,
) -> Derivative:
    """``d/dt f(x + t v)`` at t = 0: the Jacobian times v, from one 1-D stencil in t.

    Why: a Jacobian-vector product costs one stencil whatever the size of x
    (2 calls for central differences, 1 for the complex step), the numerical
    twin of forward-mode AD's ``jvp`` and the cheap way to check a gradient
    along random directions. ``v`` has x's shape and need not be normalised;
    the step in t is scaled by ``max(1, max|x|) / max|v|``. f may return any
    shape; the result has f's output shape.

    >>> f = lambda x: np.sum(x**2)
    >>> round(float(directional_derivative(f, [1.0, 2.0], [1.0, 1.0])), 8)
    6.0
    """
    method = check_method(method)
    order = resolve_order(method, order)
    xs = as_real_points(x)
    direction = as_real_points(v, "v")
    if direction.shape != xs.shape:
        raise ValueError(f"v must have x's shape {xs.shape}; got shape {direction.shape}")
    norm = float(np.max(np.abs(direction), initial=0.0)) or 1.0
    t_scale = max(1.0, float(np.max(np.abs(xs), initial=0.0))) / norm
    user = check_step(step, ())
    t0 = auto_step(0.0, 1, order, method) * t_scale if user is None else user
    t0 = np.asarray(t0, dtype=float)
    ev = Evaluator(f)
    measure = bool(measure_error)
    value, error, t, converged = domain_checked(
        ev, xs, lambda: _directional(ev, xs, direction, t0, method, order, user is not None,
                                     measure)
    )
    return Derivative(value, error, ev.calls, t, method, order, kind="directional_derivative",
                      converged=converged, message=not_settled(converged, measure, method))


def _directional(
    ev: Evaluator, xs: np.ndarray, direction: np.ndarray, t0: np.ndarray, method: str,
    order: int, user: bool, measure: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    flat = xs.ravel()
    move = direction.ravel()
    if method == "complex":
        point = (flat + 1j * t0 * move).reshape(xs.shape)
        label = "x + i*t*v"
        out = ev.complex_call(point, label, lambda index: f"the point {label} (t = {fmt(t0)})")
        value = out.imag / t0
        reach = max(1.0, float(np.max(np.abs(flat), initial=0.0)))
        t_scale = reach / (float(np.max(np.abs(move), initial=0.0)) or 1.0)
        ev.guard_complex_step(out, value, t_scale, xs, _at_x)
        check_analytic(ev, flat, xs.shape, move, t0, out, value)
        return value, 2 * EPS * np.abs(value), t0, np.ones(value.shape, dtype=bool)
    stencil = "central" if method == "richardson" else method
    offsets, weights = fd_stencil(stencil, 1, order)
    fixed = user and method != "richardson"
    shape: list[tuple[int, ...]] = []

    def estimate(factors: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.array([float(factors[0] * t0)])
        if move.any() and np.all((flat + t[0] * move) - flat == 0):
            raise StepTooSmall("the step no longer moves x")
        points = Points(ev, flat, t, xs.shape, _any_output, direction=move)
        value, rounding = points.weighted_sum(axis_terms(0, offsets, weights), points.h[0])
        shape[:] = [value.shape]
        return value.reshape(1, -1), rounding.reshape(1, -1)

    out = settle(estimate, 1, power=order, n=1, extrapolate=method == "richardson",
                 fixed=fixed, max_rows=24 if measure else 1)
    reshape = shape[0] if shape else ()
    return (out.value.reshape(reshape), out.error.reshape(reshape), out.factor[0] * t0,
            out.converged.reshape(reshape))


def require_scalar(name: str, advice: str) -> Callable[[np.ndarray, Callable[[], str]], None]:
    """An output check refusing f that does not return exactly one value."""

    def check(out: np.ndarray, where: Callable[[], str]) -> None:
        if out.size != 1:
            raise ValueError(
                f"{name} needs a scalar-valued f, but f returned shape {out.shape} at {where()}; "
                f"{advice}"
            )

    return check


def _any_output(out: np.ndarray, where: Callable[[], str]) -> None:
    """Jacobians and directional derivatives accept any output shape."""


def axis_terms(
    j: int, offsets: np.ndarray, weights: np.ndarray
) -> list[tuple[float, tuple[tuple[int, float], ...]]]:
    return [(float(w), ((j, float(z)),)) for z, w in zip(offsets, weights, strict=True)]


def representable_steps(flat: np.ndarray, h: np.ndarray, user: bool = True) -> np.ndarray:
    """Per-coordinate ``(x + h) - x``: the step the floating-point stencil really takes."""
    h_eff = (flat + h) - flat
    if np.any(h_eff == 0):
        if not user:
            raise StepTooSmall("the step no longer changes x")
        j = int(np.argwhere(h_eff == 0)[0, 0])
        raise ValueError(f"step {fmt(h[j])} is too small to change x = {fmt(flat[j])} "
                         "in floating point; use a larger step")
    return h_eff


def _first_derivatives(
    f: Callable,
    x: ArrayLike,
    method: str,
    step: ArrayLike | None,
    order: int | None,
    check_out: Callable[[np.ndarray, Callable[[], str]], None],
    kind: str,
    measure: bool = True,
) -> Derivative:
    method = check_method(method)
    order = resolve_order(method, order)
    xs = as_real_points(x)
    flat = xs.ravel().copy()
    user = check_step(step, xs.shape)
    h0 = auto_step(flat, 1, order, method) if user is None else user.ravel()
    ev = Evaluator(f)
    value, error, h0, converged = domain_checked(
        ev, xs, lambda: _first_estimate(ev, flat, h0, xs.shape, method, order, check_out,
                                        user is not None, measure)
    )
    if kind == "gradient":
        value, error = value.reshape(xs.shape), error.reshape(xs.shape)
        converged = converged.reshape(xs.shape)
    else:  # (n_inputs, *out) -> (*out, *x.shape)
        out_shape = value.shape[1:]
        value = np.moveaxis(value, 0, -1).reshape(out_shape + xs.shape)
        error = np.moveaxis(error, 0, -1).reshape(out_shape + xs.shape)
        converged = np.moveaxis(converged, 0, -1).reshape(out_shape + xs.shape)
    return Derivative(value, error, ev.calls, h0.reshape(xs.shape), method, order, kind=kind,
                      converged=converged, message=not_settled(converged, measure, method))


def _first_estimate(
    ev: Evaluator,
    flat: np.ndarray,
    h0: np.ndarray,
    shape: tuple[int, ...],
    method: str,
    order: int,
    check_out: Callable[[np.ndarray, Callable[[], str]], None],
    user: bool,
    measure: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(partials stacked as (n_inputs, *out), error estimates, steps, converged) of one method."""
    if method == "complex":
        value, error, first = complex_partials(ev, flat, h0, shape, check_out)
        if flat.size:
            move = np.ones(flat.size)
            c = float(np.max(h0))
            check_analytic(ev, flat, shape, move, c, first, value.sum(axis=0))
        return value, error, h0, np.ones(value.shape, dtype=bool)
    if flat.size == 0:  # x has no elements: the derivative is empty, f is never called
        return np.zeros((0,)), np.zeros((0,)), h0, np.ones((0,), dtype=bool)
    stencil = "central" if method == "richardson" else method
    offsets, weights = fd_stencil(stencil, 1, order)
    fixed = user and method != "richardson"
    out_shape: list[tuple[int, ...]] = []
    base: dict = {}
    kinks = measure and stencil == "central"
    gaps: list[np.ndarray] = []
    noises: list[np.ndarray] = []

    def estimate(factors: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first = not out_shape
        h = representable_steps(flat, factors * h0, user=fixed and first)
        points = Points(ev, flat, h, shape, check_out)
        points.cache.update(base)  # f(x) is shared by every row
        values, roundings = None, None
        for j in np.flatnonzero(active):
            value, rounding = points.weighted_sum(axis_terms(int(j), offsets, weights), h[j])
            if values is None:
                out_shape[:] = [value.shape]
                values = np.full((flat.size, value.size), np.nan)
                roundings = np.full((flat.size, value.size), np.nan)
            values[j], roundings[j] = value.ravel(), rounding.ravel()
        if kinks:
            gap, noise = _slope_gaps(points, active, values.shape)
            gaps.append(gap)
            noises.append(noise)
        if () in points.cache:
            base[()] = points.cache[()]
        return values, roundings

    out = settle(estimate, flat.size, power=order, n=1, extrapolate=method == "richardson",
                 fixed=fixed, max_rows=24 if measure else 1)
    full = (flat.size, *out_shape[0])
    error, converged = out.error, out.converged
    if kinks:
        kink, jump = kink_test(gaps, noises, out.row)
        error = np.where(kink, error + jump / 2, error)
        converged = converged & ~kink
    return (out.value.reshape(full), error.reshape(full), out.factor * h0,
            converged.reshape(full))


def _slope_gaps(points: Points, active: np.ndarray,
                shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per coordinate, ``|f(x + h e_j) - 2 f(x) + f(x - h e_j)| / h_j`` and its round-off.

    It is ``f'' h`` for smooth f (halving with h) and the jump in slope at a
    kink (staying); one call of f at x, shared by every row, buys it.
    """
    at_x = points().reshape(-1)
    gap = np.full(shape, np.nan)
    noise = np.full(shape, np.nan)
    for j in np.flatnonzero(active):
        plus, minus = points((int(j), 1.0)).reshape(-1), points((int(j), -1.0)).reshape(-1)
        h = points.h[j]
        gap[j] = np.abs(plus - 2 * at_x + minus) / h
        noise[j] = EPS * (np.abs(plus) + 2 * np.abs(at_x) + np.abs(minus)) / h
    return gap, noise


def _stencil_partials(
    points: Points, offsets: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First partials along every coordinate, stacked: shape (n_inputs, *out_shape)."""
    values, roundings = [], []
    for j in range(points.x.size):
        value, rounding = points.weighted_sum(axis_terms(j, offsets, weights), points.h[j])
        values.append(value)
        roundings.append(rounding)
    if not values:  # x has no elements: the derivative is empty, f is never called
        return np.zeros((0,)), np.zeros((0,))
    return np.stack(values), np.stack(roundings)


def complex_partials(
    ev: Evaluator,
    flat: np.ndarray,
    h: np.ndarray,
    shape: tuple[int, ...],
    check_out: Callable[[np.ndarray, Callable[[], str]], None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Im f(x + i h_j e_j) / h_j for every coordinate j (one call each, no cancellation).

    Also returns f at the first of those points (its real part is f(x) to
    O(h**2)), for the analyticity check.
    """
    values = []
    checked_x = False
    first = None
    for j in range(flat.size):
        point = flat.astype(complex)
        point[j] += 1j * h[j]
        where = ", ".join(str(int(i)) for i in np.unravel_index(j, shape)) or "()"
        label = f"x + i*h{j}*e[{where}]"

        def describe(
            index: tuple[int, ...] | None, label: str = label, j: int = j, where: str = where
        ) -> str:
            return f"the point {label} (h{j} = {fmt(h[j])}, x[{where}] = {fmt(flat[j])})"

        out = ev.complex_call(point.reshape(shape), label, describe)
        check_out(out, lambda: describe(None))
        first = out if first is None else first
        values.append(out.imag / h[j])
        if not checked_x:  # one real call of f at most, and only if a slope looks wrong
            calls = ev.calls
            ev.guard_complex_step(out, values[-1], max(1.0, abs(flat[j])), flat.reshape(shape),
                                  _at_x)
            checked_x = ev.calls > calls
    if not values:
        return np.zeros((0,)), np.zeros((0,)), None
    value = np.stack(values)
    return value, 2 * EPS * np.abs(value), first
