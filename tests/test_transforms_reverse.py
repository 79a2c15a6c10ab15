"""grad, value_and_grad and vjp: NumPy values in and out, argnums, aux, nesting, control flow."""

import numpy as np
import pytest

import chainrule as cr

# ----- plain values in, plain values out -----


def test_seed_example_is_exact_and_plain():
    slope = cr.grad(lambda x: x**2 - 3 * x - 2)(3.0)
    assert slope == 3.0
    assert type(slope) is np.float64  # a NumPy scalar, not a Tensor


def test_arrays_in_arrays_out_with_the_input_dtype():
    g = cr.grad(lambda x: cr.sum(x**2))(np.array([1.0, 2.0]))
    assert type(g) is np.ndarray
    np.testing.assert_array_equal(g, [2.0, 4.0])
    g32 = cr.grad(lambda x: cr.sum(x * 2.0))(np.ones(2, np.float32))
    assert type(g32) is np.ndarray and g32.dtype == np.float32


def test_value_and_grad():
    value, g = cr.value_and_grad(lambda x: cr.sum(cr.sin(x)))(np.array([0.0, 1.0]))
    assert type(value) is np.float64 and value == pytest.approx(np.sin(1.0))
    np.testing.assert_allclose(g, np.cos([0.0, 1.0]))


def test_argnums_int_negative_and_tuple():
    f = lambda x, y: x * y**2  # noqa: E731
    assert cr.grad(f)(2.0, 3.0) == 9.0
    assert cr.grad(f, argnums=1)(2.0, 3.0) == 12.0
    assert cr.grad(f, argnums=-1)(2.0, 3.0) == 12.0
    assert cr.grad(f, argnums=(0, 1))(2.0, 3.0) == (9.0, 12.0)
    assert cr.grad(f, argnums=(1,))(2.0, 3.0) == (12.0,)
    assert cr.grad(f, argnums=(0, 0))(2.0, 3.0) == (9.0, 9.0)  # a repeat gives the same
    value, grads = cr.value_and_grad(f, argnums=(1, 0))(2.0, 3.0)
    assert value == 18.0 and grads == (12.0, 9.0)


def test_keyword_arguments_pass_through_undifferentiated():
    assert cr.grad(lambda x, scale=1.0: x * scale)(2.0, scale=5.0) == 5.0


def test_has_aux_returns_the_aux_as_plain_values():
    g, aux = cr.grad(lambda x: (x**2, {"double": x * 2, "tag": "t"}), has_aux=True)(3.0)
    assert g == 6.0
    assert aux["tag"] == "t"
    assert aux["double"] == 6.0 and not isinstance(aux["double"], cr.Tensor)
    (value, aux), g = cr.value_and_grad(lambda x: (x**3, [x, x + 1]), has_aux=True)(2.0)
    assert value == 8.0 and g == 12.0
    assert not any(isinstance(a, cr.Tensor) for a in aux) and aux == [2.0, 3.0]


def test_vjp_gives_every_cotangent_and_can_be_called_again():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    out, vjp_fn = cr.vjp(lambda a, b: a * b + cr.sin(a), x, y)
    np.testing.assert_allclose(out, x * y + np.sin(x))
    assert type(out) is np.ndarray
    for cotangent in (np.array([1.0, 0.0]), np.array([0.5, 2.0])):
        gx, gy = vjp_fn(cotangent)
        np.testing.assert_allclose(gx, cotangent * (y + np.cos(x)))
        np.testing.assert_allclose(gy, cotangent * x)


def test_vjp_with_aux():
    out, vjp_fn, aux = cr.vjp(lambda a: (a * 3.0, a + 1.0), np.array([1.0, 2.0]), has_aux=True)
    np.testing.assert_array_equal(aux, [2.0, 3.0])
    assert not isinstance(aux, cr.Tensor)
    np.testing.assert_array_equal(vjp_fn(np.ones(2))[0], [3.0, 3.0])


# ----- nesting -----


def test_grad_of_grad_and_third_derivatives():
    assert cr.grad(cr.grad(lambda x: x**3))(2.0) == 12.0
    assert cr.grad(cr.grad(cr.grad(lambda x: x**4)))(2.0) == 48.0
    assert cr.grad(cr.grad(cr.grad(cr.sin)))(0.3) == pytest.approx(-np.cos(0.3), rel=1e-14)
    d3 = cr.grad(cr.grad(cr.grad(lambda x: cr.exp(2.0 * x) * x)))(0.5)
    # (x e^{2x})''' = (8x + 12) e^{2x}
    assert d3 == pytest.approx((8 * 0.5 + 12) * np.exp(1.0), rel=1e-13)


def test_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1, not 2 (Siskind & Pearlmutter)
    assert cr.grad(lambda x: x * cr.grad(lambda y: x + y)(1.0))(2.0) == 1.0
    assert cr.grad(lambda x: cr.grad(lambda y: x * y)(1.0))(2.0) == 1.0
    # the inner function closes over x and also differentiates in it
    f = lambda x: cr.grad(lambda y: x * y**2 + x**2 * y)(1.0)  # noqa: E731 - 2xy + x^2 at y=1
    assert cr.grad(f)(3.0) == 2.0 + 2 * 3.0


def test_hessian_vector_product_by_nesting():
    f = lambda x: cr.sum(cr.sin(x) * x)  # noqa: E731
    x = np.array([0.3, 0.9])
    v = np.array([1.0, 0.5])
    hvp = cr.grad(lambda x: cr.sum(cr.grad(f)(x) * v))(x)
    np.testing.assert_allclose(hvp, (2 * np.cos(x) - x * np.sin(x)) * v, rtol=1e-14)


def test_grad_of_a_function_that_calls_vjp():
    def h(x):  # the vjp of z -> sin(z) * x at z = x: x cos x
        _, vjp_fn = cr.vjp(lambda z: cr.sin(z) * x, x)
        return vjp_fn(1.0)[0]

    assert h(0.5) == pytest.approx(0.5 * np.cos(0.5))
    assert cr.grad(h)(0.5) == pytest.approx(np.cos(0.5) - 0.5 * np.sin(0.5), rel=1e-14)


def test_a_users_tensor_closed_over_inside_grad_stays_on_its_graph():
    w = cr.tensor(3.0, requires_grad=True)
    g = cr.grad(lambda x: w * x**2)(2.0)  # 2 w x
    assert isinstance(g, cr.Tensor) and g.item() == 12.0 and g.requires_grad
    g.backward()  # d(2 w x)/dw = 2 x
    assert w.grad.item() == 4.0


def test_a_users_tensor_as_the_argument_of_grad():
    w = cr.tensor(2.0, requires_grad=True)
    g = cr.grad(lambda x: x**3)(w)  # 3 w^2, still a function of w
    assert isinstance(g, cr.Tensor) and g.item() == 12.0
    g.backward()
    assert w.grad.item() == 12.0  # 6 w
    assert cr.grad(lambda x: x**3)(cr.tensor(2.0)) == 12.0  # a constant tensor: plain out


def test_nested_grads_with_a_users_tensor_inside():
    w = cr.tensor(3.0, requires_grad=True)
    # inner: d/dy (w x y^2) at y = x is 2 w x^2; outer: 4 w x
    r = cr.grad(lambda x: cr.grad(lambda y: w * x * y**2)(x))(2.0)
    assert isinstance(r, cr.Tensor) and r.item() == 24.0
    r.backward()
    assert w.grad.item() == 8.0  # 4 x


def test_vjp_with_a_cotangent_that_depends_on_the_input():
    def f(x):  # cotangent x times d(z^3)/dz at z = x: 3 x^3
        _, vjp_fn = cr.vjp(lambda z: z**3, x)
        return vjp_fn(x)[0]

    assert cr.grad(f)(2.0) == 9 * 2.0**2


def test_vjp_of_a_gradient_is_a_hessian_vector_product():
    g = cr.grad(lambda x: cr.sum(x**3))
    _, vjp_fn = cr.vjp(g, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(vjp_fn(np.array([1.0, 0.5]))[0], [6.0, 6.0])


def test_a_grad_closure_made_inside_grad():
    def f(x):
        slope = cr.grad(lambda y: x * y)  # made at the outer level, called later
        return slope(1.0) * x

    assert cr.grad(f)(3.0) == 6.0


def test_grad_records_under_no_grad():
    with cr.no_grad():
        assert cr.grad(lambda x: x**2)(3.0) == 6.0


def test_backward_inside_a_transform_is_refused():
    def f(x):
        t = cr.tensor(1.5, requires_grad=True)
        (t * t * x).backward()
        return t.grad

    with pytest.raises(RuntimeError, match="backward.*transform.*cr.grad"):
        cr.grad(f)(2.0)


# ----- Python control flow -----


def babylonian_sqrt(a, steps=30):
    x = a
    for _ in range(steps):
        x = 0.5 * (x + a / x)
    return x


def newton_sqrt_until_converged(a):
    x = a
    for _ in range(100):  # early exit on convergence: the number of steps depends on a
        nx = 0.5 * (x + a / x)
        if abs(nx - x) <= 1e-15 * nx:  # a comparison: branches without leaving the graph
            return nx
        x = nx
    raise AssertionError("Newton's iteration did not converge")


@pytest.mark.parametrize("a", [0.25, 2.0, 9.0, 1e4])
def test_derivative_of_newton_square_root(a):
    expected = 1 / (2 * np.sqrt(a))
    assert cr.grad(babylonian_sqrt)(a) == pytest.approx(expected, rel=1e-12)
    assert cr.grad(newton_sqrt_until_converged)(a) == pytest.approx(expected, rel=1e-12)


def test_branches_take_the_derivative_of_the_branch_taken():
    def piecewise(x):
        if x > 1.0:
            return x**3
        return cr.sin(x)

    assert cr.grad(piecewise)(2.0) == 12.0
    assert cr.grad(piecewise)(0.5) == pytest.approx(np.cos(0.5))


def test_recursion():
    def power(x, n):
        return 1.0 if n == 0 else x * power(x, n - 1)

    def nest_sin(x, n):
        return x if n == 0 else cr.sin(nest_sin(x, n - 1))

    assert cr.grad(lambda x: power(x, 5))(2.0) == 5 * 2.0**4
    expected = np.cos(np.sin(0.4)) * np.cos(0.4)
    assert cr.grad(lambda x: nest_sin(x, 2))(0.4) == pytest.approx(expected, rel=1e-14)


def test_loop_with_a_running_accumulator():
    def horner(x, coeffs):
        acc = 0.0
        for c in coeffs:
            acc = acc * x + c
        return acc

    # p(x) = 2x^3 - x + 5, p'(x) = 6x^2 - 1
    assert cr.grad(lambda x: horner(x, [2.0, 0.0, -1.0, 5.0]))(1.5) == 6 * 1.5**2 - 1


def test_constant_chainrule_tensors_inside_give_plain_arrays():
    """A constant tensor (cr.zeros, cr.tensor) meeting the input makes the rules' cotangent
    a constant tensor; the transforms still hand back the caller's plain arrays."""
    w = np.arange(4.0).reshape(2, 2)
    c = cr.tensor(np.array([[1.0, -2.0]]))
    f = lambda v: cr.sum(c @ v * cr.ones((1, 2)))  # noqa: E731
    expected = np.repeat(c.data.T, 2, axis=1)
    for result in (cr.grad(f)(w), cr.value_and_grad(f)(w)[1], cr.vjp(f, w)[1](1.0)[0],
                   cr.jacrev(f)(w)):
        assert type(result) is np.ndarray
        np.testing.assert_array_equal(result, expected)
