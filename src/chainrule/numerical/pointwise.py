"""Stencils of an elementwise f at every point of x, run as a sequence with honest error bars.

``derivative`` evaluates one stencil per step for all points at once (one call
of f per stencil point), lets ``sequence.settle`` decide which steps to trust,
and checks what a stencil cannot see by itself: a kink or jump of f exactly at
x (the central difference then averages the one-sided slopes, and agrees with
itself at every step), and f that is not elementwise (moving one point changes
the value at another).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .evaluate import Evaluator, fmt
from .sequence import UNMEASURED, StepTooSmall, settle
from .steps import EPS

__all__ = ["Outcome", "check_elementwise", "describer", "kink_test", "offset_label",
           "representable", "run_sequence"]

ARGUMENT_NOISE = 2.0  # Richardson: f's values are trusted to eps |f| + this * eps |x f'|
KINK_NOISE = 16.0  # one-sided slopes must differ by this many round-off bounds to count


@dataclass
class Outcome:
    """What a method found: value, error bar, step, convergence per point, and why not."""

    value: np.ndarray
    error: np.ndarray
    step: np.ndarray
    converged: np.ndarray
    message: str


def offset_label(z: float, var: str = "h") -> str:
    """Name of the point x + z*h: ``x``, ``x + h``, ``x - 2*h``, ``x + 0.5*h``."""
    if z == 0:
        return "x"
    sign = "+" if z > 0 else "-"
    size = abs(z)
    coeff = "" if size == 1 else f"{size:g}*"
    return f"x {sign} {coeff}{var}"


def representable(points: np.ndarray, h: np.ndarray, user: bool = True) -> np.ndarray:
    """``(x + h) - x``: the step the floating-point stencil really takes.

    Dividing by it instead of h removes the error of rounding x + h (a classic
    trick). A user's step too small to move x is an error; a step the sequence
    chose raises ``StepTooSmall`` (it stops shrinking there).
    """
    h_eff = (points + h) - points
    if np.any(h_eff == 0):
        if not user:
            raise StepTooSmall("the step no longer changes x")
        i = np.argwhere(h_eff == 0)[0]
        raise ValueError(
            f"step {fmt(np.asarray(h)[tuple(i)])} is too small to change x = "
            f"{fmt(points[tuple(i)])} in floating point; use a larger step"
        )
    return h_eff


def describer(points: np.ndarray, h: np.ndarray, label: str) -> Callable:
    """``describe(index)`` naming the stencil point ``label`` (for EvaluationError)."""
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


def check_elementwise(out: np.ndarray, points: np.ndarray) -> None:
    """f's output must have (or broadcast to) the points' shape."""
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


def run_sequence(ev: Evaluator, points: np.ndarray, h0: np.ndarray, offsets: np.ndarray,
                 weights: np.ndarray, n: int, order: int, *, extrapolate: bool, fixed: bool,
                 kinks: bool, max_rows: int | None = None) -> Outcome:
    """Stencils at shrinking steps from ``h0`` until trusted; kink and cross-talk checks."""
    shape = points.shape
    at_x = None
    if kinks or points.size > 1:
        at_x = ev(points, "x", describer(points, h0, "x"))
        check_elementwise(at_x, points)
        at_x = np.broadcast_to(at_x, shape)
    if points.size > 1:
        _refuse_cross_talk(ev, points, h0, at_x)
    sides: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def estimate(factors: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        factor = factors.reshape(shape)
        h = representable(points, factor * h0, user=fixed and bool(np.all(factor == 1)))
        value, rounding, plus, minus = _stencil(ev, points, h, offsets, weights, n)
        if kinks:
            sides[len(sides)] = (h, plus, minus)
        if extrapolate and n == 1:
            # f computed from x rounds its arguments (1e4 * x, x + 1): its values carry
            # noise up to eps |x f'| that repeats from row to row, which the tableau's
            # agreement cannot reveal; so its round-off bound counts it
            rounding = rounding + ARGUMENT_NOISE * EPS * np.abs(points) * np.abs(value) / h
        return value.reshape(-1, 1), rounding.reshape(-1, 1)

    out = settle(estimate, points.size, power=order, n=n, extrapolate=extrapolate, fixed=fixed,
                 **({} if max_rows is None else {"max_rows": max_rows}))
    value = out.value.reshape(shape)
    error = out.error.reshape(shape)
    converged = out.converged.reshape(shape)
    step = (out.factor.reshape(shape) * h0)
    if max_rows == 1:
        message = UNMEASURED
    else:
        message = "" if converged.all() else _not_settled(points, converged, out.rows)
    if kinks and at_x is not None:
        kink, jump = _kinks(sides, at_x, out.row.reshape(shape))
        if kink.any():
            error = np.where(kink, error + jump / 2, error)
            converged = converged & ~kink
            i = tuple(int(k) for k in np.argwhere(kink)[0])
            where = f"x{list(i)} = " if points.ndim else "x = "
            message = (f"f has a kink or jump at {where}{fmt(points[i])}: its one-sided slopes "
                       f"differ by {jump[i]:.3g} whatever the step, so the derivative does not "
                       "exist there; the value is their average and the error estimate covers "
                       "both (use method='forward' or 'backward' for a one-sided derivative)")
    return Outcome(value, error, step, converged, message)


def _not_settled(points: np.ndarray, converged: np.ndarray, rows: int) -> str:
    i = tuple(int(k) for k in np.argwhere(~converged)[0])
    where = f"x{list(i)} = " if points.ndim else "x = "
    count = int((~converged).sum())
    many = f" (and {count - 1} more points)" if count > 1 else ""
    return (f"the finite differences at {where}{fmt(points[i])}{many} did not settle over "
            f"{rows} steps: f may have a pole, jump or kink inside the stencil, or vary faster "
            "than the smallest step resolves; the error estimate is the spread of all the "
            "estimates")


def _stencil(ev: Evaluator, points: np.ndarray, h: np.ndarray, offsets: np.ndarray,
             weights: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """sum_k w_k f(x + z_k h) / h**n, its round-off bound, and f(x + h), f(x - h) if used."""
    total = np.zeros(points.shape)
    magnitude = np.zeros(points.shape)
    plus = minus = None
    for z, w in zip(offsets, weights, strict=True):
        label = offset_label(z)
        out = ev(points + z * h, label, describer(points, h, label))
        check_elementwise(out, points)
        total = total + w * out
        magnitude = magnitude + np.abs(w * out)
        if z == 1:
            plus = np.broadcast_to(out, points.shape)
        elif z == -1:
            minus = np.broadcast_to(out, points.shape)
    scale = h**n
    return total / scale, EPS * magnitude / scale, plus, minus


def _kinks(sides: dict, at_x: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the one-sided slopes at x differ by the same amount at two successive steps.

    For smooth f, ``(f(x+h) - 2 f(x) + f(x-h)) / h`` is ``f''(x) h``: it halves
    with h. At a kink it stays the jump in slope; at a jump in f it grows.
    """
    gaps, noises = [], []
    for k in range(len(sides)):
        h, plus, minus = sides[k]
        gaps.append(np.abs(plus - 2 * at_x + minus) / h)
        noises.append(EPS * (np.abs(plus) + 2 * np.abs(at_x) + np.abs(minus)) / h)
    return kink_test(gaps, noises, row)


def kink_test(gaps: list[np.ndarray], noises: list[np.ndarray],
              row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kinks from the one-sided slopes' gap at each row (and its round-off), around ``row``.

    At the row of the returned value and the next (or the previous), the gap
    must stay (at least 0.7 of itself) and stand above round-off at both.
    """
    rows = len(gaps)
    if rows < 2:
        return np.zeros(row.shape, dtype=bool), np.zeros(row.shape)
    gap, noise = np.stack(gaps), np.stack(noises)
    a = np.clip(row, 0, rows - 2)
    first = np.take_along_axis(gap, a[None], 0)[0]
    second = np.take_along_axis(gap, a[None] + 1, 0)[0]
    n1 = np.take_along_axis(noise, a[None], 0)[0]
    n2 = np.take_along_axis(noise, a[None] + 1, 0)[0]
    with np.errstate(invalid="ignore"):
        kink = (second >= 0.7 * first) & (first > KINK_NOISE * n1) & (second > KINK_NOISE * n2)
    return kink, np.where(kink, np.maximum(first, second), 0.0)


def _refuse_cross_talk(ev: Evaluator, points: np.ndarray, h: np.ndarray,
                       at_x: np.ndarray) -> None:
    """Moving half the points must leave f at the other half unchanged (f elementwise)."""
    moved = np.random.default_rng(0).random(points.shape) < 0.5
    flat = moved.reshape(-1)
    flat[0], flat[-1] = True, False  # at least one point moves, one stays
    step = np.where(moved, representable(points, h), 0.0)
    out = ev(points + step, "x + h", describer(points, h, "x + h"))
    check_elementwise(out, points)
    out = np.broadcast_to(out, points.shape)
    tolerance = 8 * EPS * np.maximum(np.abs(at_x), np.abs(out))
    changed = ~moved & (np.abs(out - at_x) > tolerance)
    if changed.any():
        j = tuple(int(k) for k in np.argwhere(changed)[0])
        raise ValueError(
            f"derivative needs f applied elementwise (f(x)[i] depending on x[i] alone), but "
            f"moving other elements of x changed f(x){list(j)} from {fmt(at_x[j])} to "
            f"{fmt(out[j])}. For a function of a whole array use jacobian (or gradient for a "
            "scalar f)"
        )
