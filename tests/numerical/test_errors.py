"""Bad input fails early and clearly: each error names the problem (and the point, if f fails)."""

import math

import numpy as np
import pytest

from chainrule.numerical import (
    EvaluationError,
    derivative,
    directional_derivative,
    fd_weights,
    gradient,
    hessian,
    jacobian,
    step_error_curve,
)

# --- f fails at a stencil point or at x -------------------------------------------


def test_nan_at_a_stencil_point_names_the_point():
    with pytest.raises(EvaluationError, match=r"nan at the stencil point x - h = -5\.05") as info:
        derivative(np.log, 1e-6, step=6.055454452393343e-06)
    assert info.value.label == "x - h"
    assert "edge of f's domain" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_inf_at_a_stencil_point():
    def f(x):
        return 1.0 / (x - 1.0) if x < 1.0 else np.inf

    with pytest.raises(EvaluationError, match=r"inf at the stencil point x \+ h"):
        derivative(f, 0.9999999, step=1e-5)


def test_default_steps_shrink_to_fit_the_domain():
    # x closer to the edge of f's domain than the default step: the step shrinks until
    # the stencil fits (Richardson could not reach below 4**-6 of its first step before)
    for method in ("central", "richardson"):
        for x in (1e-6, 1e-7, 1e-10):
            d = derivative(np.log, x, method=method)
            assert d.converged and abs(float(d) - 1 / x) <= d.error_estimate <= 1e-6 / x
    g = gradient(lambda x: np.sum(np.log(x)), np.array([[1.0, 1e-9]]))
    assert g.success and abs(g.value[0, 1] - 1e9) <= g.error_estimate[0, 1] <= 1e3


def test_x_outside_the_domain_is_reported_at_x():
    with pytest.raises(EvaluationError, match=r"nan at x = -1\.0 itself: x lies outside"):
        derivative(np.log, -1.0)
    with pytest.raises(EvaluationError, match=r"x\[2\] = -1\.0 itself"):
        derivative(np.log, [1.0, 2.0, -1.0])
    with pytest.raises(EvaluationError, match="x lies outside f's domain"):
        derivative(np.sqrt, -4.0, method="richardson")
    with pytest.raises(EvaluationError, match="x itself"):
        gradient(lambda x: np.sum(np.log(x)), [1.0, 0.0])


def test_exception_from_f_is_wrapped_with_the_point():
    with pytest.raises(EvaluationError, match=r"math domain error.*x - h = ") as info:
        derivative(math.log, 1e-6, step=6.055454452393343e-06)
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(EvaluationError, match=r"ZeroDivisionError.*x = 0\.0 itself"):
        derivative(lambda x: 1 / x if x != 0 else 1 / 0, 0.0, method="forward")


def test_not_vectorised_f_on_array_x_gets_a_hint():
    with pytest.raises(EvaluationError, match="np.sin rather than math.sin"):
        derivative(math.sin, [1.0, 2.0])


def test_multivariate_failures_name_the_coordinate():
    with pytest.raises(EvaluationError, match=r"x - h1\*e\[0, 1\].*x\[0, 1\] = 1e-09"):
        gradient(lambda x: np.sum(np.log(x)), np.array([[1.0, 1e-9]]), step=1e-6)
    with pytest.raises(EvaluationError, match=r"output element \[1\]"):
        jacobian(np.log, [1.0, -1.0])
    with pytest.raises(EvaluationError, match=r"x - t\*v"):
        directional_derivative(lambda x: np.sum(np.log(x)), [1.0, 1e-9], [1.0, 1.0], step=1e-6)
    with pytest.raises(EvaluationError, match="stencil point"):
        hessian(lambda x: np.sum(np.log(x)), [1.0, 1e-9], step=1e-6)


# --- the complex step needs complex-safe f -----------------------------------------


@pytest.mark.parametrize(
    ("f", "match"),
    [
        (math.sin, "discarded the imaginary part"),
        (lambda x: float(x) ** 2, "discarded the imaginary part"),
        (np.abs, "returned a real result"),
        (np.real, "returned a real result"),
        (lambda x: np.hypot(x, 1.0), "raised TypeError"),
        (lambda x: round(x, 3), "raised TypeError"),
        (lambda x: x.real, "returned a real result"),
    ],
)
def test_complex_step_refuses_f_that_is_not_complex_safe(f, match):
    with pytest.raises(TypeError, match=match) as info:
        derivative(f, 1.0, method="complex")
    assert "method='central'" in str(info.value)


def test_complex_step_refusal_for_arrays_and_gradients():
    with pytest.raises(TypeError, match="imaginary part"):
        derivative(lambda x: np.asarray(x, dtype=float), np.array([1.0, 2.0]), method="complex")
    with pytest.raises(TypeError, match=r"x \+ i\*h0\*e\[0\]"):
        gradient(lambda x: math.log(x[0]), [1.0, 2.0], method="complex")
    with pytest.raises(TypeError, match="real result"):
        hessian(lambda x: np.sum(np.abs(x)), [1.0, 2.0], method="complex")


def test_complex_step_gives_first_derivatives_only():
    with pytest.raises(ValueError, match="first derivatives only"):
        derivative(np.sin, 1.0, method="complex", n=2)
    with pytest.raises(ValueError, match="first derivatives only"):
        step_error_curve(np.sin, 1.0, method="complex", n=2)


# --- f of the wrong kind ------------------------------------------------------------


def test_non_scalar_f_where_a_scalar_is_required():
    with pytest.raises(ValueError, match=r"elementwise.*f returned shape \(2,\).*jacobian"):
        derivative(lambda x: np.array([x, x]), 1.0)
    with pytest.raises(ValueError, match=r"gradient needs a scalar-valued f.*shape \(2,\)"):
        gradient(lambda x: x**2, [1.0, 2.0])
    with pytest.raises(ValueError, match="hessian needs a scalar-valued f"):
        hessian(lambda x: x**2, [1.0, 2.0])
    with pytest.raises(ValueError, match="gradient needs a scalar-valued f"):
        gradient(lambda x: x**2, [1.0, 2.0], method="complex")


def test_f_returning_non_numbers_or_changing_shape():
    with pytest.raises(TypeError, match="f must return numbers"):
        derivative(lambda x: "a", 1.0)
    with pytest.raises(TypeError, match="f must be callable"):
        derivative(3.0, 1.0)

    def shifty(x):
        return np.zeros(2) if x[0] > 1 else np.zeros(3)

    with pytest.raises(ValueError, match="output shape must not depend on x"):
        jacobian(shifty, [1.0, 2.0])


# --- impossible orders, steps, methods and points --------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, "n must be >= 1"),
        ({"n": -2}, ValueError, "n must be >= 1"),
        ({"n": 1.5}, TypeError, "must be an integer"),
        ({"order": 0}, ValueError, "order must be >= 1"),
        ({"order": 3}, ValueError, "even"),
        ({"order": 3, "method": "richardson"}, ValueError, "even"),
        ({"order": 2.0}, TypeError, "must be an integer"),
        ({"step": 0.0}, ValueError, "step must be positive"),
        ({"step": -1e-3}, ValueError, "step must be positive"),
        ({"step": np.inf}, ValueError, "step must be positive and finite"),
        ({"step": [1e-3, 1e-3]}, ValueError, "does not broadcast"),
        ({"step": 1e-30}, ValueError, "too small to change x"),
        ({"method": "magic"}, ValueError, "'central', 'forward', 'backward', 'complex', 'rich"),
        ({"method": None}, ValueError, "valid methods are"),
        ({"n": 10**6}, ValueError, r"needs a stencil of 1000001 points; at most 32"),
        ({"order": 10**6}, ValueError, r"needs a stencil of 1000001 points; at most 32"),
        ({"n": 17, "order": 16}, ValueError, "33 points"),
        ({"method": "forward", "order": 32}, ValueError, "33 points"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        derivative(np.sin, 1.0, **kwargs)


def test_odd_orders_are_fine_for_one_sided_stencils():
    assert abs(float(derivative(np.exp, 0.0, method="forward", order=3)) - 1) < 1e-10


@pytest.mark.parametrize("func", [gradient, jacobian, hessian])
def test_bad_arguments_multivariate(func):
    f = lambda x: np.sum(x**2)  # noqa: E731
    with pytest.raises(ValueError, match="valid methods"):
        func(f, [1.0, 2.0], method="symbolic")
    with pytest.raises(ValueError, match="even"):
        func(f, [1.0, 2.0], order=1)
    with pytest.raises(ValueError, match="step must be positive"):
        func(f, [1.0, 2.0], step=[1e-3, 0.0])


def test_bad_points():
    with pytest.raises(TypeError, match="must be real"):
        derivative(np.sin, 1 + 2j)
    with pytest.raises(ValueError, match="must be finite"):
        derivative(np.sin, np.nan)
    with pytest.raises(TypeError, match="real number or array"):
        derivative(np.sin, "1.0")
    with pytest.raises(ValueError, match="v must have x's shape"):
        directional_derivative(np.sin, [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="single point"):
        step_error_curve(np.sin, [1.0, 2.0])
    with pytest.raises(ValueError, match="valid methods"):
        step_error_curve(np.sin, 1.0, method="richardson")


def test_impossible_stencils_are_refused_before_any_work():
    with pytest.raises(ValueError, match="at most 32 points; got 40"):
        fd_weights(np.arange(40.0), 1)
    with pytest.raises(ValueError, match="at most 32"):
        hessian(lambda x: np.sum(x**2), [1.0, 2.0], order=40)
    with pytest.raises(ValueError, match="at most 32"):
        gradient(lambda x: np.sum(x**2), [1.0, 2.0], method="richardson", order=40)
    # the largest stencil allowed still works
    assert abs(float(derivative(np.exp, 0.0, order=30)) - 1) < 1e-6


def test_overflow_or_pole_at_x_is_named():
    with pytest.raises(EvaluationError, match=r"inf at x = 800\.0 itself: x lies on a pole of f, "
                       "or f overflows there"):
        derivative(np.exp, 800.0)


# --- the complex step outside f's real domain -----------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: derivative(np.sqrt, -1.0, method="complex"), r"nan at x = -1\.0 itself"),
        (lambda: derivative(np.log, [1.0, -1.0], method="complex"), r"x\[1\] = -1\.0 itself"),
        (lambda: derivative(np.emath.sqrt, -4.0, method="complex"), r"non-real value 2j at x"),
        (lambda: gradient(lambda x: np.sum(np.log(x)), [1.0, -1.0], method="complex"),
         "nan at x itself"),
        (lambda: jacobian(np.sqrt, [1.0, -1.0], method="complex"),
         r"x itself, output element \[1\]"),
        (lambda: directional_derivative(lambda x: np.sum(np.log(x)), [1.0, -1.0], [1.0, 1.0],
                                        method="complex"), "nan at x itself"),
    ],
)
def test_complex_step_outside_the_real_domain_is_refused(call, match):
    # Im log(-1 + ih) / h is pi / h = 3e20: garbage, not a derivative
    with pytest.raises(EvaluationError, match=match):
        call()


def test_a_genuinely_steep_function_passes_the_complex_step_guard():
    d = derivative(lambda x: 1e10 * x, 0.0, method="complex")
    assert float(d) == 1e10
    # one more call, at x, to rule out a domain error; two checking that f is analytic
    assert d.evaluations == 4
    assert derivative(np.exp, 5.0, method="complex").evaluations == 3


def test_step_error_curve_needs_a_step():
    with pytest.raises(ValueError, match="at least one step"):
        step_error_curve(np.sin, 1.0, steps=[])
