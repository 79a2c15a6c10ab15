"""NumPy functions and operators on tensors stay on the graph, or refuse clearly."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import elementary


def _leaf(values):
    return cr.tensor(np.asarray(values, dtype=float), requires_grad=True)


def test_np_sin_is_on_the_graph():
    x = _leaf([0.1, 0.2])
    y = np.sin(x)
    assert isinstance(y, cr.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.cos([0.1, 0.2]))


@pytest.mark.parametrize("name", [n for n in elementary.__all__ if n != "arctan2"
                                  and isinstance(getattr(np, n, None), np.ufunc)])
def test_every_numpy_ufunc_with_a_rule_dispatches(name):
    x = _leaf([0.3, 0.6])
    y = getattr(np, name)(x)
    assert isinstance(y, cr.Tensor) and y.requires_grad
    np.testing.assert_allclose(y.data, getattr(cr, name)(x.data))


def test_np_sum_with_axis():
    x = _leaf(np.arange(6.0).reshape(2, 3))
    y = np.sum(x, axis=0)
    assert isinstance(y, cr.Tensor) and y.shape == (3,)
    np.testing.assert_array_equal(y.data, [3.0, 5.0, 7.0])
    (y * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 2.0, 3.0]] * 2)
    assert isinstance(np.mean(x, axis=1, keepdims=True), cr.Tensor)


def test_np_dot_or_matmul():
    a, b = _leaf([[1.0, 2.0], [3.0, 4.0]]), _leaf([0.5, -1.0])
    product = np.dot if hasattr(cr, "dot") else np.matmul
    y = product(a, b)
    assert isinstance(y, cr.Tensor)
    np.testing.assert_array_equal(y.data, [-1.5, -2.5])
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[0.5, -1.0]] * 2)
    np.testing.assert_array_equal(b.grad.data, [4.0, 6.0])


def test_np_where():
    a, b = _leaf([1.0, 2.0, 3.0]), _leaf([10.0, 20.0, 30.0])
    y = np.where(a > 1.5, a * 2, b)
    assert isinstance(y, cr.Tensor)
    np.testing.assert_array_equal(y.data, [10.0, 4.0, 6.0])
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 2.0, 2.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 0.0, 0.0])


def test_np_maximum():
    a = _leaf([1.0, 5.0])
    y = np.maximum(a, 2.0)
    assert isinstance(y, cr.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [2.0, 5.0])
    np.testing.assert_array_equal(a.grad.data, [0.0, 1.0])


OPS = {
    "add": (lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    "sub": (lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a)),
    "div": (lambda a, b: a / b, lambda a, b: (1 / b, -a / b**2)),
    "pow": (lambda a, b: a ** b, lambda a, b: (b * a ** (b - 1), a**b * np.log(a))),
}


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("tensor_side", [0, 1])
def test_arithmetic_between_ndarray_and_tensor_in_both_orders(name, tensor_side):
    op, partials = OPS[name]
    values = [np.array([1.5, 2.0]), np.array([0.5, 3.0])]
    x = cr.tensor(values[tensor_side], requires_grad=True)
    operands = list(values)
    operands[tensor_side] = x
    y = op(*operands)
    assert isinstance(y, cr.Tensor) and y.requires_grad
    np.testing.assert_allclose(y.data, op(*values))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, partials(*values)[tensor_side])


def test_matmul_between_ndarray_and_tensor_in_both_orders():
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = _leaf([1.0, -1.0])
    for y in (m @ x, x @ m):
        assert isinstance(y, cr.Tensor) and y.requires_grad
    (m @ x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, m.sum(axis=0))


def test_numpy_scalars_with_tensors():
    x = _leaf([1.0, 2.0])
    y = np.float64(3.0) * x + np.float64(1.0)
    assert isinstance(y, cr.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    assert (np.float32(2.0) * cr.tensor(np.ones(2, np.float32))).dtype == np.float32


def test_unsupported_numpy_functions_raise_naming_the_function():
    x = _leaf([3.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="numpy.fft.fft"):
        np.fft.fft(x)
    with pytest.raises(TypeError, match=r"numpy\.add\.reduce"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match=r"numpy\.multiply\.outer"):
        np.multiply.outer(x, x)
    if "sort" not in cr.ops.__all__:
        with pytest.raises(TypeError, match="numpy.sort"):
            np.sort(x)
    with pytest.raises(TypeError, match="out="):
        np.sin(x, out=np.empty(3))


def test_np_asarray_gives_the_data():
    x = cr.tensor([1.0, 2.0])  # np.asarray of a tensor that requires grad is refused
    a = np.asarray(x)
    assert type(a) is np.ndarray and a.dtype == np.float64
    np.testing.assert_array_equal(a, [1.0, 2.0])
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    copy = np.array(x)
    copy[0] = 99.0
    assert x.data[0] == 1.0  # np.array copies
    assert np.shape(x) == (2,) and np.ndim(x) == 1
