"""Rules that call NumPy directly on plain arrays (a first-order sweep) must give what
the same rules give through chainrule operations (on tensors, as create_graph runs them)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.core.primitive import registry


def _through_tensors(rule, g, out, *args, **params):
    wrapped = [cr.tensor(a) for a in (g, out, *args)]
    return np.asarray(rule(*wrapped, **params).data)


@given(st.lists(st.integers(1, 4), min_size=0, max_size=4), st.data())
@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_reduction_rules_on_arrays_equal_the_rules_on_tensors(name, shape, data):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape)
    axes = data.draw(st.sets(st.integers(0, max(len(shape) - 1, 0))) if shape else st.just(set()))
    axis = tuple(sorted(axes)) if axes else None
    keepdims = data.draw(st.booleans())
    prim = registry[name]
    out = prim.impl(x, axis=axis, keepdims=keepdims)
    g = rng.standard_normal(np.shape(out))
    if data.draw(st.booleans()) and np.ndim(g) >= 2:
        g = np.asfortranarray(g)  # not C-contiguous: NumPy's broadcast_to path
    fast = prim.vjps[0](g, out, x, axis=axis, keepdims=keepdims)
    assert fast.shape == x.shape
    if name == "sum":  # the spread cotangent itself: a view that must not be written
        assert not fast.flags.writeable
    want = _through_tensors(prim.vjps[0], g, out, x, axis=axis, keepdims=keepdims)
    assert fast.dtype == want.dtype
    np.testing.assert_array_equal(fast, want)


@pytest.mark.parametrize("xs, ys", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
                                    ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_rules_on_arrays_equal_the_rules_on_tensors(xs, ys, dtype):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ys).astype(dtype)
    out = x @ y
    g = rng.standard_normal(out.shape).astype(dtype)
    for rule in registry["matmul"].vjps:
        fast = np.asarray(rule(g, out, x, y))
        want = _through_tensors(rule, g, out, x, y)
        assert fast.dtype == want.dtype and fast.shape == want.shape
        np.testing.assert_array_equal(fast, want)


def test_a_sum_cotangent_spread_by_a_view_is_copied_before_it_becomes_a_grad():
    x = cr.tensor(np.ones((3, 2)), requires_grad=True)
    x.sum().backward()
    assert x.grad.data.flags.writeable and x.grad.data.base is None
    x.grad.data[0, 0] = 5.0  # the caller's own memory: nothing else changes
    np.testing.assert_array_equal(x.grad.numpy()[1:], 1.0)
