"""The reductions' NumPy fast paths (ufunc.reduce without numpy's Python wrappers) give
exactly what xp.sum, xp.mean and xp.max give: same values to the bit, same dtypes,
for every dtype, axis and keepdims, 0-d and empty arrays included."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.ops.activations import _log_softmax_impl
from chainrule.ops.reductions import _mean_impl, _sum_impl
from chainrule.ops.shape import _sum_to_impl

DTYPES = [np.float32, np.float64, np.float16, np.int32, np.bool_, np.complex64]


def _same(got, want):
    assert type(got) is type(want) or (np.ndim(got) == 0 and np.ndim(want) == 0)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got, want)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(DTYPES), st.lists(st.integers(0, 5), max_size=3), st.data())
def test_sum_and_mean_impls_are_numpys(dtype, shape, data):
    x = (np.random.default_rng(len(shape)).standard_normal(shape) * 100).astype(dtype)
    axes = data.draw(st.sampled_from([None, *range(-len(shape), len(shape)),
                                      tuple(range(len(shape)))]))
    keepdims = data.draw(st.booleans())
    _same(_sum_impl(x, axis=axes, keepdims=keepdims), np.sum(x, axis=axes, keepdims=keepdims))
    with warnings.catch_warnings():  # NumPy warns of an empty mean; both paths do
        warnings.simplefilter("ignore")
        want = np.mean(x, axis=axes, keepdims=keepdims)
        got = _mean_impl(x, axis=axes, keepdims=keepdims)
    _same(got, want)


def test_mean_in_float32_rounds_as_numpy_does():
    # many float32 numbers: the sum's rounding and the division's, exactly NumPy's
    x = np.random.default_rng(0).standard_normal((513, 37)).astype(np.float32) * 1e3
    for axis in (None, 0, 1, (0, 1)):
        _same(_mean_impl(x, axis=axis), np.mean(x, axis=axis))
    _same(cr.mean(cr.tensor(x)).numpy(), np.mean(x))


@pytest.mark.parametrize("shape, target", [((64, 128), (128,)), ((4, 3, 5), (3, 1)),
                                           ((5, 7, 30, 40), (30, 40)),
                                           ((2, 3, 40, 50), (1, 3, 1, 1)), ((3,), (3,))])
def test_sum_to_is_numpys_sum(shape, target):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    lead = len(shape) - len(target)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(target)
                                      if n == 1 and shape[lead + i] != 1)
    want = np.sum(x.astype(np.float64), axis=axes, keepdims=True).reshape(target) if axes else x
    # any order of float32 additions is within (terms - 1) * eps * sum |x| of the exact sum
    # (the leading axes are one BLAS matrix-vector product, not NumPy's reduction)
    terms = x.size // int(np.prod(target))
    bound = np.sum(np.abs(x), axis=axes, keepdims=True).reshape(target) if axes else 0
    got = _sum_to_impl(x, target)
    assert np.all(np.abs(got - want) <= (terms - 1) * np.finfo(np.float32).eps * bound)
    assert got.dtype == np.float32 and got.shape == target


def test_log_softmax_impl_is_the_formula():
    """The formula with NumPy's own max and sum, rows with +inf and all -inf included."""
    x = np.random.default_rng(2).standard_normal((7, 5)).astype(np.float32)
    x[0, 1], x[1] = np.inf, -np.inf
    with np.errstate(all="ignore"):
        got = _log_softmax_impl(x, -1)
        peak = np.max(x, axis=-1, keepdims=True)
        z = x - np.where(np.isfinite(peak), peak, 0.0)
        want = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float32
