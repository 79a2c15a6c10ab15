"""cr.optim.minimize: gradient descent and Newton's method on plain functions."""

import numpy as np
import pytest
import torch

import chainrule as cr


def rosen(v):
    return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2


A = np.array([[3.0, 1.0], [1.0, 2.0]])
B = np.array([1.0, -1.0])


def quadratic(x):
    return 0.5 * (x @ (cr.tensor(A) @ x)) - (cr.tensor(B) * x).sum() if isinstance(
        x, cr.Tensor) else 0.5 * x @ A @ x - B @ x


X_STAR = np.linalg.solve(A, B)


@pytest.mark.parametrize("method,lr", [("gd", 0.2), ("momentum", 0.05), ("adam", 0.05),
                                       ("newton", 1.0)])
def test_quadratic_minimum(method, lr):
    res = cr.optim.minimize(quadratic, np.zeros(2), method=method, lr=lr, steps=3000, tol=1e-8)
    assert res.converged, res.message
    np.testing.assert_allclose(res.x, X_STAR, atol=1e-7)
    assert res.value == pytest.approx(quadratic(X_STAR), abs=1e-12)
    assert len(res.history) == res.iterations + 1 == len(res.path)
    np.testing.assert_array_equal(res.path[0], np.zeros(2))
    assert np.linalg.norm(res.grad) <= 1e-8


def test_newton_solves_a_quadratic_in_one_step():
    res = cr.optim.minimize(quadratic, np.array([5.0, -7.0]), method="newton")
    assert res.iterations == 1 and res.converged
    np.testing.assert_allclose(res.x, X_STAR, rtol=1e-12)


def test_newton_on_rosenbrock_is_fast_and_gd_is_slow():
    newton = cr.optim.minimize(rosen, np.array([-1.2, 1.0]), method="newton", steps=100)
    assert newton.converged and newton.iterations < 10
    np.testing.assert_allclose(newton.x, [1.0, 1.0], atol=1e-8)
    gd = cr.optim.minimize(rosen, np.array([-1.2, 1.0]), method="gd", lr=1e-3, steps=500)
    assert not gd.converged and gd.value < gd.history[0]


def test_gd_on_convex_function_decreases_monotonically():
    res = cr.optim.minimize(quadratic, np.array([4.0, 4.0]), method="gd", lr=0.1, steps=50)
    assert all(a >= b for a, b in zip(res.history, res.history[1:]))


def test_scalar_start_gives_scalar_answer():
    res = cr.optim.minimize(lambda x: x**2 - 3 * x - 2, 0.0, method="gd", lr=0.25)
    assert np.ndim(res.x) == 0 and float(res.x) == pytest.approx(1.5)
    res = cr.optim.minimize(lambda x: (x - 2.0) ** 2, 7, method="newton")  # an int start
    assert float(res.x) == 2.0


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_divergence_is_reported():
    res = cr.optim.minimize(lambda x: x**2, 1.0, method="gd", lr=1.5, steps=5000)
    assert not res.converged and "diverged" in res.message and "smaller lr" in res.message


def test_callback_sees_every_iterate():
    seen = []
    res = cr.optim.minimize(quadratic, np.zeros(2), method="gd", lr=0.2, steps=5,
                            callback=lambda k, x, v: seen.append((k, v)))
    assert [k for k, _ in seen] == list(range(6)) and res.iterations == 5


def test_newton_step_matches_pytorch():
    x0 = np.array([0.3, -0.7, 1.1])

    def f(v):
        return cr.sin(v[0] * v[1]) + v[2] ** 4 * v[0] + cr.exp(v[1] * v[2])

    def tf(v):
        return torch.sin(v[0] * v[1]) + v[2] ** 4 * v[0] + torch.exp(v[1] * v[2])

    tx = torch.tensor(x0, requires_grad=True)
    g = torch.autograd.grad(tf(tx), tx)[0]
    h = torch.autograd.functional.hessian(tf, torch.tensor(x0))
    expected = x0 - 0.5 * np.linalg.solve(h.numpy(), g.numpy())
    res = cr.optim.minimize(f, x0, method="newton", lr=0.5, steps=1)
    assert res.iterations == 1
    np.testing.assert_allclose(res.x, expected, rtol=1e-12)


def test_newton_with_a_singular_hessian_takes_the_least_squares_step():
    # f depends on x[0] only: H = [[2, 0], [0, 0]] is singular
    res = cr.optim.minimize(lambda v: (v[0] - 3.0) ** 2 + 0.0 * v[1], np.array([0.0, 5.0]),
                            method="newton")
    assert res.converged
    np.testing.assert_allclose(res.x, [3.0, 5.0])


@pytest.mark.parametrize("kwargs,match", [
    (dict(method="bfgs"), "method must be one of"),
    (dict(lr=0.0), "lr must be a positive"),
    (dict(lr=float("inf")), "lr must be a positive"),
    (dict(steps=-1), "steps must be"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cr.optim.minimize(quadratic, np.zeros(2), **kwargs)


def test_non_scalar_function_is_refused():
    with pytest.raises(TypeError, match="scalar"):
        cr.optim.minimize(lambda x: x * 2, np.zeros(2))
