"""Edge cases the spec table cannot state: zeros to third order, conventions at kinks,
NumPy dispatch, overflow, and every error path of prod, var, std, norm, cumsum,
cumprod, repeat, tile, softmax and log_softmax."""

import itertools

import numpy as np
import pytest
import torch

import chainrule as cr

INF = float("inf")


def hessian(f, x):
    """Row by row: the gradient of one component of the gradient."""
    x = np.asarray(x, dtype=np.float64)
    rows = [cr.grad(lambda y, i=i: cr.grad(f)(y).reshape(-1)[i])(x).reshape(-1)
            for i in range(x.size)]
    return np.stack(rows)


def others(x, skip):
    """The product of the elements of x whose indices are not in ``skip`` (brute force)."""
    return float(np.prod([v for k, v in enumerate(x) if k not in skip]))


# ----- prod and cumprod with zeros, to second and third order -----

@pytest.mark.parametrize("zeros", [(), (2,), (0, 3), (1, 2, 4), (0, 1, 2, 3, 4)])
def test_prod_gradient_and_hessian_are_products_of_the_others(zeros):
    x = np.array([1.5, -2.0, 0.5, 3.0, -0.7])
    x[list(zeros)] = 0.0
    grad = cr.grad(cr.prod)(x)
    np.testing.assert_allclose(grad, [others(x, {i}) for i in range(5)], rtol=1e-14)
    expected = [[0.0 if i == j else others(x, {i, j}) for j in range(5)] for i in range(5)]
    np.testing.assert_allclose(hessian(cr.prod, x), expected, rtol=1e-14, atol=0)


def test_prod_third_derivative_with_three_zeros():
    x = np.array([0.0, 0.0, 0.0, 2.0, 3.0])

    def third(y):  # d^3 prod / dx0 dx1 dx2 = x3 * x4
        return cr.grad(lambda z: cr.grad(lambda w: cr.grad(cr.prod)(w)[2])(z)[1])(y)[0]

    assert float(third(x)) == 6.0


def test_prod_hessian_with_zeros_over_several_axes_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(2, 2, 3))
    x[0, 1, 1] = x[1, 1, 2] = x[0, 0, 0] = 0.0  # slice j=1 of axes (0, 2) holds two zeros
    w = rng.standard_normal(2)

    def f(y):
        return cr.sum(cr.prod(y, axis=(0, 2)) * w)

    def tf(y):
        return (torch.prod(torch.prod(y, 2), 0) * torch.tensor(w)).sum()

    expected = torch.autograd.functional.hessian(tf, torch.tensor(x)).reshape(12, 12)
    np.testing.assert_allclose(hessian(f, x), expected.numpy(), rtol=1e-12, atol=1e-14)


def loop_cumprod(x):
    """cumprod by repeated multiplication: slow, but obviously exact to every order."""
    out = [x[0]]
    for v in x[1:]:
        out.append(out[-1] * v)
    return torch.stack(out)


@pytest.mark.parametrize("zeros", [(0,), (2,), (1, 3), (0, 2, 5), (4, 5)])
def test_cumprod_hessian_with_zeros_matches_repeated_multiplication(zeros):
    rng = np.random.default_rng(len(zeros))
    x = rng.uniform(-2, 2, size=6)
    x[list(zeros)] = 0.0
    w = rng.standard_normal(6)
    grad = cr.grad(lambda y: cr.sum(cr.cumprod(y) * w))(x)
    tx = torch.tensor(x, requires_grad=True)
    (tgrad,) = torch.autograd.grad((loop_cumprod(tx) * torch.tensor(w)).sum(), tx)
    np.testing.assert_allclose(grad, tgrad.numpy(), rtol=1e-13, atol=1e-15)
    expected = torch.autograd.functional.hessian(
        lambda y: (loop_cumprod(y) * torch.tensor(w)).sum(), torch.tensor(x))
    np.testing.assert_allclose(hessian(lambda y: cr.sum(cr.cumprod(y) * w), x),
                               expected.numpy(), rtol=1e-12, atol=1e-14)


def test_cumprod_third_derivative_with_three_zeros():
    x = np.array([2.0, 0.0, 0.0, 0.0, 3.0])

    def third(y):  # d^3 (sum cumprod) / dx1 dx2 dx3 = x0 + x0 * x4
        f = cr.grad(lambda w: cr.sum(cr.cumprod(w)))
        return cr.grad(lambda z: cr.grad(lambda v: f(v)[3])(z)[2])(y)[1]

    assert float(third(x)) == 8.0


def test_cumprod_long_axis_with_zeros_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.5, 1.5, size=(37, 2))  # not a power of two: the scan's ragged steps
    x[[3, 20], 0] = 0.0
    x[36, 1] = 0.0
    g = rng.standard_normal(x.shape)
    _, vjp_fn = cr.vjp(lambda y: cr.cumprod(y, axis=0), x)
    tx = torch.tensor(x, requires_grad=True)
    torch.cumprod(tx, 0).backward(torch.tensor(g))
    np.testing.assert_allclose(vjp_fn(g)[0], tx.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prod_and_cumprod_keep_the_dtype(dtype):
    x = cr.tensor(np.array([[1.0, 0.0, 2.0], [3.0, 4.0, 0.5]], dtype=dtype), requires_grad=True)
    (cr.sum(cr.prod(x, axis=1)) + cr.sum(cr.cumprod(x, axis=1))).backward()
    assert x.grad.dtype == dtype
    assert cr.cumprod(x).dtype == dtype


def test_reducing_an_empty_axis():
    x = np.zeros((2, 0))
    assert cr.grad(lambda y: cr.sum(cr.prod(y, axis=1)))(x).shape == (2, 0)
    np.testing.assert_array_equal(cr.prod(x, axis=1), [1.0, 1.0])
    assert cr.grad(lambda y: cr.sum(cr.cumprod(y, axis=1)))(x).shape == (2, 0)


# ----- var and std -----

def test_std_gradient_is_zero_where_all_elements_are_equal():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    grad = cr.grad(lambda y: cr.sum(cr.std(y, axis=1, ddof=1)))(x)
    np.testing.assert_array_equal(grad[0], [0.0, 0.0, 0.0])
    tx = torch.tensor(x[1], requires_grad=True)
    torch.std(tx, correction=1).backward()
    np.testing.assert_allclose(grad[1], tx.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("op", [cr.var, cr.std])
def test_var_and_std_values_match_numpy(op):
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    reference = getattr(np, op.__name__)
    for axis, ddof, keepdims in itertools.product([None, 0, -1, (0, 2)], [0, 1], [False, True]):
        np.testing.assert_allclose(op(x, axis, ddof=ddof, keepdims=keepdims),
                                   reference(x, axis, ddof=ddof, keepdims=keepdims), rtol=1e-14)


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_reject_bad_ddof_and_axis(name):
    op = getattr(cr, name)
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match=f"{name}: ddof=3 leaves no degrees of freedom"):
        op(x, axis=1, ddof=3)
    with pytest.raises(ValueError, match=f"{name}: ddof must be a non-negative int"):
        op(x, ddof=-1)
    with pytest.raises(ValueError, match=f"{name}: ddof must be a non-negative int"):
        op(x, ddof=0.5)
    with pytest.raises(ValueError, match=f"{name}: axis 2 is out of range"):
        op(x, axis=2)
    with pytest.raises(ValueError, match=f"{name}: axis .* names an axis twice"):
        op(x, axis=(1, -1))
    with pytest.raises(TypeError, match=f"{name}: axis must be an int"):
        op(x, axis=1.0)


# ----- norm -----

VECTOR_ORDS = [None, 2, 1, 3, 0.5, -1, INF, -INF, 0]
MATRIX_ORDS = [None, "fro", 1, -1, INF, -INF]


def test_norm_values_match_numpy():
    rng = np.random.default_rng(0)
    v, m, t = rng.standard_normal(5), rng.standard_normal((3, 4)), rng.standard_normal((2, 3, 4))
    for ord, keepdims in itertools.product(VECTOR_ORDS, [False, True]):
        np.testing.assert_allclose(cr.norm(v, ord, keepdims=keepdims),
                                   np.linalg.norm(v, ord, keepdims=keepdims), rtol=1e-13)
        np.testing.assert_allclose(cr.norm(t, ord, axis=1, keepdims=keepdims),
                                   np.linalg.norm(t, ord, axis=1, keepdims=keepdims), rtol=1e-13)
    for ord, keepdims in itertools.product(MATRIX_ORDS, [False, True]):
        np.testing.assert_allclose(cr.norm(m, ord, keepdims=keepdims),
                                   np.linalg.norm(m, ord, keepdims=keepdims), rtol=1e-13)
        np.testing.assert_allclose(cr.norm(t, ord, axis=(2, 0), keepdims=keepdims),
                                   np.linalg.norm(t, ord, axis=(2, 0), keepdims=keepdims),
                                   rtol=1e-13)
    np.testing.assert_allclose(cr.norm(t), np.linalg.norm(t), rtol=1e-13)
    assert cr.norm(t, keepdims=True).shape == (1, 1, 1)


def test_norm_of_integers_is_floating():
    out = cr.norm(np.array([3, 4]))
    assert out.dtype == np.float64 and float(out) == 5.0
    assert float(cr.norm(np.array([[1, -2], [3, 0]]), INF)) == 3.0


@pytest.mark.parametrize("ord", [None, 2, 1, 3, INF, -INF, "fro"])
def test_norm_gradient_at_zero_is_zero(ord):
    x = np.zeros((2, 3)) if ord == "fro" else np.zeros(3)
    np.testing.assert_array_equal(cr.grad(lambda y: cr.norm(y, ord))(x), np.zeros_like(x))


def test_norm_gradient_on_a_zero_row_is_zero_and_elsewhere_x_over_norm():
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    grad = cr.grad(lambda y: cr.sum(cr.norm(y, axis=1)))(x)
    np.testing.assert_array_equal(grad, [[0.0, 0.0], [0.6, 0.8]])


def test_norm_one_gives_zero_to_a_zero_element():
    np.testing.assert_array_equal(cr.grad(lambda y: cr.norm(y, 1))(np.array([0.0, -2.0, 1.0])),
                                  [0.0, -1.0, 1.0])


def test_norm_neither_overflows_nor_underflows():
    for scale in (1e200, 1e-200):
        x = np.array([3.0, 4.0]) * scale
        np.testing.assert_allclose(cr.norm(x), 5.0 * scale, rtol=1e-15)
        np.testing.assert_allclose(cr.norm(x, 3), np.cbrt(91.0) * scale, rtol=1e-14)
        np.testing.assert_allclose(cr.grad(cr.norm)(x), [0.6, 0.8], rtol=1e-15)


def test_norm_zero_order_counts_and_carries_no_gradient():
    x = np.array([0.0, 1.5, -2.0, 0.0])
    assert float(cr.norm(x, 0)) == 2.0
    np.testing.assert_array_equal(cr.grad(lambda y: cr.norm(y, 0))(x), np.zeros(4))


def test_norm_errors_name_the_operation_and_the_problem():
    v, m = np.ones(3), np.ones((2, 3))
    with pytest.raises(ValueError, match="norm: invalid order 'fro' for vectors"):
        cr.norm(v, "fro")
    with pytest.raises(ValueError, match="norm: invalid order 3 for matrices"):
        cr.norm(m, 3)
    with pytest.raises(ValueError, match="norm: invalid order 'max' for matrices"):
        cr.norm(m, "max")
    for ord in (2, -2, "nuc"):
        with pytest.raises(NotImplementedError, match="needs singular values"):
            cr.norm(m, ord)
    with pytest.raises(ValueError, match="norm: with ord=1 and no axis, x must be 1-D or 2-D"):
        cr.norm(np.ones((2, 2, 2)), 1)
    with pytest.raises(ValueError, match="norm: axis must name one axis .* or two"):
        cr.norm(np.ones((2, 2, 2)), axis=(0, 1, 2))
    with pytest.raises(ValueError, match="norm: axis -3 is out of range"):
        cr.norm(m, axis=-3)


# ----- cumsum and cumprod -----

@pytest.mark.parametrize("op", [cr.cumsum, cr.cumprod])
def test_cumulative_ops_match_numpy_and_reject_bad_axes(op):
    x = np.random.default_rng(0).standard_normal((2, 3))
    reference = getattr(np, op.__name__)
    for axis in (None, 0, 1, -1):
        np.testing.assert_allclose(op(x, axis), reference(x, axis), rtol=1e-15)
    with pytest.raises(TypeError, match=f"{op.__name__}: axis must be an int or None"):
        op(x, axis=(0, 1))
    with pytest.raises(ValueError, match=f"{op.__name__}: axis 2 is out of range"):
        op(x, axis=2)


# ----- repeat and tile -----

def test_repeat_and_tile_match_numpy():
    x = np.arange(6.0).reshape(2, 3)
    for repeats, axis in [(2, None), (0, 1), ([1, 0, 2], 1), ([3], 0), (np.array([1, 2]), 0)]:
        np.testing.assert_array_equal(cr.repeat(x, repeats, axis), np.repeat(x, repeats, axis))
    for reps in [2, (2, 1), (1, 2, 3), (0, 2), ()]:
        np.testing.assert_array_equal(cr.tile(x, reps), np.tile(x, reps))


def test_repeat_gradient_sums_over_copies():
    grad = cr.grad(lambda y: cr.sum(cr.repeat(y, [3, 0, 1]) * np.arange(4.0)))(np.ones(3))
    np.testing.assert_array_equal(grad, [0.0 + 1.0 + 2.0, 0.0, 3.0])


def test_repeat_and_tile_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="repeat: repeats must be non-negative"):
        cr.repeat(x, -1)
    with pytest.raises(ValueError, match="repeat: 2 repeat counts for axis 1 of length 3"):
        cr.repeat(x, [1, 2], axis=1)
    with pytest.raises(TypeError, match="repeat: repeats must be an int or a 1-D sequence"):
        cr.repeat(x, 1.5)
    with pytest.raises(ValueError, match="repeat: axis 2 is out of range"):
        cr.repeat(x, 2, axis=2)
    with pytest.raises(ValueError, match="tile: reps must be non-negative ints"):
        cr.tile(x, (2, -1))
    with pytest.raises(ValueError, match="tile: reps must be non-negative ints"):
        cr.tile(x, 1.5)


# ----- NumPy dispatch and ndarray-style methods -----

DISPATCHED = [
    (np.prod, {"axis": 1}), (np.cumsum, {}), (np.cumprod, {"axis": 0}),
    (np.var, {"axis": 0, "ddof": 1}), (np.std, {"keepdims": True}),
    (np.repeat, {"repeats": 2, "axis": 1}), (np.tile, {"reps": (2, 1)}),
    (np.linalg.norm, {"axis": 1}),
]


@pytest.mark.parametrize("func,kwargs", DISPATCHED, ids=lambda f: getattr(f, "__name__", ""))
def test_numpy_functions_on_tensors_stay_on_the_graph(func, kwargs):
    data = np.arange(1.0, 7.0).reshape(2, 3)
    t = cr.tensor(data, requires_grad=True)
    out = func(t, **kwargs)
    assert isinstance(out, cr.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, func(data, **kwargs), rtol=1e-15)


def test_tensor_methods():
    data = np.array([[1.0, 2.0, 0.0], [4.0, 5.0, 6.0]])
    t = cr.tensor(data, requires_grad=True)
    pairs = [
        (t.prod(1), data.prod(1)), (t.prod(), data.prod()),
        (t.var(ddof=1), data.var(ddof=1)), (t.std(0, keepdims=True), data.std(0, keepdims=True)),
        (t.cumsum(), data.cumsum()), (t.cumprod(1), data.cumprod(1)),
        (t.repeat(2, axis=0), data.repeat(2, axis=0)), (t.repeat([1, 2, 0], 1),
                                                        data.repeat([1, 2, 0], 1)),
    ]
    for out, expected in pairs:
        assert out.requires_grad
        np.testing.assert_allclose(out.data, expected, rtol=1e-15)


# ----- softmax and log_softmax against their composite twins -----

def softmax_twin(x, axis=-1):
    return cr.exp(x - cr.logsumexp(x, axis=axis, keepdims=True))


def log_softmax_twin(x, axis=-1):
    return x - cr.logsumexp(x, axis=axis, keepdims=True)


TWINS = [(cr.softmax, softmax_twin), (cr.log_softmax, log_softmax_twin)]


@pytest.mark.parametrize("fused,twin", TWINS, ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [-1, 0, (0, 2), None])
def test_fused_rules_match_the_composite_twin_to_second_order(fused, twin, axis):
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=(2, 3, 2)) + 500.0  # offset: both must shift by the max
    w = rng.standard_normal(x.shape)
    v = rng.standard_normal(x.shape)
    # the twin subtracts two numbers near 500: absolute agreement to ~500 ulps of 1
    np.testing.assert_allclose(fused(x, axis), twin(x, axis), rtol=1e-12, atol=1e-12)

    def grad_of(f):
        return cr.grad(lambda y: cr.sum(f(y, axis) * w))

    np.testing.assert_allclose(grad_of(fused)(x), grad_of(twin)(x), rtol=1e-10, atol=1e-13)
    hvp = [cr.grad(lambda y, f=f: cr.sum(grad_of(f)(y) * v))(x) for f in (fused, twin)]
    np.testing.assert_allclose(hvp[0], hvp[1], rtol=1e-9, atol=1e-12)


def test_softmax_does_not_overflow():
    x = np.array([1000.0, 1001.0, -1000.0])
    out = cr.softmax(x)
    assert np.all(np.isfinite(out)) and abs(out.sum() - 1.0) < 1e-15
    np.testing.assert_allclose(cr.log_softmax(x), (x - 1001.0) - np.log1p(np.exp(-1.0)),
                               rtol=1e-15)
    for f in (cr.softmax, cr.log_softmax):
        assert np.all(np.isfinite(cr.grad(lambda y, f=f: f(y)[1])(x)))


def test_softmax_of_minus_infinity_is_zero_with_a_finite_gradient():
    x = np.array([-INF, 0.0, 1.0])
    assert cr.softmax(x)[0] == 0.0
    assert np.all(np.isfinite(cr.grad(lambda y: cr.softmax(y)[2])(x)))


@pytest.mark.parametrize("op", [cr.softmax, cr.log_softmax])
def test_softmax_axis_errors(op):
    with pytest.raises(ValueError, match=f"{op.__name__}: axis 1 is out of range"):
        op(np.ones(3), axis=1)


def test_norm_and_std_at_zero_follow_the_subgradient_policy():
    zero, flat = np.zeros(2), np.ones(2)
    with cr.subgradient_policy("jax"):  # jnp's sqrt of a sum gives nan there
        assert np.all(np.isnan(cr.grad(cr.norm)(zero)))
        assert np.all(np.isnan(cr.grad(cr.std)(flat)))
        np.testing.assert_allclose(cr.grad(cr.norm)(flat), np.sqrt([0.5, 0.5]), rtol=1e-15)
    np.testing.assert_array_equal(cr.grad(cr.norm)(zero), [0.0, 0.0])
    np.testing.assert_array_equal(cr.grad(cr.std)(flat), [0.0, 0.0])
