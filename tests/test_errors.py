"""Bad input fails early with a message naming the operation and the shapes or dtypes."""

import numpy as np
import pytest

import chainrule as cr


def test_incompatible_broadcasting_names_the_operation_and_shapes():
    a = cr.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"add.*float64\[3\].*float64\[4\]"):
        a + cr.tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"multiply.*float32\[2, 3\].*float64\[2\]"):
        cr.tensor(np.ones((2, 3), np.float32)) * np.ones(2)


def test_matmul_shape_mismatch():
    with pytest.raises(ValueError, match=r"matmul.*float64\[2, 3\].*float64\[4, 2\]"):
        cr.tensor(np.ones((2, 3))) @ cr.tensor(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"matmul.*\[3\].*\[2\]"):
        cr.matmul(np.ones(3), cr.tensor(np.ones(2)))


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = cr.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward.*shape \(3,\).*gradient="):
        (x * 2).backward()


def test_backward_gradient_of_the_wrong_shape():
    x = cr.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"backward: gradient has shape \(4,\).*\(3,\)"):
        (x * 2).backward(np.ones(4))
    with pytest.raises(ValueError, match=r"gradient has shape \(1, 3\)"):
        (x * 2).backward(cr.tensor(np.ones((1, 3))))


def test_backward_of_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="backward: this tensor does not require grad"):
        cr.tensor(1.0).backward()
    x = cr.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x > 0.5).backward()  # a comparison is off the graph


def test_gradient_for_an_integer_input():
    with pytest.raises(TypeError, match="requires_grad.*dtype int64"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match=r"grad: argument 0 has dtype int64.*write 3\.0"):
        cr.grad(lambda x: x * 2.0)(3)
    with pytest.raises(TypeError, match="grad: argument 1 has dtype int32"):
        cr.grad(lambda x, n: x * n, argnums=1)(2.0, np.int32(3))
    with pytest.raises(TypeError, match="grad: argument 0 has dtype int64"):
        cr.grad(lambda x: cr.sum(x * 2.0))(cr.tensor([1, 2]))
    with pytest.raises(TypeError, match="vjp: argument 0 has dtype bool"):
        cr.vjp(lambda x: x, np.array([True]))


def test_grad_of_a_function_returning_a_non_scalar():
    with pytest.raises(TypeError, match=r"grad: the function must return a scalar.*\(3,\)"):
        cr.grad(lambda x: x * 2.0)(np.ones(3))
    with pytest.raises(TypeError, match="floating scalar.*int64"):
        cr.grad(lambda x: 1)(1.0)
    with pytest.raises(TypeError, match="floating scalar.*NoneType"):
        cr.grad(lambda x: None)(1.0)


@pytest.mark.parametrize("argnums", [2, -3, (0, 2)])
def test_out_of_range_argnums(argnums):
    with pytest.raises(ValueError, match=r"grad: argnums=.*out of range.*2 positional"):
        cr.grad(lambda x, y: x * y, argnums=argnums)(1.0, 2.0)


def test_empty_argnums_and_bad_aux():
    with pytest.raises(ValueError, match="argnums is empty"):
        cr.grad(lambda x: x, argnums=())(1.0)
    with pytest.raises(TypeError, match=r"has_aux=True.*pair"):
        cr.grad(lambda x: x * 2.0, has_aux=True)(1.0)


def test_vjp_cotangent_of_the_wrong_shape():
    _, vjp_fn = cr.vjp(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(ValueError, match=r"vjp: the cotangent has shape \(2,\).*\(3,\)"):
        vjp_fn(np.ones(2))


@pytest.mark.parametrize("call, name", [
    (lambda t: np.fft.fft(t), "numpy.fft.fft"),
    (lambda t: np.add.reduce(t), "numpy.add.reduce"),
    (lambda t: np.fmod(t, 2.0), "numpy.fmod"),
    (lambda t: np.histogram(t), "numpy.histogram"),
])
def test_an_unsupported_numpy_function_on_a_tensor(call, name):
    t = cr.tensor(np.ones(4), requires_grad=True)
    with pytest.raises(TypeError, match=rf"{name} has no chainrule rule.*gradient"):
        call(t)


def test_an_index_out_of_range_names_getitem():
    with pytest.raises(IndexError, match=r"getitem.*float64\[3\].*out of bounds"):
        cr.tensor(np.ones(3), requires_grad=True)[5]


def test_tensor_of_python_objects():
    with pytest.raises(TypeError, match="tensor: cannot hold Python objects"):
        cr.tensor([object()])
