"""Estimates at shrinking steps, trusted only once they shrink as theory says: honest error bars.

A stencil of accuracy order p at step h errs by ``C h**p`` (truncation) plus
round-off. One stencil cannot tell how large C is: on ``sin(2000 x)`` or at a
point near a pole the step that suits a smooth function is far too large, and
a model of round-off alone reports 1e-11 for an error of 1e-2. So every
estimate here comes from a sequence of stencils at steps ``h_0 > h_1 > ...``
(the rows), and a pair of rows is trusted only when their difference is

- round-off (within ``NOISE`` times the rows' round-off bounds), or
- tiny (below ``SMALL`` relative: two steps a factor 2 apart agree), or
- shrinking as ``h**p`` predicts (the ratio of successive differences within a
  factor ``SPREAD`` of ``(t_{k-2} - t_{k-1}) / (t_{k-1} - t_k)``, t = h**p).

A trusted pair gives the larger step's truncation error, ``|D_{k-1} - D_k|``
scaled to the asymptotic model, which is then an error bar (times ``SAFETY``).
Until a pair is trusted the steps keep shrinking (by ``JUMP`` at once while the
estimates jump about wildly: a step far above f's own scale, as at x = 1e6).
Once trusted, plain stencils jump to the step that balances the measured
truncation against round-off (the step from f's own scale); Richardson's
tableau (Neville's polynomial extrapolation in ``t = h**2``, valid for any
steps) grows over the trusted rows while its error keeps falling. An element
never trusted is reported as not converged, with the spread of all its
estimates as error bar.

Work is organised in groups (rows of a (G, M) array) sharing one step: the
points of an elementwise ``derivative`` (M = 1), or the coordinates of a
gradient or Jacobian (M outputs each).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .evaluate import EvaluationError

__all__ = ["UNMEASURED", "StepTooSmall", "Settled", "settle"]

UNMEASURED = ("error not measured (measure_error=False): one stencil at one step, whose error "
              "estimate models round-off only and does not bound truncation error")

NOISE = 4.0  # a difference within this many round-off bounds is round-off
SMALL = 1e-6  # two steps a factor 2 apart agreeing to this relative precision
SPREAD = 1.6  # tolerance of the ratio test
SAFETY = 3.0  # error bar = SAFETY * measured truncation + round-off
WILD = 0.1  # a relative change above this: the step is far too large, shrink fast
JUMP = 15.3  # the shrink factor then
RATIO = 1.9  # the ordinary shrink factor (not a power of 2: rounding at h and h/2 correlates)
MAX_JUMPS = 1  # jumps to the balancing step, for plain stencils
# f's values may be noisier than eps |f| (f rounds its own arguments: 3 + 4 x, 1e4 x), so a
# leap aims where truncation balances this many times the modelled round-off
LEAP_NOISE = 1000.0
BALANCED = 30.0  # truncation within this many round-off bounds: the step is good enough

# estimate(factors, active) -> (values, rounding), both (G, M): the stencils at steps
# factors * h0 (one factor per group); groups not active may be skipped (any value).
Estimate = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class StepTooSmall(ValueError):
    """A step no longer changes x in floating point: the sequence cannot shrink further."""


@dataclass
class Settled:
    """Per element: the value, its error bar, whether it was trusted, and its step factor."""

    value: np.ndarray
    error: np.ndarray
    converged: np.ndarray
    factor: np.ndarray  # (G,) step factor of the returned value (plain) or first row used
    row: np.ndarray  # (G, M) index of the row at which the value was taken (-1 if none)
    rows: int
    factors: list[np.ndarray]  # the factor of every row, (G,) each


def settle(
    estimate: Estimate,
    groups: int,
    *,
    power: int,
    n: int,
    extrapolate: bool = False,
    fixed: bool = False,
    max_rows: int = 24,
    target: float = 1e-13,
    patience: int = 2,
    shrink_tries: int = 40,
) -> Settled:
    """Run the sequence of steps until every group's estimate is trusted (or rows run out).

    ``power`` is the stencil's accuracy order p, ``n`` the derivative order
    (round-off grows as ``h**-n``). ``fixed``: the value must be the stencil at
    the first step (a step the user chose); the other rows only measure its
    error. ``extrapolate``: Richardson's tableau. If f fails at the first step
    (x near the edge of its domain), it shrinks by 4 until it fits, unless fixed.

    >>> def estimate(factors, active):  # D(h) = 1 + h**2 (exact value 1)
    ...     h = 0.1 * factors[:, None]
    ...     return 1 + h**2, np.full(h.shape, 1e-16)
    >>> out = settle(estimate, 1, power=2, n=1, fixed=True)  # the value at h = 0.1
    >>> bool(abs(out.value[0, 0] - 1.01) < 1e-12), bool(out.error[0, 0] >= 0.01), out.rows
    (True, True, 3)
    >>> out = settle(estimate, 1, power=2, n=1)  # free to choose the step
    >>> bool(abs(out.value[0, 0] - 1) <= out.error[0, 0] < 1e-9)
    True
    """
    factors = np.ones(groups)
    values, rounding = _first_row(estimate, factors, fixed, shrink_tries)
    state = _State(values, rounding, factors, power, extrapolate)
    state.n = n
    active = np.ones(groups, dtype=bool)
    jumps = np.zeros(groups, dtype=int)
    stale = np.zeros(groups, dtype=int)
    leapt = np.zeros(groups, dtype=bool)
    next_factors = factors / RATIO
    while len(state.factors) < max_rows and active.any():
        try:
            values, rounding = estimate(next_factors, active)
        except (EvaluationError, StepTooSmall):
            break  # f fails closer in, or the step cannot shrink: keep what we have
        improved, wild = state.add(values, rounding, next_factors, active)
        trusted = state.trusted.all(axis=1)
        stale = np.where(improved, 0, stale + 1)
        done = np.zeros(groups, dtype=bool)
        step = np.where(wild, JUMP, RATIO)
        cur = next_factors.copy()
        if fixed:
            done = trusted
        elif extrapolate:
            good = np.all(state.best_error <= target * np.abs(state.best), axis=1)
            done = trusted & (good | (stale >= patience))
        else:
            noisy = np.all(state.truncation <= BALANCED * state.best_rounding, axis=1)
            # the row after a leap is checked against the next one before stopping
            done = trusted & (noisy | (((stale >= 1) | (jumps >= MAX_JUMPS)) & ~leapt))
            leap = trusted & ~done & ~leapt & (jumps < MAX_JUMPS)
            leapt = leap
            balance = state.balance_factor(n)
            step = np.where(leap, np.maximum(cur / np.maximum(balance, 1e-300), RATIO), step)
            jumps = jumps + leap
        active &= ~done
        next_factors = np.where(active, cur / step, cur)
    return state.result(fixed)


def _first_row(estimate: Estimate, factors: np.ndarray, fixed: bool,
               tries: int) -> tuple[np.ndarray, np.ndarray]:
    active = np.ones(factors.shape, dtype=bool)
    failure: EvaluationError | None = None
    for attempt in range(tries + 1):
        try:
            return estimate(factors, active)
        except StepTooSmall:
            if failure is None:
                raise
            raise failure from None  # no step fits: report where f failed
        except EvaluationError as exc:
            if fixed or attempt == tries:
                raise
            failure = exc
            factors /= 4.0
    raise AssertionError("unreachable")


class _State:
    """The rows so far and, per element, the best trusted value and its error bar."""

    def __init__(self, values: np.ndarray, rounding: np.ndarray, factors: np.ndarray,
                 power: int, extrapolate: bool) -> None:
        self.power = power
        self.extrapolate = extrapolate
        self.values = [values]
        self.roundings = [rounding]
        self.factors = [factors.copy()]
        shape = values.shape
        self.best = np.array(values, dtype=float)
        self.best_error = np.full(shape, np.inf)
        self.best_rounding = np.array(rounding, dtype=float)
        self.truncation = np.full(shape, np.inf)
        self.trusted = np.zeros(shape, dtype=bool)
        self.best_row = np.full(shape, -1)
        self.best_factor = np.broadcast_to(factors[:, None], shape).copy()
        self.run_start = np.zeros(shape, dtype=int)
        self.ratio_before = np.zeros(shape, dtype=bool)
        self.tableau = [values]  # Neville entries of the latest row
        self.noise = [rounding]

    def t(self, k: int, power: int | None = None) -> np.ndarray:
        """``h_k**p`` per group (the leading error term), as a column."""
        return (self.factors[k] ** (power or self.power))[:, None]

    def add(self, values: np.ndarray, rounding: np.ndarray, factors: np.ndarray,
            active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Take a new row; returns per group (improved, wild)."""
        k = len(self.values)
        live = active[:, None]
        prev, prev_r = self.values[-1], self.roundings[-1]
        values = np.where(live, values, prev)
        rounding = np.where(live, rounding, prev_r)
        self.values.append(values)
        self.roundings.append(rounding)
        self.factors.append(np.where(active, factors, self.factors[-1]))
        tp, tc = self.t(k - 1), self.t(k)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            d = np.abs(values - prev)
            scale = np.maximum(np.abs(values), np.abs(prev))
            noise_ok = d <= NOISE * (rounding + prev_r)
            small_ok = d <= SMALL * scale
            ratio_ok = np.zeros(d.shape, dtype=bool)
            if k >= 2:
                d_prev = np.abs(prev - self.values[-3])
                q = (self.t(k - 2) - tp) / (tp - tc)
                observed = d_prev / d
                ratio_ok = (observed >= q / SPREAD) & (observed <= q * SPREAD)
            # a pair that still changes wildly passes the ratio test only twice running
            calm = d <= WILD * scale
            ratio_pass, self.ratio_before = ratio_ok & (calm | self.ratio_before), ratio_ok
            ok = (noise_ok | small_ok | ratio_pass) & live
            truncation = SAFETY * d * tp / (tp - tc)
            error = truncation + prev_r
            wild = np.any(~ok & (d > WILD * scale) & live, axis=1)
        before = self.best_error / 2  # improving means halving the error bar
        self._offer(ok, prev, error, truncation, prev_r, k - 1, self.factors[k - 1])
        if self.extrapolate:
            self._tableau(values, rounding, ok, k)
        self.trusted |= ok
        # a wild jump after trust: the trusted rows were not asymptotic (aliasing of an
        # oscillation, say); forget them and keep descending
        revoke = live & ~ok & (d > WILD * scale) & ~noise_ok
        if revoke.any():
            self.trusted &= ~revoke
            self.best_error = np.where(revoke, np.inf, self.best_error)
            self.truncation = np.where(revoke, np.inf, self.truncation)
            self.best_row = np.where(revoke, -1, self.best_row)
        # a pair not trusted restarts the run: older rows stay out of the tableau
        self.run_start = np.where(live & ~ok, k, self.run_start)
        improved = np.any(self.best_error < before, axis=1)
        return improved, wild

    def _offer(self, ok: np.ndarray, value: np.ndarray, error: np.ndarray, truncation: np.ndarray,
               rounding: np.ndarray, row: int, factor: np.ndarray) -> None:
        better = ok & (error < self.best_error)
        self.best = np.where(better, value, self.best)
        self.best_error = np.where(better, error, self.best_error)
        self.truncation = np.where(better, truncation, self.truncation)
        self.best_rounding = np.where(better, rounding, self.best_rounding)
        self.best_row = np.where(better, row, self.best_row)
        self.best_factor = np.where(better, factor[:, None], self.best_factor)

    def _tableau(self, values: np.ndarray, rounding: np.ndarray, ok: np.ndarray, k: int) -> None:
        """Neville's extrapolation to h = 0 through the rows of the current run.

        A polynomial in ``h**2`` through the rows: a symmetric stencil's error
        has even powers only (for order 4 the ``h**2`` term is absent, which
        costs nothing but one column)."""
        row, noise = [values], [rounding]
        tk = self.t(k, 2)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for j in range(1, k + 1):
                c = tk / (self.t(k - j, 2) - tk)
                a, b = row[j - 1], self.tableau[j - 1]
                entry = a + (a - b) * c
                valid = (j <= k - self.run_start) & ok
                entry = np.where(valid, entry, np.nan)
                moved = np.maximum(np.abs(entry - a), np.abs(entry - b))
                if j < len(self.tableau):  # the same column one row up
                    moved = np.fmax(moved, np.abs(entry - self.tableau[j]))
                err_noise = (1 + np.abs(c)) * noise[j - 1] + np.abs(c) * self.noise[j - 1]
                row.append(entry)
                noise.append(err_noise)
                error = np.where(valid, SAFETY * moved + err_noise, np.inf)
                self._offer(valid, entry, error, SAFETY * moved, err_noise, k,
                            self.factors[max(0, k - j)])
        self.tableau, self.noise = row, noise

    def balance_factor(self, n: int) -> np.ndarray:
        """Per group, the step factor balancing measured truncation against round-off."""
        p = self.power
        with np.errstate(divide="ignore", invalid="ignore"):
            noise = LEAP_NOISE * n * self.best_rounding
            ratio = noise / (p * np.maximum(self.truncation, 1e-300))
            factor = self.best_factor * ratio ** (1.0 / (p + n))
        factor = np.where(np.isfinite(factor), factor, np.inf)
        return np.maximum(np.min(factor, axis=1), 1e-12 * self.factors[0])

    def result(self, fixed: bool) -> Settled:
        stack = np.stack(self.values)  # (rows, G, M)
        converged = self.trusted & np.isfinite(self.best_error)
        value, error = self.best.copy(), self.best_error.copy()
        row = self.best_row.copy()
        # never trusted: the most stable row, with the spread of all rows as error bar
        with np.errstate(invalid="ignore", over="ignore"):
            if len(self.values) > 1:
                diffs = np.abs(np.diff(stack, axis=0))
                pick = np.argmin(np.where(np.isnan(diffs), np.inf, diffs), axis=0)
            else:
                pick = np.zeros(value.shape, dtype=int)
            fallback = np.take_along_axis(stack, pick[None], axis=0)[0]
            spread = np.max(np.abs(stack - fallback), axis=0) + np.max(
                np.stack(self.roundings), axis=0)
        value = np.where(converged, value, fallback)
        error = np.where(converged, error, np.where(spread > 0, spread, np.inf))
        row = np.where(converged, row, pick)
        all_factors = np.stack(self.factors)  # (rows, G)
        factor = all_factors[np.clip(row[:, 0], 0, None), np.arange(row.shape[0])]
        factor = np.where(converged[:, 0], self.best_factor[:, 0], factor)
        if len(self.values) == 1:  # one row (error not measured): the round-off model
            error = self.roundings[0] * (1.0 + self.n / self.power)
        if fixed:  # the value is the first row's; its error is measured against the best
            first = self.values[0]
            error = np.abs(first - value) + error
            value = first
            row = np.zeros(value.shape, dtype=int)
            factor = self.factors[0].copy()
        return Settled(value, error, converged, factor, row, len(self.values), self.factors)
