"""Automatic steps, the step-error curve and the Richardson tableau on their own."""

import math

import numpy as np
import pytest

from chainrule.numerical import auto_step, derivative, step_error_curve
from chainrule.numerical.evaluate import EvaluationError
from chainrule.numerical.sequence import settle

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


def test_settle_extrapolates_away_error_terms():
    # D(h) = 2 + 3 h**2 - h**4 + h**6: Neville's tableau in h**2 removes it all
    def estimate(factors, active):
        h = 0.5 * factors[:, None]
        return 2 + 3 * h**2 - h**4 + h**6, np.zeros(h.shape)

    out = settle(estimate, 1, power=2, n=1, extrapolate=True)
    assert out.converged.all()
    assert abs(out.value[0, 0] - 2.0) <= out.error[0, 0] < 1e-10


def test_settle_plain_and_elementwise():
    # each group settles on its own; the plain value is a stencil's, its error measured
    def estimate(factors, active):
        h = 0.1 * factors[:, None]
        return np.array([[1.0], [-1.0]]) + np.array([[1.0], [5.0]]) * h**2, np.zeros((2, 1))

    out = settle(estimate, 2, power=2, n=1)
    assert out.converged.all()
    assert np.all(np.abs(out.value[:, 0] - [1.0, -1.0]) <= out.error[:, 0])


def test_settle_shrinks_first_step_and_gives_up():
    def estimate(factors, active):
        if factors[0] > 0.1:
            raise EvaluationError("outside", None, "x + h")
        h = factors[:, None]
        return 1.0 + h**2, np.zeros(h.shape)

    out = settle(estimate, 1, power=2, n=1, extrapolate=True)
    assert out.factors[0][0] < 0.1
    assert abs(out.value[0, 0] - 1.0) < 1e-12

    def never(factors, active):
        raise EvaluationError("outside", None, "x + h")

    with pytest.raises(EvaluationError, match="outside"):
        settle(never, 1, power=2, n=1)


def test_settle_flags_what_never_settles():
    # D(h) = 1/h (a jump at x): the spread of all rows is the error bar
    def estimate(factors, active):
        return 1.0 / factors[:, None], np.zeros((1, 1))

    out = settle(estimate, 1, power=2, n=1, max_rows=8)
    assert not out.converged.any() and out.error[0, 0] > 1e6


def test_richardson_of_higher_accuracy_order():
    d = derivative(np.exp, 0.5, method="richardson", order=4)
    assert d.converged and abs(float(d) - math.exp(0.5)) <= d.error_estimate < 1e-12
