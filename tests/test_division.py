"""// and %: NumPy's floor division and remainder on tensors, with their derivatives."""

import numpy as np

import chainrule as cr

X = np.array([7.5, -3.2, 2.0])


def test_floor_divide_matches_numpy_and_is_a_constant():
    x = cr.tensor(X, requires_grad=True)
    for out in (x // 2.0, np.floor_divide(x, 2.0), 9.0 // x):
        assert isinstance(out, cr.Tensor) and not out.requires_grad
    np.testing.assert_array_equal((x // 2.0).data, X // 2.0)
    np.testing.assert_array_equal((9.0 // x).data, 9.0 // X)
    # the only route to x is through the floor: its derivative is zero
    np.testing.assert_array_equal(cr.grad(lambda v: cr.sum(v // 2.0 + v))(X), np.ones(3))


def test_remainder_matches_numpy_and_differentiates_between_jumps():
    x = cr.tensor(X, requires_grad=True)
    y = cr.tensor([2.0, 1.5, 3.0], requires_grad=True)
    out = x % y
    np.testing.assert_array_equal(out.data, np.remainder(X, y.data))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones(3))
    np.testing.assert_array_equal(y.grad.data, -np.floor(X / y.data))
    np.testing.assert_array_equal((5.0 % x).data, 5.0 % X)
    _, tangent = cr.jvp(lambda v: v % 2.0, (X,), (np.ones(3),))
    np.testing.assert_array_equal(tangent, np.ones(3))
