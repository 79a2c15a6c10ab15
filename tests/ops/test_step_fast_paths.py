"""NumPy fast paths of a training step's rules, against PyTorch and the general paths.

log_softmax along a last axis (the maximum over a transposed copy, the sums as one
matrix-vector product) and its reverse rule; a cotangent summed over leading axes (a
bias's gradient, one matrix-vector product); mean's cotangent over every axis; the NaN
check of a sweep's results; an optimizer's in-place update.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.ops.activations import _log_softmax_impl, _shifted
from chainrule.ops.shape import _sum_to_impl
from chainrule.reverse import _has_nan

LAYOUTS = ["c", "transposed", "sliced"]


def _laid_out(a, layout):
    """``a``'s values in a C-ordered array, a transposed view or a strided slice."""
    if layout == "transposed":
        return np.ascontiguousarray(a.T).T
    if layout == "sliced":
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    return np.ascontiguousarray(a)


def _general_log_softmax(x, axis):
    z = _shifted(x, axis)
    return z - np.log(np.add.reduce(np.exp(z), axis=axis, keepdims=True))


# rows <= 16 < rows and last axes <= 16 < n take the two ways to the maximum
@pytest.mark.parametrize("shape", [(7,), (40,), (1, 5), (3, 10), (64, 10), (17, 3), (20, 40),
                                   (2, 9, 10), (4, 5, 17), (33, 1), (1, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_log_softmax_on_a_last_axis_is_pytorchs(shape, dtype, layout):
    rng = np.random.default_rng(sum(shape))
    # each row far from the others: shifted by another row's maximum, exp would overflow
    offsets = rng.uniform(-80, 80, shape[:-1] + (1,))
    x = _laid_out((rng.standard_normal(shape) * 5 + offsets).astype(dtype), layout)
    got = cr.log_softmax(x)
    want = torch.log_softmax(torch.tensor(np.array(x)), -1).numpy()
    assert got.dtype == dtype and got.shape == shape
    tol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 10)

    w = rng.standard_normal(shape).astype(dtype)
    g = cr.grad(lambda y: cr.sum(cr.log_softmax(y) * w))(x)
    xt = torch.tensor(np.array(x), requires_grad=True)
    (torch.log_softmax(xt, -1) * torch.tensor(w)).sum().backward()
    assert g.dtype == dtype
    np.testing.assert_allclose(g, xt.grad.numpy(), rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("special", [np.inf, np.nan, "row of -inf"])
@pytest.mark.parametrize("rows", [3, 20])
def test_log_softmax_rows_with_no_finite_maximum_take_the_general_path(special, rows):
    x = np.random.default_rng(0).standard_normal((rows, 4)).astype(np.float32)
    if special == "row of -inf":
        x[1] = -np.inf
    else:
        x[1, 2] = special
    with np.errstate(all="ignore"):
        want = _general_log_softmax(x, 1)
        got = _log_softmax_impl(x, 1)
    np.testing.assert_array_equal(got, want)  # NaN where the general path has NaN


@pytest.mark.parametrize("rows", [3, 20])
def test_log_softmax_of_minus_infinity_beside_finite_numbers(rows):
    x = np.random.default_rng(0).standard_normal((rows, 4)).astype(np.float32)
    x[1, 2] = -np.inf
    got = cr.log_softmax(x)
    assert got[1, 2] == -np.inf
    np.testing.assert_allclose(got, torch.log_softmax(torch.tensor(x), -1), rtol=1e-6)
    g = cr.grad(lambda y: cr.sum(cr.log_softmax(y)[:, 0]))(x)
    assert np.all(np.isfinite(g)) and g[1, 2] == 0


def test_log_softmax_squares_too_large_for_float32_still_give_the_right_numbers():
    x = np.array([[3e19, 3e19 - 1e13, 0.0]] * 20, np.float32)  # the check's square overflows
    np.testing.assert_allclose(cr.log_softmax(x), torch.log_softmax(torch.tensor(x), -1),
                               rtol=1e-6)


def test_log_softmax_of_a_traced_batch_and_a_second_derivative():
    # tensors (create_graph) take the general rule; the fast one only sees arrays
    x = np.random.default_rng(1).standard_normal((20, 3))
    v = np.random.default_rng(2).standard_normal((20, 3))

    def loss(y):
        return cr.sum(cr.log_softmax(y)[:, 0])

    hvp = cr.grad(lambda y: cr.sum(cr.grad(loss)(y) * v))(x)
    xt = torch.tensor(x, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.log_softmax(xt, -1)[:, 0].sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), xt)
    np.testing.assert_allclose(hvp, ht.numpy(), rtol=1e-10, atol=1e-12)


leading = st.sampled_from([((64, 128), (128,)), ((64, 10), (10,)), ((3, 4, 5), (5,)),
                           ((2, 3, 4, 5), (4, 5)), ((1, 7), (7,)), ((300, 2), (2,)),
                           ((0, 3), (3,)), ((3, 0), (0,)), ((4, 3), ())])


@settings(max_examples=40, deadline=None)
@given(leading, st.sampled_from([np.float32, np.float64, np.float16, np.int32,
                                 np.complex64]),
       st.sampled_from(LAYOUTS), st.integers(0, 2 ** 31 - 1))
def test_a_sum_over_leading_axes_is_the_sum(case, dtype, layout, seed):
    shape, target = case
    x = np.random.default_rng(seed).standard_normal(shape) * 10
    x = _laid_out(x.astype(dtype), layout) if x.ndim else x.astype(dtype)
    lead = tuple(range(len(shape) - len(target)))
    got = _sum_to_impl(x, target)
    want = np.sum(x, axis=lead)
    assert np.asarray(got).dtype == want.dtype and np.shape(got) == target
    if dtype in (np.float32, np.float64):  # any order of additions is this close
        exact = np.sum(np.array(x, np.float64), axis=lead)
        bound = np.sum(np.abs(np.array(x, np.float64)), axis=lead)
        terms = max(x.size // max(int(np.prod(target)), 1), 1)
        assert np.all(np.abs(got - exact) <= terms * np.finfo(dtype).eps * bound)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-3 if dtype == np.float16 else 1e-6)


def test_a_bias_gradient_is_pytorchs_in_float32():
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((64, 20), (20, 30), (30,)))
    gb = cr.grad(lambda b: cr.sum(cr.tanh(x @ w + b) ** 2))(b)
    bt = torch.tensor(b, requires_grad=True)
    (torch.tanh(torch.tensor(x) @ torch.tensor(w) + bt) ** 2).sum().backward()
    assert gb.dtype == np.float32
    np.testing.assert_allclose(gb, bt.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (2, 0, 3), (2, 3, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_gradient_of_a_mean_over_every_axis(shape, dtype):
    x = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    t = cr.tensor(x, requires_grad=True)
    loss = -cr.mean(t) * 3
    loss.backward()
    assert t.grad.dtype == dtype and t.grad.shape == shape
    np.testing.assert_allclose(t.grad.numpy(), np.full(shape, -3 / max(x.size, 1), dtype),
                               rtol=1e-6)
    t.grad.numpy()[...] = 0 if x.size else 0  # the gradient is writable memory of its own


@pytest.mark.parametrize("value", [np.nan, np.inf, 1.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_the_nan_check_of_vectors_and_complex_arrays(value, dtype):
    for n in (1, 5, 4000):
        a = np.ones(n, dtype)
        a[n // 2] = value
        assert _has_nan({0: (None, a)}) == (value != value)
        assert _has_nan({0: (None, np.ones(3)), 1: (None, a[::-1])}) == (value != value)


@pytest.mark.parametrize("op", ["-=", "+="])
@pytest.mark.parametrize("other", ["array", "float", "float64 array", "tensor", "int", "list"])
def test_an_in_place_update_changes_the_parameter_as_numpy_would(op, other):
    rng = np.random.default_rng(5)
    start = rng.standard_normal((3, 4)).astype(np.float32)
    g = rng.standard_normal((3, 4)).astype(np.float32)
    value = {"array": g, "float": 0.25, "float64 array": g.astype(np.float64),
             "tensor": cr.tensor(g), "int": 2, "list": [1.0, 2.0, 3.0, 4.0]}[other]
    p = cr.tensor(start.copy(), requires_grad=True)
    before = p._version
    with cr.no_grad():
        if op == "-=":
            p -= value
        else:
            p += value
    want = start.copy()
    raw = value.numpy() if isinstance(value, cr.Tensor) else value
    if op == "-=":
        want -= raw
    else:
        want += raw
    np.testing.assert_array_equal(p.numpy(), want)
    assert p.dtype == np.float32 and p._version != before
    assert not p.data.flags.writeable  # a parameter's array is read-only again


@pytest.mark.parametrize("shape", [(64, 10), (20, 40), (2, 9, 10)])
def test_log_softmax_gradient_on_arrays_has_the_recorded_formulas_bits(shape):
    # eager rules on arrays and a jitted (traced) sweep must agree to the bit, as
    # `chainrule train --jit` does against the eager run
    rng = np.random.default_rng(6)
    x, w = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))

    def f(y):
        return cr.sum(cr.log_softmax(y) * w)

    np.testing.assert_array_equal(cr.grad(f)(x), cr.jit(cr.grad(f))(x))
