"""The batching rule of matmul against a Python loop and torch.func.vmap: every
combination of mapped and shared operands (vectors, matrices, stacks of matrices,
one-column times one-row products), every mapped axis, float32 kept float32, and
the derivatives through it (per-example weight gradients are its outer products)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

BATCH = 3


@st.composite
def _operands(draw):
    """Shapes of one example's x and y that matmul accepts, which of them are mapped
    (at least one) and on which axis, and a dtype."""
    k = draw(st.sampled_from([1, 1, 2, 3]))  # k == 1: an outer product, no sum
    m, p, b = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 2))
    sx = draw(st.sampled_from([(k,), (m, k), (b, m, k), (1, m, k)]))
    sy = draw(st.sampled_from([(k,), (k, p), (b, k, p), (1, k, p)]))
    mapped = draw(st.sampled_from([(True, True), (True, False), (False, True)]))
    axes = tuple(draw(st.integers(0, len(s))) if on else None
                 for s, on in zip((sx, sy), mapped))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return sx, sy, axes, dtype


def _stacked(rng, shape, axis, dtype):
    """BATCH examples of ``shape`` stacked on ``axis`` (one example when not mapped)."""
    if axis is None:
        return rng.standard_normal(shape).astype(dtype)
    return np.moveaxis(rng.standard_normal((BATCH, *shape)).astype(dtype), 0, axis)


def _example(a, axis, k):
    return a if axis is None else np.take(a, k, axis=axis)


def _tol(dtype):
    return dict(rtol=1e-12, atol=1e-13) if dtype == np.float64 else dict(rtol=2e-6, atol=2e-6)


@settings(max_examples=60, deadline=None)
@given(_operands(), st.sampled_from([0, -1]), st.integers(0, 2**31))
def test_matmul_under_vmap_against_a_loop_and_torch(case, out_axis, seed):
    sx, sy, axes, dtype = case
    rng = np.random.default_rng(seed)
    x, y = _stacked(rng, sx, axes[0], dtype), _stacked(rng, sy, axes[1], dtype)
    got = cr.vmap(cr.matmul, in_axes=axes, out_axes=out_axis)(x, y)
    loop = np.stack([np.matmul(_example(x, axes[0], k), _example(y, axes[1], k))
                     for k in range(BATCH)], axis=out_axis)
    assert got.shape == loop.shape and got.dtype == loop.dtype == dtype
    np.testing.assert_allclose(got, loop, **_tol(dtype))
    want = torch.func.vmap(torch.matmul, in_dims=axes, out_dims=out_axis)(
        torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(got, want.numpy(), **_tol(dtype))


@settings(max_examples=40, deadline=None)
@given(_operands(), st.integers(0, 2**31))
def test_gradients_through_matmul_under_vmap_against_a_loop(case, seed):
    """vmap(grad) with both operands differentiated: the cotangents are matmuls of
    every layout again, outer products among them."""
    sx, sy, axes, dtype = case
    rng = np.random.default_rng(seed)
    x, y = _stacked(rng, sx, axes[0], dtype), _stacked(rng, sy, axes[1], dtype)

    def loss(a, b):
        return cr.sum(cr.sin(a @ b))

    gx, gy = cr.vmap(cr.grad(loss, argnums=(0, 1)), in_axes=axes)(x, y)
    for k in range(BATCH):
        wx, wy = cr.grad(loss, argnums=(0, 1))(_example(x, axes[0], k),
                                                _example(y, axes[1], k))
        np.testing.assert_allclose(gx[k], wx, **_tol(dtype))
        np.testing.assert_allclose(gy[k], wy, **_tol(dtype))
        assert gx.dtype == gy.dtype == dtype


@pytest.mark.parametrize("axes", [(0, 0), (0, None), (None, 0)])
def test_a_one_column_matmul_with_a_mismatched_inner_axis_is_refused(axes):
    """x (3, 1) @ y (3, 4) is no product (1 != 3); it used to come out as the
    broadcast x * y, a (3, 4) array of wrong numbers, when x was mapped."""
    x, y = np.ones((2, 3, 1)), np.ones((2, 3, 4))
    x = x if axes[0] == 0 else x[0]
    y = y if axes[1] == 0 else y[0]
    with pytest.raises(ValueError, match="matmul: .*inner dimensions differ"):
        cr.vmap(cr.matmul, in_axes=axes)(x, y)


def test_outer_products_give_the_zeros_a_loop_of_matmuls_gives():
    """A one-column times one-row product is the loop's matmul to the sign of a zero:
    (-1) * 0 is +0 there (a sum that starts at zero), not the -0 of a plain multiply."""
    x = np.array([[[-1.0], [2.0]], [[-0.0], [3.0]]], dtype=np.float32)
    y = np.array([[[0.0, -3.0]], [[5.0, -0.0]]], dtype=np.float32)
    for axes in [(0, 0), (0, None), (None, 0)]:
        xs = x if axes[0] == 0 else x[0]
        ys = y if axes[1] == 0 else y[0]
        got = cr.vmap(cr.matmul, in_axes=axes)(xs, ys)
        loop = np.stack([np.matmul(xs[k] if axes[0] == 0 else xs,
                                   ys[k] if axes[1] == 0 else ys) for k in range(2)])
        np.testing.assert_array_equal(got, loop)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(loop))
        assert got.dtype == np.float32


def test_per_example_gradients_of_a_float32_mlp_match_a_loop_and_torch():
    """The benchmark's setting (benchmarks/bench_transforms.py), small: float32 stays
    float32 and each example's gradient is the loop's."""
    torch.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(6, 12), cr.nn.ReLU(), cr.nn.Linear(12, 3))
    params = {k: v.numpy() for k, v in model.named_parameters()}
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((5, 6)).astype(np.float32)
    ys = rng.integers(0, 3, size=5)

    def loss(p, x, y):
        logits = cr.nn.functional_call(model, p, (x[None],))
        return cr.nn.functional.cross_entropy(logits, y[None])

    got = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
    tmodel = torch.nn.Sequential(torch.nn.Linear(6, 12), torch.nn.ReLU(),
                                 torch.nn.Linear(12, 3))

    def tloss(p, x, y):
        return torch.nn.functional.cross_entropy(
            torch.func.functional_call(tmodel, p, (x[None],)), y[None])

    want = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))(
        {k: torch.tensor(v) for k, v in params.items()}, torch.tensor(xs), torch.tensor(ys))
    for k in range(5):
        one = cr.grad(loss)(params, xs[k], ys[k])
        for name in params:
            assert got[name].dtype == np.float32
            np.testing.assert_allclose(got[name][k], one[name], rtol=1e-5, atol=1e-6)
    for name in params:
        np.testing.assert_allclose(got[name], want[name].numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("inner", [(0, 0), (0, None), (None, 0)])
@pytest.mark.parametrize("outer", [(0, 0), (0, None), (None, 0)])
def test_nested_vmaps_of_matmul_and_their_gradients(inner, outer):
    """Under two vmaps the inner rule sees stacks of the outer one (traced values):
    every layout of both against a double loop, and jacfwd through them."""
    rng = np.random.default_rng(3)
    shape = {(True, True): (2, 3), (True, False): (2,), (False, True): (3,),
             (False, False): ()}
    x = rng.standard_normal((*shape[outer[0] == 0, inner[0] == 0], 4, 1))
    y = rng.standard_normal((*shape[outer[1] == 0, inner[1] == 0], 1, 5))
    f = cr.vmap(cr.vmap(cr.matmul, in_axes=inner), in_axes=outer)
    got = f(x, y)

    def pick(a, mapped_outer, mapped_inner, i, j):
        a = a[i] if mapped_outer else a
        return a[j] if mapped_inner else a

    loop = np.stack([np.stack([pick(x, outer[0] == 0, inner[0] == 0, i, j)
                               @ pick(y, outer[1] == 0, inner[1] == 0, i, j)
                               for j in range(3)]) for i in range(2)])
    np.testing.assert_allclose(got, loop, rtol=1e-14, atol=1e-15)
    jac = cr.jacfwd(lambda x: f(x, y))(x)  # one more level of stacks: the basis tangents
    want = cr.jacfwd(lambda x: np.stack([np.stack([
        cr.matmul(pick(x, outer[0] == 0, inner[0] == 0, i, j),
                  pick(y, outer[1] == 0, inner[1] == 0, i, j)) for j in range(3)])
        for i in range(2)]))(x)
    np.testing.assert_allclose(jac, want, rtol=1e-14, atol=1e-15)
