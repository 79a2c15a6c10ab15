"""``hessian``: second derivatives of a scalar function of an array, by finite differences.

Diagonal entries use the second-derivative stencil along one axis; an
off-diagonal entry uses the product of two first-derivative stencils (for
central order 2, the four points ``x +- h_i e_i +- h_j e_j``). Shared points
are evaluated once, so a central Hessian of n inputs costs ``2 n**2 + 1`` calls
and a forward one ``1 + 2n + n(n-1)/2``. Only ``i <= j`` is computed; the
result is symmetric by construction.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .evaluate import Evaluator, fmt
from .multivariate import axis_terms, not_settled, representable_steps, require_scalar
from .points import Points, domain_checked
from .result import Derivative
from .scalar import stencil_error_estimate
from .sequence import settle
from .steps import EPS, auto_step
from .validate import as_real_points, check_method, check_step, resolve_order
from .weights import fd_stencil

__all__ = ["hessian"]


def hessian(
    f: Callable,
    x: ArrayLike,
    *,
    method: str = "central",
    step: ArrayLike | None = None,
    order: int | None = None,
    measure_error: bool = True,
) -> Derivative:
    """The Hessian ``H[i + j] = d2 f / dx[i] dx[j]`` of a scalar function; shape ``x.shape * 2``.

    Why: the second-order oracle for ``hessian``/``hvp`` of the AD engines.
    Second differences lose more digits than first ones (round-off grows as
    ``eps / h**2``; expect about 8 digits from central order 2), so two more
    accurate methods are offered: ``"richardson"`` extrapolates central
    Hessians at shrinking steps, and ``"complex"`` takes central differences of
    complex-step partials (exact first derivatives, so only one difference
    loses digits; ``n (n + 1)`` calls, f must accept complex input).

    >>> f = lambda x: x[0] ** 2 * x[1]
    >>> h = hessian(f, [1.0, 3.0])
    >>> np.round(h.value, 6).tolist(), h.evaluations
    ([[6.0, 2.0], [2.0, 0.0]], 17)
    """
    method = check_method(method)
    order = resolve_order(method, order)
    xs = as_real_points(x)
    flat = xs.ravel().copy()
    user = check_step(step, xs.shape)
    user = None if user is None else user.ravel()
    ev = Evaluator(f)
    check = require_scalar("hessian", "differentiate each output separately")
    value, error, h, converged = domain_checked(
        ev, xs, lambda: _estimate(ev, flat, user, xs.shape, method, order, check,
                                  bool(measure_error))
    )
    shape = xs.shape + xs.shape
    converged = converged.reshape(shape)
    return Derivative(value.reshape(shape), error.reshape(shape), ev.calls, h.reshape(xs.shape),
                      method, order, kind="hessian", converged=converged,
                      message=not_settled(converged, bool(measure_error), method))


def _estimate(
    ev: Evaluator,
    flat: np.ndarray,
    user: np.ndarray | None,
    shape: tuple[int, ...],
    method: str,
    order: int,
    check: Callable[[np.ndarray, str], None],
    measure: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(Hessian as (n, n), error estimates, steps, converged) of one method."""
    size = flat.size
    if method == "complex":
        h = auto_step(flat, 1, order, "central") if user is None else user
        h = representable_steps(flat, h)
        value, error = _complex_hessian(ev, flat, h, shape, order, check)
        return value, error, h, np.ones(value.shape, dtype=bool)
    if size == 0:
        return np.zeros((0, 0)), np.zeros((0, 0)), np.zeros(0), np.ones((0, 0), dtype=bool)
    extrapolate = method == "richardson"
    h0 = auto_step(flat, 2, order, method) if user is None else user
    fixed = user is not None and not extrapolate
    stencil = "central" if extrapolate else method
    base: dict = {}
    steps: list[np.ndarray] = []

    def estimate(factors: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = representable_steps(flat, factors[0] * h0, user=fixed and not steps)
        points = Points(ev, flat, h, shape, check)
        points.cache.update(base)
        value, rounding = _stencil_hessian(points, stencil, order)
        base[()] = points.cache.get((), None)
        if base[()] is None:
            del base[()]
        steps.append(h)
        return value.reshape(1, -1), rounding.reshape(1, -1)

    out = settle(estimate, 1, power=order, n=2, extrapolate=extrapolate, fixed=fixed,
                 max_rows=24 if measure else 1)
    h = out.factor[0] * h0
    return (out.value.reshape(size, size), out.error.reshape(size, size), h,
            out.converged.reshape(size, size))


def _stencil_hessian(points: Points, method: str, order: int) -> tuple[np.ndarray, np.ndarray]:
    """The (n, n) Hessian at the steps of ``points`` and its round-off bound."""
    size = points.x.size
    off1, w1 = fd_stencil(method, 1, order)
    off2, w2 = fd_stencil(method, 2, order)
    value = np.zeros((size, size))
    rounding = np.zeros((size, size))
    h = points.h
    for i in range(size):
        d, r = points.weighted_sum(axis_terms(i, off2, w2), h[i] ** 2)
        value[i, i], rounding[i, i] = d.item(), r.item()
        for j in range(i + 1, size):
            terms = [
                (float(wa * wb), ((i, float(za)), (j, float(zb))))
                for za, wa in zip(off1, w1, strict=True)
                for zb, wb in zip(off1, w1, strict=True)
            ]
            d, r = points.weighted_sum(terms, h[i] * h[j])
            value[i, j] = value[j, i] = d.item()
            rounding[i, j] = rounding[j, i] = r.item()
    return value, rounding


def _complex_hessian(
    ev: Evaluator,
    flat: np.ndarray,
    h: np.ndarray,
    shape: tuple[int, ...],
    order: int,
    check: Callable[[np.ndarray, str], None],
) -> tuple[np.ndarray, np.ndarray]:
    """``H[i, j]``: central difference along x_j of the complex-step partial along x_i.

    ``Im f(y + i c e_i) / c`` is ``df/dx_i`` at y, exact to rounding, from one
    call; a central difference of it along x_j (at the real points
    ``y = x + z h_j e_j``) gives ``H[i, j]``. Only ``i <= j`` is computed:
    ``order * n(n+1)/2`` calls, and one difference loses digits, not two.
    """
    size = flat.size
    offsets, weights = fd_stencil("central", 1, order)
    inner = auto_step(flat, method="complex")
    value = np.zeros((size, size))
    magnitude = np.zeros((size, size))
    for i in range(size):
        for j in range(i, size):
            for z, w in zip(offsets, weights, strict=True):
                point = flat.astype(complex)
                point[j] += z * h[j]
                point[i] += 1j * inner[i]
                partial = _complex_partial(ev, point, shape, check, i, j, z, h[j], inner[i])
                value[i, j] += w * partial / h[j]
                magnitude[i, j] += abs(w * partial) / h[j]
            value[j, i], magnitude[j, i] = value[i, j], magnitude[i, j]
    # The partials are exact to a few ulps; the one difference along x_j sets the error.
    return value, stencil_error_estimate(2 * EPS * magnitude, 1, order)


def _complex_partial(
    ev: Evaluator,
    point: np.ndarray,
    shape: tuple[int, ...],
    check: Callable[[np.ndarray, str], None],
    i: int,
    j: int,
    z: float,
    h: float,
    c: float,
) -> float:
    """``Im f(point) / c`` at ``point = x + z h e_j + i c e_i``, with the point named on failure."""
    sign = "+" if z > 0 else "-"
    coeff = "" if abs(z) == 1 else f"{abs(z):g}*"
    label = f"x {sign} {coeff}h{j}*e[{_where(j, shape)}] + i*c*e[{_where(i, shape)}]"

    def describe(index: tuple[int, ...] | None) -> str:
        return f"the point {label} (h{j} = {fmt(h)}, c = {fmt(c)})"

    out = ev.complex_call(point.reshape(shape), label, describe)
    check(out, lambda: describe(None))
    return float(out.imag.reshape(())) / c


def _where(j: int, shape: tuple[int, ...]) -> str:
    return ", ".join(str(int(k)) for k in np.unravel_index(j, shape)) or "()"
