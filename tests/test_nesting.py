"""Every transform nests in every other, in any order, without perturbation confusion."""

import numpy as np
import pytest

import chainrule as cr

X = np.array([0.4, -1.1, 2.0])


def _f(x):
    return cr.sum(cr.sin(x) * x**2) + cr.sum(x) ** 2


def _hessian_f(x):
    return np.diag(2 * np.sin(x) + 4 * x * np.cos(x) - x**2 * np.sin(x)) + 2.0


def _numeric(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


# ----- perturbation confusion: d/dx [x * d/dy (x + y)] = 1, not 2 -----

def _inner_by_jvp(x):
    return x * cr.jvp(lambda y: x + y, (1.0,), (1.0,))[1]


def _inner_by_grad(x):
    return x * cr.grad(lambda y: x + y)(1.0)


@pytest.mark.parametrize("inner", [_inner_by_jvp, _inner_by_grad], ids=["jvp", "grad"])
def test_perturbation_confusion_in_both_modes(inner):
    assert float(cr.jvp(inner, (2.0,), (1.0,))[1]) == 1.0
    assert float(cr.grad(inner)(2.0)) == 1.0
    assert float(cr.jacfwd(inner)(2.0)) == 1.0
    assert float(cr.jacrev(inner)(2.0)) == 1.0


def test_perturbation_confusion_with_shared_closures():
    # Siskind & Pearlmutter: the inner derivative closes over the outer variable
    def outer(x):
        def g(y):
            return x * y

        return cr.jvp(g, (x,), (1.0,))[1] * x  # d/dy (x*y) * x = x^2

    assert float(cr.jvp(outer, (3.0,), (1.0,))[1]) == 6.0
    assert float(cr.grad(outer)(3.0)) == 6.0


# ----- every pair of modes gives the same second derivatives -----

HV = _hessian_f(X) @ np.array([1.0, 2.0, -1.0])


def test_forward_over_reverse():
    v = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(cr.jvp(cr.grad(_f), (X,), (v,))[1], HV, rtol=1e-12)
    np.testing.assert_allclose(cr.hvp(_f, X, v), HV, rtol=1e-12)


def test_reverse_over_forward():
    v = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(cr.grad(lambda x: cr.jvp(_f, (x,), (v,))[1])(X), HV, rtol=1e-12)


def test_reverse_over_reverse_and_forward_over_forward():
    v = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(cr.jacrev(cr.grad(_f))(X) @ v, HV, rtol=1e-12)
    vhv = cr.jvp(lambda x: cr.jvp(_f, (x,), (v,))[1], (X,), (v,))[1]
    assert float(vhv) == pytest.approx(float(v @ HV), rel=1e-12)


@pytest.mark.parametrize("outer", [cr.jacfwd, cr.jacrev], ids=["jacfwd", "jacrev"])
@pytest.mark.parametrize("inner", [cr.jacfwd, cr.jacrev, cr.grad], ids=["jacfwd", "jacrev",
                                                                        "grad"])
def test_every_jacobian_of_a_jacobian_is_the_hessian(outer, inner):
    np.testing.assert_allclose(outer(inner(_f))(X), _hessian_f(X), rtol=1e-12, atol=1e-12)


def test_third_derivatives_mixing_all_modes():
    def cube_sum(x):
        return cr.sum(x**3)

    third = cr.jacfwd(cr.jacrev(cr.jacfwd(cube_sum)))(X)
    expected = np.zeros((3, 3, 3))
    for i in range(3):
        expected[i, i, i] = 6.0
    np.testing.assert_allclose(third, expected, atol=1e-12)
    g = cr.grad(lambda x: cr.jvp(cr.grad(cube_sum), (x,), (np.ones(3),))[1][0])(X)
    np.testing.assert_allclose(g, [6.0, 0.0, 0.0], atol=1e-12)


# ----- an outer transform of a function that calls a transform inside -----

def test_grad_of_a_function_calling_jacfwd_and_linearize():
    def through_jacfwd(x):
        return cr.sum(cr.jacfwd(lambda z: cr.sin(z) * z[0])(x))

    def through_linearize(x):
        return cr.sum(cr.linearize(lambda z: cr.sin(z) * z, x)[1](np.ones(3)))

    for f in (through_jacfwd, through_linearize):
        np.testing.assert_allclose(cr.grad(f)(X), _numeric(f, X), rtol=1e-6)
        np.testing.assert_allclose(cr.jvp(f, (X,), (np.ones(3),))[1],
                                   _numeric(f, X).sum(), rtol=1e-6)


def test_jvp_of_a_function_calling_vjp_and_jacrev():
    def through_vjp(x):
        _, vjp_fn = cr.vjp(lambda z: cr.exp(z) * z, x)
        return vjp_fn(np.ones(3))[0]  # exp(x) (1 + x)

    _, t = cr.jvp(through_vjp, (X,), (np.ones(3),))
    np.testing.assert_allclose(t, np.exp(X) * (2 + X), rtol=1e-12)

    def through_jacrev(x):
        return cr.jacrev(lambda z: z * cr.sum(z))(x)  # I sum(z) + 1 z^T

    _, t = cr.jvp(through_jacrev, (X,), (np.ones(3),))
    np.testing.assert_allclose(t, 3.0 * np.eye(3) + 1.0, rtol=1e-12)


def test_forward_mode_on_a_user_tensor_records_for_backward():
    x = cr.tensor(X, requires_grad=True)
    _, t = cr.jvp(lambda z: cr.sin(z) * z, (x,), (np.ones(3),))
    cr.sum(t).backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.cos(X) - X * np.sin(X), rtol=1e-12)


def test_newton_step_through_a_hessian_is_differentiable():
    # one Newton step for min f: x - H^-1 g; its derivative at the minimum of a
    # quadratic is zero (the step lands on the minimum whatever x is)
    a = np.array([[3.0, 1.0], [1.0, 2.0]])

    def quadratic(x):
        return 0.5 * cr.sum(x * (a @ x)) - cr.sum(x)

    def newton(x):
        return x - cr.linalg.solve(cr.hessian(quadratic)(x), cr.grad(quadratic)(x))

    x0 = np.array([0.7, -0.2])
    np.testing.assert_allclose(newton(x0), np.linalg.solve(a, np.ones(2)), rtol=1e-12)
    np.testing.assert_allclose(cr.jacfwd(newton)(x0), np.zeros((2, 2)), atol=1e-12)
    np.testing.assert_allclose(cr.jacrev(newton)(x0), np.zeros((2, 2)), atol=1e-12)
