"""x ** 2 of a one-element float64 tensor is computed in a Python float, and its
gradient's partial 2x on a NumPy scalar: both must give NumPy's bits, its dtype
and its floating-point errors exactly (guards for those shortcuts)."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

import chainrule as cr

TINY = np.finfo(np.float64).tiny
EDGES = [0.0, -0.0, 1.0, -2.5, TINY, -TINY, 1e-154, 1e-160, 1.4e154, 1e155, 1e308,
         np.inf, -np.inf, np.nan, 5e-324, 3.0]


def same_array(got, want):
    want = np.asarray(want)
    assert type(got) is np.ndarray
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes(), (got, want)


def quiet(f, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args)


@given(x=st.one_of(st.sampled_from(EDGES), st.floats(allow_nan=True, allow_infinity=True)))
@example(x=1.5)
def test_square_of_a_float64_scalar_is_numpys(x):
    t = cr.tensor(x, requires_grad=True)
    same_array(quiet(lambda: t ** 2).data, quiet(np.square, np.array(x))[...])
    same_array(quiet(cr.square, cr.tensor(x)).data, quiet(np.square, np.array(x))[...])


@given(x=st.one_of(st.sampled_from(EDGES), st.floats(allow_nan=True, allow_infinity=True)))
def test_square_gradient_of_a_float64_scalar_is_numpys(x):
    t = cr.tensor(x, requires_grad=True)
    quiet(lambda: (t ** 2).backward())
    same_array(t.grad.data, quiet(np.add, np.array(x), np.array(x)))
    g = quiet(cr.grad(lambda v: v ** 2), x)
    assert np.asarray(g).tobytes() == np.asarray(quiet(np.add, x, x)).tobytes()


@pytest.mark.parametrize("x,kind", [(1e200, "over"), (1e-200, "under"), (TINY, "under")])
def test_square_reports_floating_point_errors_as_numpy(x, kind):
    with np.errstate(all="ignore", **{kind: "raise"}):
        with pytest.raises(FloatingPointError):
            np.square(np.array(x))
        with pytest.raises(FloatingPointError):
            cr.tensor(x, requires_grad=True) ** 2


def test_square_gradient_overflow_warns_as_numpy():
    t = cr.tensor(1e308, requires_grad=True)
    y = quiet(lambda: t ** 2)
    with np.errstate(over="warn"), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y.backward()
    assert any(issubclass(r.category, RuntimeWarning) for r in w)
    assert t.grad.data == np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_square_of_other_float_scalars_keeps_their_dtype(dtype):
    x = np.array(1.5, dtype=dtype)
    t = cr.tensor(x, requires_grad=True)
    y = t ** 2
    same_array(y.data, np.square(x)[...])
    y.backward()
    same_array(t.grad.data, x + x)
    u = torch.tensor(x, requires_grad=True)
    (u ** 2).backward()
    np.testing.assert_array_equal(t.grad.data, u.grad.numpy())
