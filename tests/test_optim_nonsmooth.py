"""The subgradient method and proximal gradient (ISTA, FISTA) on problems with
known solutions."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.optim.proximal import (
    L1,
    Box,
    ProximalResult,
    fista,
    ista,
    prox_box,
    prox_l1,
    proximal_gradient,
)
from chainrule.optim.subgradient import SubgradientResult, subgradient_method

TARGET = np.array([1.0, -2.0, 0.5])


def l1_distance(x):
    return cr.sum(cr.abs(x - TARGET))


def test_zero_subgradient_stops_exactly_at_the_optimum():
    res = subgradient_method(l1_distance, np.zeros(3), step=0.5, steps=100)
    assert isinstance(res, SubgradientResult)
    np.testing.assert_array_equal(res.x, TARGET)
    assert res.value == 0.0 and res.message == "a zero subgradient: x is optimal"


def test_under_jax_abs_prime_zero_is_one_so_the_method_cannot_stop():
    # abs'(0) = 1 pushes every coordinate off its optimum again: they oscillate
    with cr.subgradient_policy("jax"):
        res = subgradient_method(l1_distance, np.zeros(3), step=0.5, steps=30)
    assert res.iterations == 30 and res.message == "stopped after 30 steps"
    assert res.value == 0.5


@pytest.mark.parametrize("step, options, tolerance", [
    ("sqrt", {"lr": 1.0}, 2e-2),
    ("constant", {"lr": 0.01}, 3e-2),
    ("polyak", {"f_star": 0.0}, 1e-6),
])
def test_step_rules_converge_on_a_nonsmooth_convex_problem(step, options, tolerance):
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((20, 3)), rng.standard_normal(20)
    x_true = np.array([0.3, -0.2, 0.1])
    b = A @ x_true  # the optimum is 0, at x_true

    def f(x):
        return cr.mean(cr.abs(A @ x - b))

    res = subgradient_method(f, np.zeros(3), step=step, steps=1500, **options)
    assert res.value <= tolerance
    assert res.value == min(res.history)
    assert res.best_history == list(np.minimum.accumulate(res.history))
    assert len(res.history) == res.iterations + 1 or res.message.startswith("within")


def test_best_iterate_is_kept_when_the_last_is_worse():
    res = subgradient_method(lambda x: cr.abs(x), 1.0, step=0.75, steps=3)
    assert res.history == [1.0, 0.25, 0.5, 0.25]
    assert float(res.x) == 0.25 and float(res.x_last) == 0.25 and res.value == 0.25


def test_callable_step_and_callback():
    seen = []

    def halving(k, value, g):
        return 0.5 ** (k + 1)

    res = subgradient_method(lambda x: cr.abs(x - 1.0), 0.0, step=halving, steps=50,
                             callback=lambda k, x, v: seen.append(k) or k == 4)
    assert res.step_rule == "halving" and res.message == "stopped by the callback"
    assert seen == [0, 1, 2, 3, 4]


def test_polyak_stops_within_tol():
    res = subgradient_method(lambda x: cr.abs(x - 3.0), 0.0, step="polyak", f_star=0.0,
                             tol=1e-9)
    assert res.value <= 1e-9 and res.message.startswith("within tol")


@pytest.mark.parametrize("kwargs, match", [
    ({"step": "newton"}, "unknown step rule 'newton'"),
    ({"step": "polyak"}, "Polyak step needs the optimal value"),
    ({"step": "sqrt", "lr": -1.0}, "lr must be a finite number > 0"),
    ({"step": math.nan}, "lr must be a finite number > 0"),
    ({"steps": -1}, "steps must be an int >= 0"),
])
def test_subgradient_method_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        subgradient_method(lambda x: cr.abs(x), 1.0, **kwargs)


def test_non_finite_values_stop_the_method():
    res = subgradient_method(lambda x: cr.log(x), 1.0, step=2.0, steps=5)
    assert res.message.startswith("f or its subgradient is not finite")


# ----- proximal operators -----

def test_prox_l1_soft_thresholds_to_exact_zeros():
    v = np.array([3.0, -2.5, 0.5, -0.5, 1.0])
    np.testing.assert_array_equal(prox_l1(v, 1.0), [2.0, -1.5, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(L1([1.0, 0.0, 1.0, 1.0, 2.0]).prox(v, 0.5),
                                  [2.5, -2.5, 0.0, 0.0, 0.0])
    assert L1(2.0)(v) == 15.0


def test_prox_l1_is_the_argmin_it_claims():
    v, t = np.array([0.7, -0.2]), 0.3
    grid = np.linspace(-1, 1, 2001)
    for i in range(2):
        objective = t * np.abs(grid) + (grid - v[i]) ** 2 / 2
        assert prox_l1(v, t)[i] == pytest.approx(grid[np.argmin(objective)], abs=1e-3)


def test_box_projects_and_reports_infinity_outside():
    box = Box(-1.0, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(box.prox(np.array([-3.0, 1.5, 9.0]), 0.1), [-1.0, 1.5, 3.0])
    np.testing.assert_array_equal(prox_box(np.array([5.0]), 0.0, 1.0), [1.0])
    assert box(np.zeros(3)) == 0.0 and box(np.array([0.0, 0.0, 4.0])) == math.inf


def test_penalties_reject_bad_parameters():
    with pytest.raises(ValueError, match="L1: lam must be finite and >= 0"):
        L1(-1.0)
    with pytest.raises(ValueError, match="Box: every lower bound must be <= its upper"):
        Box(1.0, 0.0)


# ----- ISTA and FISTA -----

def _lasso(seed=0, n=40, alpha=0.05):
    # columns of very different scales: an ill-conditioned problem, where momentum pays
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6)) * np.array([10.0, 5.0, 2.0, 1.0, 0.5, 0.3])
    y = X @ np.array([0.2, 0.0, -1.0, 0.0, 0.0, 0.5]) + 0.1 * rng.standard_normal(n)

    def smooth(w):
        r = X @ w - y
        return cr.sum(r * r) / (2.0 * n)
    return alpha, smooth


def test_orthogonal_design_lasso_is_soft_thresholding():
    # with X^T X / n = I the lasso solution is prox_l1(X^T y / n, alpha)
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((30, 4)))
    X = q * np.sqrt(30.0)
    y = X @ np.array([1.0, -0.1, 0.0, 3.0]) + 0.01
    expected = prox_l1(X.T @ y / 30, 0.2)

    def smooth(w):
        r = X @ w - y
        return cr.sum(r * r) / 60.0

    for solver in (ista, fista):
        res = solver(smooth, np.zeros(4), L1(0.2), lr=1.0, steps=50)
        np.testing.assert_allclose(res.x, expected, atol=1e-12)
    assert np.count_nonzero(expected) == 2


def test_fista_is_faster_than_ista_and_both_agree_with_the_subgradient_method():
    alpha, smooth = _lasso()

    def objective(w):
        return smooth(w) + alpha * cr.sum(cr.abs(w))

    best = fista(smooth, np.zeros(6), L1(alpha), steps=5000, tol=1e-14)
    assert isinstance(best, ProximalResult) and best.converged
    fast = fista(smooth, np.zeros(6), L1(alpha), steps=100, tol=0.0)
    slow = ista(smooth, np.zeros(6), L1(alpha), steps=100, tol=0.0)
    assert fast.value - best.value < 1e-5 < slow.value - best.value
    assert best.value == pytest.approx(float(objective(best.x)), rel=1e-12)
    assert best.x[3] == 0.0 and best.x[4] == 0.0  # soft thresholding gives exact zeros
    sub = subgradient_method(objective, np.zeros(6), step="polyak", f_star=best.value,
                             steps=3000)
    assert sub.value == pytest.approx(best.value, rel=1e-4)
    assert np.all(np.asarray(slow.history[1:]) <= slow.history[0])


def test_backtracking_finds_a_step_and_box_constraints_hold():
    target = np.array([2.0, -3.0, 0.5])
    res = proximal_gradient(lambda x: 8.0 * cr.sum((x - target) ** 2), np.zeros(3),
                            Box(-1.0, 1.0), steps=200)
    np.testing.assert_allclose(res.x, [1.0, -1.0, 0.5], atol=1e-9)
    assert res.lr <= 1 / 16  # the Lipschitz constant of the gradient is 16


def test_without_a_penalty_it_is_gradient_descent():
    res = proximal_gradient(lambda x: cr.sum((x - 1.0) ** 2), np.zeros(2), lr=0.25,
                            accelerated=False, steps=200)
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-10)
    assert res.method == "ista"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": 0.0}, ValueError, "lr must be a finite number > 0 or None"),
    ({"steps": 1.5}, ValueError, "steps must be an int >= 0"),
    ({"penalty": 3.0}, TypeError, "penalty must have __call__ and prox"),
])
def test_proximal_gradient_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        proximal_gradient(lambda x: cr.sum(x * x), np.zeros(2), **kwargs)
