"""gradient, jacobian, hessian and directional_derivative against analytic results, with costs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chainrule.numerical import directional_derivative, gradient, hessian, jacobian

REAL_METHODS = ["central", "forward", "backward", "richardson"]
ALL_METHODS = [*REAL_METHODS, "complex"]
# Accuracy to expect (relative to the largest entry) from each method's default.
FIRST_TOL = {"central": 1e-9, "forward": 1e-6, "backward": 1e-6, "richardson": 1e-11,
             "complex": 1e-14}
SECOND_TOL = {"central": 1e-6, "forward": 1e-3, "backward": 1e-3, "richardson": 1e-9,
              "complex": 1e-9}


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hess(x):
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i, i + 1] += -400 * x[i]
        h[i + 1, i] += -400 * x[i]
        h[i + 1, i + 1] += 200
    return h


def vector_f(x):
    return np.array([np.sin(x[0]) * x[1], np.exp(x[0] * x[1]), x[1] ** 3 / (1 + x[0] ** 2)])


def vector_jac(x):
    a, b = x
    e = np.exp(a * b)
    return np.array([
        [np.cos(a) * b, np.sin(a)],
        [b * e, a * e],
        [-2 * a * b**3 / (1 + a**2) ** 2, 3 * b**2 / (1 + a**2)],
    ])


def close(value, expected, tol):
    value, expected = np.asarray(value), np.asarray(expected)
    assert value.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected))))
    assert float(np.max(np.abs(value - expected))) <= tol * scale


@pytest.mark.parametrize("method", ALL_METHODS)
def test_gradient_of_rosenbrock(method):
    x = np.array([0.3, -1.2, 2.0, 0.7])
    g = gradient(rosenbrock, x, method=method)
    close(g, rosenbrock_grad(x), FIRST_TOL[method])
    assert g.kind == "gradient" and g.method == method
    assert np.asarray(g.error_estimate).shape == x.shape


def test_gradient_evaluation_counts():
    x = np.linspace(0.1, 1.0, 7)
    n = x.size
    # every stencil runs at two steps (the second measures the first's error); f(x) is
    # shared (central differences call it for the kink check); the complex step adds two
    # calls checking that f is analytic
    assert gradient(rosenbrock, x).evaluations == 4 * n + 1
    assert gradient(rosenbrock, x, method="forward").evaluations == 2 * n + 1
    assert gradient(rosenbrock, x, method="backward").evaluations == 2 * n + 1
    assert gradient(rosenbrock, x, method="complex").evaluations == n + 2
    assert gradient(rosenbrock, x, method="central", order=4).evaluations == 8 * n + 1
    assert gradient(rosenbrock, x, method="forward", order=2).evaluations == 4 * n + 1


def test_gradient_counts_actual_calls():
    calls = []

    def f(x):
        calls.append(1)
        return rosenbrock(x)

    for method in ALL_METHODS:
        calls.clear()
        g = gradient(f, np.array([0.5, 1.5, -0.5]), method=method)
        assert g.evaluations == len(calls)


def test_gradient_keeps_the_shape_of_x():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    g = gradient(lambda x: np.sum(x**3), x)
    close(g, 3 * x**2, 1e-9)
    g = gradient(lambda x: np.sum(x**3), x, method="complex")
    close(g, 3 * x**2, 1e-15)
    # A 0-d x gives a 0-d gradient.
    assert gradient(lambda x: x**2, 3.0).shape == ()


@pytest.mark.parametrize("method", ALL_METHODS)
def test_jacobian_of_vector_function(method):
    x = np.array([0.4, 1.3])
    j = jacobian(vector_f, x, method=method)
    close(j, vector_jac(x), FIRST_TOL[method])
    assert j.kind == "jacobian"


def test_jacobian_shape_is_out_shape_plus_x_shape():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    a = np.arange(24.0).reshape(4, 6) / 10

    def f(x):
        return a @ x.ravel()

    j = jacobian(f, x)
    assert j.shape == (4, 2, 3)
    close(j, a.reshape(4, 2, 3), 1e-9)
    # A scalar f: the Jacobian is the gradient.
    j = jacobian(lambda x: np.sum(x**2), x)
    close(j, 2 * x, 1e-9)
    # Matrix output, vector input: d(v_i v_k)/dv_m = delta_im v_k + v_i delta_km.
    v = np.array([1.0, 2.0])
    j = jacobian(lambda v: np.outer(v, v), v, method="complex")
    eye = np.eye(2)
    expected = np.einsum("im,k->ikm", eye, v) + np.einsum("i,km->ikm", v, eye)
    close(j, expected, 1e-15)


def test_one_stencil_when_the_error_is_not_measured():
    # the textbook costs, with an error estimate that only models round-off (flagged)
    x = np.linspace(0.1, 1.0, 7)
    n = x.size
    g = gradient(rosenbrock, x, measure_error=False)
    assert g.evaluations == 2 * n and not g.success and "not measured" in g.message
    close(g, rosenbrock_grad(x), 1e-6)
    assert gradient(rosenbrock, x, method="forward", measure_error=False).evaluations == n + 1
    assert hessian(rosenbrock, x[:4], measure_error=False).evaluations == 2 * 4**2 + 1
    d = directional_derivative(vector_f, x[:2], x[:2], measure_error=False)
    assert d.evaluations == 2 and not d.success
    assert jacobian(vector_f, x[:2], measure_error=False).evaluations == 4


def test_jacobian_evaluation_counts():
    x = np.array([0.4, 1.3])
    assert jacobian(vector_f, x).evaluations == 9
    assert jacobian(vector_f, x, method="forward").evaluations == 5
    assert jacobian(vector_f, x, method="complex").evaluations == 4


@pytest.mark.parametrize("method", ALL_METHODS)
def test_hessian_of_rosenbrock(method):
    x = np.array([0.3, -1.2, 2.0, 0.7])
    h = hessian(rosenbrock, x, method=method)
    close(h, rosenbrock_hess(x), SECOND_TOL[method])
    np.testing.assert_array_equal(np.asarray(h), np.asarray(h).T)
    assert h.kind == "hessian"


def test_hessian_of_mixed_function_and_shapes():
    def f(x):
        return np.exp(x[0, 0]) * np.sin(x[1, 1]) + x[0, 1] * x[1, 0] ** 2

    x = np.array([[0.2, 0.5], [1.5, -0.3]])
    h = hessian(f, x, method="richardson")
    assert h.shape == (2, 2, 2, 2)
    flat = np.asarray(h).reshape(4, 4)
    a, b, c, d = x.ravel()
    expected = np.array([
        [np.exp(a) * np.sin(d), 0, 0, np.exp(a) * np.cos(d)],
        [0, 0, 2 * c, 0],
        [0, 2 * c, 2 * b, 0],
        [np.exp(a) * np.cos(d), 0, 0, -np.exp(a) * np.sin(d)],
    ])
    close(flat, expected, 1e-9)


def test_hessian_evaluation_counts():
    x = np.array([0.3, -1.2, 2.0, 0.7])
    n = x.size
    assert hessian(rosenbrock, x).evaluations == 4 * n**2 + 1
    forward_points = 2 * n + n * (n - 1) // 2
    assert hessian(rosenbrock, x, method="forward").evaluations == 1 + 2 * forward_points
    assert hessian(rosenbrock, x, method="complex").evaluations == n * (n + 1)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_directional_derivative_is_jacobian_times_v(method):
    x = np.array([0.4, 1.3])
    v = np.array([0.3, -2.0])
    d = directional_derivative(vector_f, x, v, method=method)
    close(d, vector_jac(x) @ v, FIRST_TOL[method])
    expected_calls = {"central": 4, "forward": 4, "backward": 4, "complex": 3}
    if method in expected_calls:
        assert d.evaluations == expected_calls[method]


def test_directional_derivative_scalar_and_zero_direction():
    x = np.array([0.3, -1.2, 2.0])
    v = np.array([1.0, 2.0, -1.0])
    d = directional_derivative(rosenbrock, x, v)
    assert abs(float(d) - rosenbrock_grad(x) @ v) <= 1e-8 * abs(rosenbrock_grad(x) @ v)
    assert float(directional_derivative(rosenbrock, x, np.zeros(3))) == 0.0


@settings(deadline=None, max_examples=30)
@given(
    x=hnp.arrays(np.float64, st.integers(1, 4), elements=st.floats(-2, 2)),
    seed=st.integers(0, 2**32 - 1),
)
def test_gradient_of_random_quadratic_is_exact(x, seed):
    # Central differences are exact on quadratics up to round-off: g = (A + A^T) x + b.
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(x.size, x.size))
    b = rng.normal(size=x.size)

    def f(y):
        return y @ a @ y + b @ y

    expected = (a + a.T) @ x + b
    close(gradient(f, x), expected, 1e-8)
    close(gradient(f, x, method="complex"), expected, 1e-13)
    close(hessian(f, x), a + a.T, 1e-6)
    close(hessian(f, x, method="complex"), a + a.T, 1e-8)
