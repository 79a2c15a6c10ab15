"""Acceptance tests of ``derivative``: accuracy per method, higher orders, cost, result object."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.numerical import Derivative, derivative


def squire_trapp(x):
    return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)


FUNCTIONS = {
    "exp": np.exp,
    "sin": np.sin,
    "log": np.log,
    "x**x": lambda x: x**x,
    "rational": lambda x: (x**3 - 2 * x + 1) / (x**2 + 1),
    "runge": lambda x: 1 / (1 + 25 * x**2),
    "squire_trapp": squire_trapp,
}

# Exact first derivatives, from the closed forms evaluated with mpmath at 40 digits
# and rounded once to float64 (so the table's own error is below 1.2e-16 relative).
EXACT = {
    "exp": {-3.0: 0.049787068367863944, 0.5: 1.6487212707001282, 2.0: 7.38905609893065,
            10.0: 22026.465794806718, 50.0: 5.184705528587072e+21},
    "sin": {-2.0: -0.4161468365471424, 0.5: 0.8775825618903728, 0.001: 0.9999995000000417,
            100.0: 0.8623188722876839},
    "log": {0.01: 100.0, 0.5: 2.0, 3.0: 0.3333333333333333, 1000.0: 0.001, 1000000.0: 1e-06},
    "x**x": {0.1: -1.0346801174961242, 0.5: 0.21697770945227393, 3.0: 56.66253179403896,
             10.0: 33025850929.940456},
    "rational": {-5.0: 1.121301775147929, 0.3: -1.802794377577645, 100.0: 1.0002979104149379},
    "runge": {-0.7: 0.19935920256318979, 0.3: -1.4201183431952664, 3.0: -0.0029368000626517348},
    "squire_trapp": {-0.5: -0.41447729034932806, 0.5: 2.4540383344548498,
                     1.5: 4.053427893898621},
}

# Points where f varies on a length much shorter than max(1, |x|), the scale the
# automatic step assumes: exp and sin at large x, log near 0, x**x at 10. Central
# differences with the automatic step lose digits there (a user should pass a
# step or use Richardson); we pin that they stay within 1e-6.
BADLY_SCALED = {("exp", 50.0), ("sin", 100.0), ("log", 0.01), ("x**x", 10.0)}

CASES = [(name, x) for name, table in EXACT.items() for x in table]


def rel_error(value, exact):
    return abs(float(value) - exact) / abs(exact)


@pytest.mark.parametrize(("name", "x"), CASES)
def test_central_auto_step_accuracy(name, x):
    d = derivative(FUNCTIONS[name], x)
    limit = 1e-6 if (name, x) in BADLY_SCALED else 1e-9
    assert rel_error(d, EXACT[name][x]) <= limit
    # f(x) (the kink check) and two steps; more where f is badly scaled
    assert d.converged and d.evaluations <= 9
    assert abs(float(d) - EXACT[name][x]) <= d.error_estimate


@pytest.mark.parametrize(("name", "x"), CASES)
def test_richardson_accuracy(name, x):
    d = derivative(FUNCTIONS[name], x, method="richardson")
    assert rel_error(d, EXACT[name][x]) <= 1e-12
    # The measured error estimate bounds the true error on this set.
    assert abs(float(d) - EXACT[name][x]) <= d.error_estimate
    assert d.converged and d.evaluations <= 30


def test_richardson_cost_over_the_set():
    # The benchmark's claim in numbers: scipy.differentiate.derivative (order 8,
    # adaptive) spends 11.5 calls on average on this set, numdifftools 30. Richardson
    # stops once its error estimate is below 1e-13 relative, or stops improving.
    calls = [derivative(FUNCTIONS[name], x, method="richardson").evaluations
             for name, x in CASES]
    assert np.mean(calls) <= 20.0
    assert max(calls) <= 30


@pytest.mark.parametrize(("name", "x"), CASES)
def test_complex_step_accuracy(name, x):
    d = derivative(FUNCTIONS[name], x, method="complex")
    # z**z = exp(z log z) amplifies rounding by |z log z| ~ 23 at z = 10: f itself,
    # evaluated in complex arithmetic, is only that accurate.
    limit = 1e-14 if (name, x) == ("x**x", 10.0) else 1e-15
    assert rel_error(d, EXACT[name][x]) <= limit
    assert abs(float(d) - EXACT[name][x]) <= d.error_estimate
    # one complex step and the analyticity check on both sides (retried where f varies fast)
    assert d.evaluations <= 9


@pytest.mark.parametrize(("method", "order"), [("forward", 1), ("backward", 1), ("forward", 3),
                                               ("central", 4), ("central", 8)])
def test_other_stencils_on_exp(method, order):
    d = derivative(np.exp, 0.5, method=method, order=order)
    limit = {1: 1e-7, 3: 1e-11, 4: 1e-11, 8: 1e-12}[order]
    assert rel_error(d, math.exp(0.5)) <= limit
    assert abs(float(d) - math.exp(0.5)) <= d.error_estimate
    stencil = order + 1 if method != "central" else order
    assert d.converged and d.evaluations <= 3 * stencil + 1


# n-th derivatives in closed form: exp, sin(x + n pi/2), log's (-1)**(n-1) (n-1)! / x**n.
HIGHER = {
    "exp": (np.exp, lambda x, n: math.exp(x)),
    "sin": (np.sin, lambda x, n: math.sin(x + n * math.pi / 2)),
    "log": (np.log, lambda x, n: (-1) ** (n - 1) * math.factorial(n - 1) / x**n),
}


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("name", list(HIGHER))
@pytest.mark.parametrize("x", [0.7, 2.5])
def test_higher_derivatives(name, n, x):
    f, exact = HIGHER[name]
    expected = exact(x, n)
    # Round-off grows as eps / h**n: each order costs digits.
    central_limit = {2: 1e-7, 3: 1e-5, 4: 1e-3}[n]
    richardson_limit = {2: 3e-10, 3: 1e-8, 4: 5e-6}[n]
    assert rel_error(derivative(f, x, n=n), expected) <= central_limit
    assert rel_error(derivative(f, x, n=n, order=4), expected) <= central_limit
    d = derivative(f, x, n=n, method="richardson")
    assert rel_error(d, expected) <= richardson_limit
    assert abs(float(d) - expected) <= d.error_estimate


def test_central_evaluation_counts_by_derivative_order():
    # Odd derivatives skip the zero centre weight.
    # two steps each; first derivatives also evaluate f(x) for the kink check
    counts = [derivative(np.sin, 0.3, n=n).evaluations for n in (1, 2, 3, 4)]
    assert counts == [5, 6, 8, 10]


@settings(deadline=None, max_examples=60)
@given(
    coeffs=st.lists(st.floats(-10, 10), min_size=1, max_size=5),
    x=st.floats(-3, 3),
    n=st.integers(1, 4),
)
def test_polynomials_are_exact_with_order_four_stencils(coeffs, x, n):
    # A stencil of accuracy order p is exact on polynomials of degree < n + p, so a
    # degree <= 4 polynomial leaves only round-off.
    poly = np.polynomial.Polynomial(coeffs)
    exact = poly.deriv(n)(x)
    d = derivative(poly, x, n=n, order=4, step=0.1)
    scale = sum(abs(c) for c in coeffs) * 3.0**4
    assert abs(float(d) - exact) <= 1e-8 * max(1.0, scale)


@settings(deadline=None, max_examples=40)
@given(coeffs=st.lists(st.floats(-10, 10), min_size=1, max_size=5), x=st.floats(-3, 3))
def test_polynomials_complex_step_and_richardson(coeffs, x):
    poly = np.polynomial.Polynomial(coeffs)
    exact = poly.deriv(1)(x)
    scale = max(1.0, sum(abs(c) for c in coeffs) * 3.0**4)
    assert abs(float(derivative(poly, x, method="complex")) - exact) <= 1e-13 * scale
    assert abs(float(derivative(poly, x, method="richardson")) - exact) <= 1e-9 * scale


def test_elementwise_over_array_of_points():
    x = np.array([[-1.0, 0.0], [0.5, 2.0]])
    for method in ("central", "forward", "complex", "richardson"):
        d = derivative(np.sin, x, method=method)
        assert d.shape == x.shape
        np.testing.assert_allclose(np.asarray(d), np.cos(x), rtol=1e-6, atol=1e-7)
    # One call per stencil point, whatever the number of points (plus f(x) and one call
    # checking that f is elementwise).
    assert derivative(np.sin, x).evaluations <= 10
    assert derivative(np.sin, x, method="complex").evaluations <= 9


def test_per_point_steps_and_constant_output_broadcasts():
    d = derivative(np.exp, [0.0, 1.0], step=[1e-5, 2e-5])
    np.testing.assert_allclose(d.step, [1e-5, 2e-5], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(d), np.exp([0.0, 1.0]), rtol=1e-9)
    # A constant function returning a single value is fine for any x.
    np.testing.assert_array_equal(np.asarray(derivative(lambda x: 3.0, [1.0, 2.0])), [0.0, 0.0])


def test_plain_python_scalar_function():
    # math functions work with real methods on scalar x (they get NumPy float64).
    assert rel_error(derivative(math.exp, 1.0), math.e) < 1e-9
    assert rel_error(derivative(math.exp, 1.0, method="richardson"), math.e) < 1e-12


def test_one_sided_methods_work_at_a_domain_edge():
    # sqrt is undefined left of 0: forward differences at 1e-3 stay inside.
    d = derivative(np.sqrt, 1e-3, method="forward", order=2, step=1e-4)
    assert rel_error(d, 0.5 / math.sqrt(1e-3)) < 1e-2
    # Richardson shrinks its first step until the stencil fits in the domain.
    d = derivative(np.log, 1e-5, method="richardson")
    assert rel_error(d, 1e5) < 1e-10


def test_result_object_behaves_as_its_value():
    d = derivative(np.exp, 0.0)
    assert isinstance(d, Derivative)
    assert d.method == "central" and d.order == 2 and d.evaluations == 5
    assert d.converged is True and d.success and d.message == ""
    assert math.isclose(float(d), 1.0, rel_tol=1e-9)
    assert math.isclose(d + 1, 2.0, rel_tol=1e-9)
    assert math.isclose(2 * d, 2.0, rel_tol=1e-9)
    assert math.isclose(float(np.sin(d)), math.sin(float(d)))
    assert np.asarray(d).shape == ()
    assert 0 < d.error_estimate < 1e-9
    assert d.step > 0
    text = repr(d)
    assert text.startswith("Derivative(value=") and "method='central'" in text
    assert "evaluations=5" in text and "converged" not in text


def test_array_result_refuses_float_and_supports_indexing():
    d = derivative(np.exp, [0.0, 1.0])
    with pytest.raises(TypeError, match="shape"):
        float(d)
    assert len(d) == 2
    assert math.isclose(d[1], math.e, rel_tol=1e-9)
    assert np.asarray(d, dtype=np.float32).dtype == np.float32


def test_one_stencil_when_the_error_is_not_measured():
    d = derivative(np.exp, 1.0, measure_error=False)
    assert d.evaluations == 2 and d.converged is False and not d.success
    assert "not measured" in d.message and "converged=False" in repr(d)
    assert rel_error(d, math.e) < 1e-9
    assert derivative(np.sin, 0.3, n=2, measure_error=False).evaluations == 3


def test_error_estimate_scale_for_plain_stencils():
    # A model estimate: of the right order of magnitude for well-scaled functions.
    for f, x, exact in [(np.exp, 1.0, math.e), (np.sin, 0.5, math.cos(0.5))]:
        d = derivative(f, x)
        err = abs(float(d) - exact)
        assert d.error_estimate > err / 100
        assert d.error_estimate < 1e-9
