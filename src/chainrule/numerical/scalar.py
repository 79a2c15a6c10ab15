"""``derivative``: the n-th derivative of a scalar function, at a point or elementwise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .evaluate import EvaluationError, Evaluator, fmt
from .pointwise import Outcome, check_elementwise, describer, run_sequence
from .result import Derivative
from .steps import EPS, auto_step
from .validate import (
    as_real_points,
    check_derivative_order,
    check_method,
    check_step,
    resolve_order,
)
from .weights import fd_stencil

__all__ = ["derivative", "stencil_error_estimate"]


def derivative(
    f: Callable,
    x: ArrayLike,
    *,
    method: str = "central",
    step: ArrayLike | None = None,
    order: int | None = None,
    n: int = 1,
    measure_error: bool = True,
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
    - ``measure_error``: False runs one plain stencil at one step (the
      textbook cost: 2 calls for a central first derivative) with a round-off
      model as error estimate, not a bound (``converged`` is then False).

    The error estimate is measured, not modelled: the stencil runs at a few
    shrinking steps (h, h/2, ...) until successive estimates differ as the
    stencil's order predicts (or by round-off only), and the estimate is that
    difference scaled to the truncation error, plus round-off. If the
    estimates never settle (a pole or jump inside the stencil, f varying
    faster than any step resolves), ``converged`` is False, ``message`` says
    why and the error estimate is the spread of all the estimates. With the
    default step, once trusted, the step moves to where measured truncation
    balances round-off (so ``sin`` at 1e6 uses a step of 6e-6, not 6); a
    ``step`` you give is kept, and the other steps only measure its error.
    A kink or jump of f exactly at x (first derivatives) is reported the
    same way, and for array x an f that is not elementwise is refused. Cost:
    a central first derivative usually takes 5 calls of f (f(x), and two
    steps), more where f is badly scaled; the complex step takes 2 (the
    second checks that f is analytic: a non-holomorphic f is refused).

    f failing (raising, or returning NaN or infinity) at a stencil point of
    the default step makes the step shrink until the stencil fits in f's
    domain (x near its edge); at a step you gave, or at x itself, it raises
    ``EvaluationError`` naming the point.

    >>> d = derivative(np.exp, 0.0)
    >>> round(float(d), 9), d.evaluations, d.converged
    (1.0, 5, True)
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
        out = _dispatch(ev, points, h, method, n, order, bool(measure_error))
    except EvaluationError as failure:
        ev.check_domain(points, describer(points, np.ones_like(points), "x"), failure)
        raise
    converged = out.converged if points.ndim else bool(out.converged)
    return Derivative(out.value, out.error, ev.calls, out.step, method, order,
                      converged=converged, message=out.message)


def _dispatch(ev: Evaluator, points: np.ndarray, h: np.ndarray | None, method: str, n: int,
              order: int, measure: bool = True) -> Outcome:
    """Value, error bar, step and convergence of one method."""
    if method == "complex":
        tiny = auto_step(points, method="complex")
        if h is None:
            value, error = _complex_step(ev, points, tiny)
            return Outcome(value, error, tiny, np.ones(points.shape, dtype=bool), "")
        # a step you chose: the checks run at the tiny step, and the h**2 truncation
        # at yours is measured against half of it
        _, error = _complex_step(ev, points, tiny)
        value, _ = _complex_step(ev, points, h, check=False)
        half, _ = _complex_step(ev, points, h / 2, check=False)
        error = error + 2.0 * np.abs(value - half) * 4.0 / 3.0
        return Outcome(value, error, h, np.ones(points.shape, dtype=bool), "")
    stencil = "central" if method == "richardson" else method
    if h is None:
        h = auto_step(points, n, order, method)
        fixed = False
    else:
        fixed = True
    offsets, weights = fd_stencil(stencil, n, order)
    return run_sequence(ev, points, h, offsets, weights, n, order,
                        extrapolate=method == "richardson", fixed=fixed,
                        kinks=measure and stencil == "central" and n == 1,
                        max_rows=None if measure else 1)


def stencil_error_estimate(rounding: np.ndarray, n: int, order: int) -> np.ndarray:
    """Model error of a plain stencil: round-off plus the truncation balancing it at the best step.

    At the step minimising ``eps/h**n + C h**p`` the truncation error is
    ``n/p`` times the round-off error, so the total is ``(1 + n/p)`` round-off.
    """
    return rounding * (1.0 + n / order)


def _complex_step(
    ev: Evaluator, points: np.ndarray, h: np.ndarray, check: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Im f(x + ih) / h: no subtraction, so no cancellation, whatever the step."""
    label = "x + i*h"
    out = ev.complex_call(points + 1j * h, label, describer(points, h, label))
    check_elementwise(out, points)
    value = np.broadcast_to(out.imag / h, points.shape)
    if not check:
        return value, 2 * EPS * np.abs(value)
    ev.guard_complex_step(out, value, np.maximum(1.0, np.abs(points)), points,
                          describer(points, np.ones_like(points), "x"))

    def shifted(d: np.ndarray) -> np.ndarray:
        at = ev.complex_call(points + d + 1j * h, "x + d + i*h", describer(points, d, "x + d"))
        check_elementwise(at, points)
        return np.broadcast_to(at, points.shape)

    curvature = refuse_non_analytic(shifted, points, h, np.broadcast_to(out, points.shape), value)
    # Rounding of the imaginary part, and of x inside f (f' moves by eps |x f''|); the
    # O(h**2) truncation is ~1e-40 at the default step.
    error = 2 * EPS * np.abs(value) + 4 * EPS * np.maximum(1.0, np.abs(points)) * curvature
    return value, error


def refuse_non_analytic(call: Callable[[np.ndarray], np.ndarray], points: np.ndarray,
                        h: np.ndarray, out: np.ndarray, slope: np.ndarray,
                        where: str | None = None) -> np.ndarray:
    """Refuse f whose complex step is not its derivative: f not holomorphic (conj, abs, real).

    For holomorphic f (real on the real line), Cauchy-Riemann ties the real
    part's slope along x to the imaginary part's along y, which the complex
    step reads. So one more call, at ``x + d + ih``, gives the secant of
    ``Re f`` over ``[x, x + d]``, which must match the mean of the two complex
    steps there (the trapezoid rule, exact to ``d**2`` times f's third
    derivative). ``x * conj(x)`` returns ``x**2 + h**2``: its complex step
    says 0, the secant 2x. A mismatch is retried at steps 64 times smaller
    (f may vary fast, x may be large) while the check still resolves, before
    f is refused. Both sides of x are checked (a kink
    at x, as in ``maximum(x, 0)``, passes on one side only). Returns ``|f''|``
    as the complex steps measure it.
    """
    d = np.broadcast_to(auto_step(points), points.shape)
    d = np.where(points != 0, np.minimum(d, np.abs(points) / 8), d)  # stay on x's side of 0
    passed = np.zeros(points.shape, dtype=bool)
    secant = slope
    curvature = np.zeros(points.shape)
    for _ in range(ANALYTIC_TRIES):
        sides = []
        for side in (d, -d):
            side = (points + side) - points
            if np.any(side == 0):
                return curvature
            far = call(side)
            sides.append((side, (far.real - out.real) / side, far.imag / h))
        # the trapezoid rule errs by d**2 |f3| / 12 (f3 the third derivative): the three
        # complex steps give d**2 |f3|
        third = np.abs(sides[0][2] - 2 * slope + sides[1][2])
        close = np.ones(points.shape, dtype=bool)
        worst = np.full(points.shape, -np.inf)
        for side, side_secant, far_slope in sides:
            mean = 0.5 * (slope + far_slope)
            # (at most half the mean slope: a spike like sign(x + ih) = i is no third
            # derivative)
            noise = 128 * EPS * np.abs(out.real) / np.abs(side) + np.minimum(
                third / 4, np.abs(mean) / 2)
            excess = np.abs(side_secant - mean) - 1e-4 * np.maximum(
                np.abs(side_secant), np.abs(mean)) - noise
            close &= excess <= 0
            secant = np.where(excess > worst, side_secant, secant)
            worst = np.maximum(worst, excess)
            curvature = np.maximum(curvature, np.abs(far_slope - slope) / np.abs(side))
        passed |= close
        if passed.all():
            return curvature
        # f varying fast passes at a smaller d; but once round-off in Re f swamps the
        # check, a smaller d proves nothing: refuse then
        scale = np.maximum(np.abs(slope), np.abs(secant))
        if np.any(~passed & (128 * EPS * np.abs(out.real) / (d / 64) > 1e-3 * scale)):
            break
        d = d / 64
    i = tuple(int(k) for k in np.argwhere(~passed)[0])
    secant = np.broadcast_to(secant, points.shape)
    if where is None:
        where = (f"x{list(i)} = " if points.ndim else "x = ") + fmt(points[i])
    raise TypeError(
        f"method='complex' needs f analytic (holomorphic) near x, but at {where}"
        f" the complex step gives {fmt(slope[i])} while Re f changes at the "
        f"rate {fmt(secant[i])} along x: f uses a non-analytic operation (conj, abs, real, "
        "imag, angle or a comparison on a complex value). Use method='central' or 'richardson'"
    )


# Steps, each 64 times smaller, at which the complex step is compared with Re f's slope.
ANALYTIC_TRIES = 8
