"""What a finite difference cannot see by itself is checked, flagged or refused, never silent."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.numerical import derivative, directional_derivative, gradient, hessian, jacobian

# --- f that is not elementwise, on an array x ---------------------------------------


@pytest.mark.parametrize(
    "f",
    [
        np.cumsum,
        lambda x: x * np.sum(x),
        lambda x: x[::-1] ** 2,
        lambda x: np.sum(x**2),  # a scalar, broadcast: it depends on every element
        lambda x: x - np.mean(x),
    ],
)
def test_f_that_is_not_elementwise_is_refused(f):
    x = np.array([0.5, 1.0, 2.0, 3.0, -1.0])
    with pytest.raises(ValueError, match=r"elementwise.*changed f\(x\)\[\d\].*jacobian"):
        derivative(f, x)


def test_elementwise_f_and_constants_pass_the_check():
    x = np.linspace(-1, 1, 9).reshape(3, 3)
    np.testing.assert_allclose(derivative(np.sin, x).value, np.cos(x), atol=1e-9)
    np.testing.assert_array_equal(derivative(lambda x: 3.0, x).value, np.zeros((3, 3)))


# --- the complex step on f that is not analytic -------------------------------------


@pytest.mark.parametrize(
    ("f", "x"),
    [
        (lambda x: x * np.conj(x), 1.0),  # |x|**2: the complex step says 0
        (lambda x: np.sqrt(x * np.conj(x)), -2.0),  # |x| as a complex value
        (lambda x: np.exp(np.conj(x)), 0.3),  # the complex step says -f'
        (lambda x: np.real(x) ** 2 + 0j, 0.3),
        (lambda x: np.maximum(x, 0.0), 0.0),  # a kink at x: analytic on one side only
        (lambda x: np.maximum(x, 1.0), 1.0),
        (np.sign, 0.0),  # sign(ih) = i: a "slope" of 1e20
    ],
)
def test_complex_step_refuses_non_analytic_f(f, x):
    with pytest.raises(TypeError, match="analytic.*method='central' or 'richardson'"):
        derivative(f, x, method="complex")


@pytest.mark.parametrize(
    ("f", "x", "exact"),
    [(lambda x: x**3, 0.0, 0.0), (np.log, 1e-10, 1e10), (np.sqrt, 1e-8, 5e3),
     (lambda x: np.sin(1e4 * x), 0.3, 1e4 * math.cos(3000.0)), (np.sin, 1e8, math.cos(1e8))],
)
def test_analytic_f_passes_the_check_where_it_is_hard(f, x, exact):
    # f' = 0, x next to a branch point, f varying fast, x large: no false refusal
    d = derivative(f, x, method="complex")
    assert abs(float(d) - exact) <= max(d.error_estimate, 1e-30)


def test_complex_step_refuses_non_analytic_f_in_several_variables():
    f = lambda x: np.sum(x * np.conj(x))  # noqa: E731
    with pytest.raises(TypeError, match="analytic"):
        gradient(f, [1.0, 2.0], method="complex")
    with pytest.raises(TypeError, match="analytic"):
        jacobian(lambda x: x * np.conj(x), [1.0, 2.0], method="complex")
    with pytest.raises(TypeError, match="analytic"):
        directional_derivative(f, [1.0, 2.0], [1.0, -1.0], method="complex")
    # analytic f passes, at large |x| too
    g = gradient(lambda x: np.sum(np.sin(x) * x), [1e6, 2.0], method="complex")
    expected = np.sin([1e6, 2.0]) + np.array([1e6, 2.0]) * np.cos([1e6, 2.0])
    np.testing.assert_allclose(g.value, expected, rtol=1e-12)


def test_complex_step_with_a_large_user_step_measures_truncation():
    d = derivative(np.sin, 1.0, method="complex", step=0.1)
    assert abs(float(d) - math.cos(1.0)) <= d.error_estimate < 1e-2


# --- kinks, jumps and poles inside the stencil ----------------------------------------


@pytest.mark.parametrize("method", ["central", "richardson"])
def test_kink_at_x_is_flagged_with_both_one_sided_slopes_covered(method):
    d = derivative(np.abs, 0.0, method=method)
    assert d.converged is False and not d.success
    assert "kink or jump at x = 0.0" in d.message
    assert abs(float(d) - 1) <= d.error_estimate and abs(float(d) + 1) <= d.error_estimate
    # an array: only the element at the kink is flagged
    d = derivative(lambda x: np.maximum(x, 1.0), np.array([0.0, 1.0, 2.0]), method=method)
    np.testing.assert_array_equal(d.converged, [True, False, True])
    assert "x[1] = 1.0" in d.message and "converged=False" in repr(d)


@pytest.mark.parametrize("method", ["central", "richardson"])
def test_kink_at_x_is_flagged_in_gradients_and_jacobians(method):
    g = gradient(lambda v: np.sum(np.abs(v)), [0.0, 1.0], method=method)
    np.testing.assert_array_equal(g.converged, [False, True])
    assert "kink" in g.message and g.error_estimate[0] >= 1.0
    j = jacobian(lambda v: np.maximum(v, 0.0), [0.0, 1.0, -1.0], method=method)
    assert not j.converged[0, 0] and j.converged.sum() == 8
    assert abs(j.value[0, 0] - 1.0) <= j.error_estimate[0, 0]


@pytest.mark.parametrize("method", ["central", "richardson"])
def test_jump_at_x_is_flagged(method):
    d = derivative(np.sign, 0.0, method=method)
    assert not d.converged and "did not settle" in d.message
    assert d.error_estimate > 1e6


def test_kink_near_x_leaves_the_stencil():
    d = derivative(np.abs, 1e-9)
    assert d.converged and abs(float(d) - 1.0) <= d.error_estimate < 1e-8


# --- steps: the user's, large |x|, the edge of the domain -------------------------------


def test_a_user_step_is_kept_and_its_error_measured():
    d = derivative(np.exp, 1.0, step=0.5)
    assert d.step == 0.5 and d.converged
    error = abs(float(d) - math.e)
    assert 0.1 < error <= d.error_estimate <= 10 * error
    d = derivative(np.sin, 1.0, step=1.0, method="forward")
    assert d.step == 1.0 and abs(float(d) - math.cos(1.0)) <= d.error_estimate


def test_gradient_at_large_x_takes_steps_from_f():
    # the step max(1, |x|) * eps**(1/3) is 6 at 1e6: larger than sin's period
    x = np.array([1e6, -3e7, 0.5])
    for method in ("central", "forward", "richardson"):
        g = gradient(lambda v: np.sum(np.sin(v)), x, method=method)
        assert g.success
        assert np.all(np.abs(g.value - np.cos(x)) <= g.error_estimate)
        assert np.all(g.error_estimate < 1e-5)
    # along a direction all coordinates move at once, by amounts rounded to x's spacing
    d = directional_derivative(lambda v: np.sum(np.sin(v)), x, np.ones(3))
    assert abs(float(d) - np.sum(np.cos(x))) <= d.error_estimate < 1e-3


def test_hessian_error_estimate_bounds_the_error():
    f = lambda v: np.sin(30 * v[0]) * np.exp(v[1])  # noqa: E731
    x = np.array([0.2, 0.5])
    exact = np.array([[-900 * np.sin(6.0), 30 * np.cos(6.0)],
                      [30 * np.cos(6.0), np.sin(6.0)]]) * np.exp(0.5)
    for method in ("central", "richardson"):
        h = hessian(f, x, method=method)
        assert h.success and np.all(np.abs(h.value - exact) <= h.error_estimate)


@settings(deadline=None, max_examples=60)
@given(
    omega=st.floats(0.1, 3000.0),
    phase=st.floats(0.0, 6.3),
    x=st.floats(-100.0, 100.0),
    method=st.sampled_from(["central", "forward", "backward", "richardson"]),
)
def test_oscillations_of_any_frequency_are_bounded(omega, phase, x, method):
    # the bar: no estimate off by more than 10x (the battery holds the count of
    # strictly bounded ones); sin(omega t + phase) rounds its argument, so its values are
    # noisier than eps |f|
    d = derivative(lambda t: np.sin(omega * t + phase), x, method=method)
    exact = omega * math.cos(omega * x + phase)
    assert not d.converged or abs(float(d) - exact) <= 10 * d.error_estimate
