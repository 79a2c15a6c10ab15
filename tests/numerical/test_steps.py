"""Automatic steps, the step-error curve and the Richardson tableau on their own."""

import math

import numpy as np
import pytest

from chainrule.numerical import auto_step, step_error_curve
from chainrule.numerical.evaluate import EvaluationError
from chainrule.numerical.richardson import extrapolate

EPS = np.finfo(float).eps


def test_auto_step_formula():
    assert auto_step(0.5) == pytest.approx(EPS ** (1 / 3))
    assert auto_step(-200.0) == pytest.approx(200 * EPS ** (1 / 3))
    assert auto_step(2.0, n=2) == pytest.approx(2 * EPS ** (1 / 4))
    assert auto_step(1.0, n=1, order=4) == pytest.approx(EPS ** (1 / 5))
    assert auto_step(1.0, method="forward") == pytest.approx(EPS ** (1 / 2))
    assert auto_step(3.0, method="complex") == pytest.approx(3e-20)
    assert auto_step(1.0, method="richardson") > 1e3 * auto_step(1.0)
    np.testing.assert_allclose(auto_step([0.0, 10.0]), [EPS ** (1 / 3), 10 * EPS ** (1 / 3)])


def test_step_error_curve_has_both_arms():
    curve = step_error_curve(np.exp, 1.0, exact=math.e)
    assert curve.reference_kind == "exact" and curve.reference_error == 0.0
    assert len(curve.steps) == len(curve.errors) == 65
    # The bottom of the V is within a decade or so of the automatic step.
    assert 0.1 * curve.auto_step < curve.best_step < 10 * curve.auto_step
    assert curve.best_error < 1e-9
    # Truncation arm: error ~ h**2 / 6 * e at large steps.
    large = curve.errors[curve.steps > 1e-3]
    assert np.all(np.diff(large) > 0)
    big = np.flatnonzero(curve.steps >= 1e-2)[0]
    assert curve.errors[big] == pytest.approx(curve.steps[big] ** 2 / 6 * math.e, rel=0.05)
    # Round-off arm: tiny steps are much worse than the best one.
    assert np.nanmin(curve.errors[curve.steps < 1e-13]) > 1e3 * curve.best_error
    assert "best_step" in repr(curve)


def test_step_error_curve_reference_and_custom_steps():
    steps = np.logspace(-10, -1, 10)
    curve = step_error_curve(np.sin, 0.5, steps=steps, method="forward")
    assert curve.reference_kind == "richardson"
    assert curve.reference == pytest.approx(math.cos(0.5), rel=1e-12)
    assert 0 < curve.reference_error < 1e-11
    np.testing.assert_array_equal(curve.steps, steps)
    # Forward differences are order 1: the bottom near sqrt(eps).
    assert 1e-10 <= curve.best_step <= 1e-6
    assert curve.evaluations > 2 * len(steps)
    np.testing.assert_allclose(curve.relative_errors, curve.errors / abs(curve.reference))


def test_complex_step_curve_has_no_round_off_arm():
    curve = step_error_curve(np.exp, 1.0, method="complex", exact=math.e)
    # Truncation (h**2 f'''/6) shows only above 1e-8; below, the error stays at rounding.
    small = curve.errors[curve.steps < 1e-8]
    assert np.all(small <= 4 * EPS * math.e)


def test_step_error_curve_marks_steps_outside_the_domain():
    curve = step_error_curve(np.log, 0.5, exact=2.0, steps=[1e-6, 1e-3, 0.7])
    assert np.isnan(curve.errors[2])
    assert curve.best_step == 1e-6 or curve.best_step == 1e-3


def test_step_error_curve_second_derivative():
    curve = step_error_curve(np.sin, 1.0, n=2, exact=-math.sin(1.0))
    assert curve.best_error < 1e-7
    assert 1e-5 < curve.best_step < 1e-2


def test_extrapolate_cancels_error_terms():
    # D(h) = 2 + 3 h**2 - h**4 + h**6: three columns remove it all.
    def estimate(factor):
        h = 0.5 * factor
        return np.array([2 + 3 * h**2 - h**4 + h**6]), np.array([0.0])

    out = extrapolate(estimate, power=2)
    assert out.value[0] == pytest.approx(2.0, abs=1e-13)
    assert out.error[0] < 1e-6
    assert out.first_factor == 1.0


def test_extrapolate_one_sided_powers_and_arrays():
    # Error terms h, h**2, h**3 (power_step 1) on a vector of estimates.
    def estimate(factor):
        h = 0.1 * factor
        return np.array([1 + h + h**2, -1 - 2 * h + h**3]), np.zeros(2)

    out = extrapolate(estimate, power=1, power_step=1)
    np.testing.assert_allclose(out.value, [1.0, -1.0], atol=1e-12)


def test_extrapolate_shrinks_first_step_and_gives_up():
    def estimate(factor):
        if factor > 0.1:
            raise EvaluationError("outside", None, "x + h")
        return np.array([1.0 + factor**2]), np.array([0.0])

    out = extrapolate(estimate, power=2)
    assert out.first_factor < 0.1
    assert out.value[0] == pytest.approx(1.0, abs=1e-12)

    def never(factor):
        raise EvaluationError("outside", None, "x + h")

    with pytest.raises(EvaluationError, match="outside"):
        extrapolate(never, power=2)
