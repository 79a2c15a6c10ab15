"""Richardson extrapolation: estimates at shrinking steps, combined to cancel their error terms.

A stencil estimate at step h has an error expansion
``D(h) = D + c_0 h**p + c_1 h**(p+s) + c_2 h**(p+2s) + ...`` (s = 2 for
symmetric stencils). With steps ``h, h/r, h/r**2, ...`` the Neville tableau

    T[k][0] = D(h / r**k)
    T[k][j] = T[k][j-1] + (T[k][j-1] - T[k-1][j-1]) / (r**(p + (j-1) s) - 1)

cancels one more term with every column. Moving down a column shrinks the step
(less truncation, more round-off), moving right extrapolates (less truncation,
amplified noise), so the best entry is somewhere inside the tableau. We estimate
each entry's error by how far it moved from the two entries it was built from,
plus its propagated round-off, and keep adding rows while the best error keeps
improving and is not yet below 1e-13 relative (the adaptive stop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .evaluate import EvaluationError

__all__ = ["Extrapolated", "extrapolate"]

# estimate(factor) -> (value, rounding): the base estimate at step factor * h0 and a
# bound on its round-off error, both arrays of one shape.
Estimate = Callable[[float], tuple[np.ndarray, np.ndarray]]


@dataclass
class Extrapolated:
    """The best tableau entry (elementwise), its error estimate, and where the sequence started."""

    value: np.ndarray
    error: np.ndarray
    first_factor: float
    rows: int


def extrapolate(
    estimate: Estimate,
    *,
    power: int,
    power_step: int = 2,
    ratio: float = 2.0,
    max_rows: int = 10,
    patience: int = 1,
    shrink_tries: int = 6,
    target: float = 1e-13,
) -> Extrapolated:
    """Run the adaptive Richardson tableau over ``estimate`` at steps ``h0 / ratio**k``.

    Stops after ``patience`` rows in a row without improving any element's best
    error estimate, once every element's error estimate is below ``target``
    times its value (good enough: a few hundred ulps; further rows would cost
    evaluations for digits that round-off mostly eats), or after ``max_rows``
    rows. If f cannot be evaluated at the first (largest) steps, the sequence
    restarts at a step ``ratio**2`` times smaller, up to ``shrink_tries`` times
    (x may sit near the edge of f's domain).

    >>> def estimate(factor):  # D(h) = 1 + h**2 + h**4 (exact value 1)
    ...     h = 0.1 * factor
    ...     return np.array(1 + h**2 + h**4), np.array(1e-16)
    >>> out = extrapolate(estimate, power=2)
    >>> bool(abs(out.value - 1) < 1e-14)
    True
    """
    factor, base, rounding = _first_row(estimate, ratio, shrink_tries)
    prev = [base]
    best = base.copy()
    best_error = np.full(base.shape, np.inf)
    stale = 0
    rows = 1
    while rows < max_rows:
        factor /= ratio
        base, rounding = estimate(factor)
        rows += 1
        row = [base]
        # A Neville step weights its inputs by (r**e, -1) / (r**e - 1): noise grows by this.
        noise = rounding.copy()
        errors = [np.abs(base - prev[0]) + noise]
        for j in range(1, rows):
            denom = ratio ** (power + (j - 1) * power_step) - 1.0
            entry = row[j - 1] + (row[j - 1] - prev[j - 1]) / denom
            noise = noise * (denom + 2.0) / denom
            moved = np.maximum(np.abs(entry - row[j - 1]), np.abs(entry - prev[j - 1]))
            row.append(entry)
            errors.append(moved + noise)
        improved = np.zeros(base.shape, dtype=bool)
        for entry, error in zip(row, errors, strict=True):
            better = error < best_error
            best = np.where(better, entry, best)
            best_error = np.where(better, error, best_error)
            improved |= better
        prev = row
        stale = 0 if improved.any() else stale + 1
        if stale >= patience or np.all(best_error <= target * np.abs(best)):
            break
    return Extrapolated(best, best_error, first_factor=factor * ratio ** (rows - 1), rows=rows)


def _first_row(
    estimate: Estimate, ratio: float, shrink_tries: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """The first base estimate, shrinking the step while f fails at the stencil points."""
    factor = 1.0
    for attempt in range(shrink_tries + 1):
        try:
            base, rounding = estimate(factor)
        except EvaluationError:
            if attempt == shrink_tries:
                raise
            factor /= ratio**2
        else:
            return factor, base, rounding
    raise AssertionError("unreachable")
