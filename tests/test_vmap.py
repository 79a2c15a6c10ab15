"""cr.vmap against a Python loop and torch.func.vmap: every spec of the primitive
table, compositions with the other transforms, per-example gradients, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.core.primitive import registry
from chainrule.transforms.batching import FALLBACK, RULES
from tests.ops.test_primitives import _all_specs

SPECS = _all_specs()
BATCH = 3


def _stacks(spec, dtype):
    """BATCH independent draws of the spec's arguments, stacked on axis 0."""
    draws = [spec.args(np.random.default_rng(k), 0) for k in range(BATCH)]
    return [np.stack([np.asarray(d[i]) for d in draws]).astype(
        dtype if np.asarray(draws[0][i]).dtype.kind == "f" else np.asarray(draws[0][i]).dtype)
        for i in range(len(draws[0]))]


def _close(a, b, dtype, what):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


# specs whose function cannot be mapped, and the clear error vmap gives instead
UNMAPPABLE = {
    "where": "np.asarray of a traced value (the spec's own conversion)",
    "getitem_bool": "a boolean mask: the result's length depends on each example",
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_spec_against_a_loop_and_torch(spec, dtype):
    stacks = _stacks(spec, dtype)
    if spec.name in UNMAPPABLE:
        with pytest.raises((cr.TracerConversionError, NotImplementedError, TypeError),
                           match="vmap"):
            cr.vmap(spec.fn)(*stacks)
        return
    got = cr.vmap(spec.fn)(*stacks)
    loop = np.stack([np.asarray(spec.fn(*[s[k] for s in stacks]))
                     for k in range(BATCH)])
    _close(got, loop, dtype, f"{spec.name}: vmap vs loop")
    assert np.asarray(got).dtype == loop.dtype
    if dtype == np.float64:
        want = torch.func.vmap(spec.torch_fn)(*[torch.tensor(s) for s in stacks])
        _close(got, want.detach().numpy(), dtype, f"{spec.name}: vmap vs torch.func.vmap")


def test_the_primitives_that_fall_back_are_listed_with_a_reason():
    missing = sorted(set(registry) - set(RULES))
    assert missing == sorted(FALLBACK), (
        f"primitives without a batching rule: {missing}; give each a rule in "
        f"chainrule.transforms.batching.RULES or list it in FALLBACK with the reason")


def _loss(w, x, y):
    return cr.sum((cr.tanh(x @ w) - y) ** 2)


SHAPES = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))


@settings(max_examples=15, deadline=None)
@given(SHAPES, st.sampled_from([np.float64, np.float32]), st.integers(0, 2**31))
def test_compositions_against_a_loop(shape, dtype, seed):
    b, n, m = shape
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n, m)).astype(dtype)
    xs = rng.standard_normal((b, n)).astype(dtype)
    ys = rng.standard_normal((b, m)).astype(dtype)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)

    def loop(f, *args, axes):
        return np.stack([np.asarray(f(*[a if ax is None else a[k] for a, ax in
                                        zip(args, axes)])) for k in range(b)])

    per_example = cr.vmap(cr.grad(_loss), in_axes=(None, 0, 0))(w, xs, ys)
    np.testing.assert_allclose(per_example, loop(cr.grad(_loss), w, xs, ys,
                                                 axes=(None, 0, 0)), **tol)
    # grad of vmap: the sum of per-example gradients
    total = cr.grad(lambda w: cr.sum(cr.vmap(_loss, in_axes=(None, 0, 0))(w, xs, ys)))(w)
    np.testing.assert_allclose(total, per_example.sum(0), **tol)

    def f(x):
        return cr.sin(x) * cr.sum(x ** 2)

    for transform in (cr.jacfwd, cr.jacrev, cr.hessian):
        g = f if transform is not cr.hessian else (lambda x: cr.sum(cr.sin(x) * x))
        np.testing.assert_allclose(cr.vmap(transform(g))(xs),
                                   loop(transform(g), xs, axes=(0,)), **tol)
    np.testing.assert_allclose(cr.jacfwd(cr.vmap(cr.sin))(xs[0]),
                               np.diag(np.cos(xs[0])), **tol)
    # jvp inside and outside
    t = np.ones_like(xs)
    np.testing.assert_allclose(cr.vmap(lambda x, t: cr.jvp(f, (x,), (t,))[1])(xs, t),
                               loop(lambda x, t: cr.jvp(f, (x,), (t,))[1], xs, t,
                                    axes=(0, 0)), **tol)
    np.testing.assert_allclose(cr.jvp(cr.vmap(f), (xs,), (t,))[1],
                               loop(lambda x, t: cr.jvp(f, (x,), (t,))[1], xs, t,
                                    axes=(0, 0)), **tol)
    # vmap of vmap: an outer product
    outer = cr.vmap(cr.vmap(lambda a, c: a * c, in_axes=(None, 0)), in_axes=(0, None))
    np.testing.assert_allclose(outer(xs[:, 0], ys[:, 0]), np.outer(xs[:, 0], ys[:, 0]),
                               **tol)


def test_axes_and_pytrees():
    a = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(cr.vmap(cr.sum, in_axes=1)(a), a.sum(0))
    np.testing.assert_allclose(cr.vmap(lambda x: 2 * x, in_axes=1, out_axes=1)(a), 2 * a)
    np.testing.assert_allclose(cr.vmap(lambda x: 2 * x, in_axes=-1, out_axes=-1)(a), 2 * a)
    out = cr.vmap(lambda p: {"s": p["w"] * p["b"], "c": 1.0},
                  in_axes=({"w": 0, "b": None},), out_axes={"s": 0, "c": None})(
        {"w": a, "b": 2.0})
    np.testing.assert_allclose(out["s"], 2 * a)
    assert out["c"] == 1.0
    # an unmapped result is stacked (broadcast) under an int out_axes
    np.testing.assert_allclose(cr.vmap(lambda x: cr.ones(2))(a), np.ones((3, 2)))


def test_per_example_gradients_of_an_mlp_match_a_loop_and_torch():
    torch.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(8, 16), cr.nn.Tanh(), cr.nn.Linear(16, 4))
    params = {k: v.numpy().astype(np.float64) for k, v in model.named_parameters()}
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((10, 8)), rng.integers(0, 4, size=10)

    def loss(p, x, y):
        logits = cr.nn.functional_call(model, p, (x[None],))
        return -cr.sum(cr.one_hot(y, 4, dtype=np.float64)
                       * cr.nn.functional.log_softmax(logits, -1))

    got = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
    for k in range(10):
        one = cr.grad(loss)(params, xs[k], ys[k])
        for name in params:
            np.testing.assert_allclose(got[name][k], one[name], rtol=1e-12, atol=1e-14)

    tparams = {k: torch.tensor(v) for k, v in params.items()}
    tmodel = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(),
                                 torch.nn.Linear(16, 4)).double()

    def tloss(p, x, y):
        logits = torch.func.functional_call(tmodel, p, (x[None],))
        return torch.nn.functional.cross_entropy(logits, y[None])

    want = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))(
        tparams, torch.tensor(xs), torch.tensor(ys))
    for name in params:
        np.testing.assert_allclose(got[name], want[name].numpy(), rtol=1e-10, atol=1e-12)


def test_bad_input_is_refused_by_name():
    a, b = np.ones((3, 2)), np.ones((4, 2))
    with pytest.raises(ValueError, match=r"argument\[0\] has 3, argument\[1\] has 4"):
        cr.vmap(lambda x, y: x + y)(a, b)
    with pytest.raises(ValueError, match="in_axes has 1 entries for a call with 2"):
        cr.vmap(lambda x, y: x + y, in_axes=(0,))(a, a)
    with pytest.raises(ValueError, match=r"axis 2 for argument\[0\], which has shape \(3, 2\)"):
        cr.vmap(cr.sin, in_axes=2)(a)
    with pytest.raises(ValueError, match=r"in_axes\[0\] is \{'w': 0\}, which does not fit"):
        cr.vmap(cr.sin, in_axes=({"w": 0},))(a)
    with pytest.raises(ValueError, match="maps no argument"):
        cr.vmap(cr.sin, in_axes=None)(a)
    with pytest.raises(ValueError, match="out_axes is None for output"):
        cr.vmap(cr.sin, out_axes=None)(a)
    with pytest.raises(TypeError, match="vmap: expected the function"):
        cr.vmap(3)
    # values that cannot be mapped are refused, never read as the whole stack
    with pytest.raises(NotImplementedError, match="under cr.vmap"):  # a range check
        cr.vmap(lambda x: cr.nn.functional.binary_cross_entropy(x, x))(np.full((3, 4), 0.5))
    with pytest.raises(TypeError, match="compress: a condition mapped by vmap"):
        cr.vmap(lambda c, x: cr.compress(c, x))(np.eye(3, dtype=bool), np.ones((3, 3)))


def test_the_other_new_transforms_under_vmap():
    """custom rules, checkpointed segments and Taylor mode map too (tests/test_vmap_custom.py
    shows the custom rules and segments run once on the whole stack)."""
    from tests.test_custom_derivatives import log1pexp, sin_times

    xs = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(
        cr.vmap(cr.grad(lambda x: cr.sum(sin_times(x, 2.0))))(xs), 2 * np.cos(xs))
    np.testing.assert_allclose(cr.vmap(log1pexp)(xs), np.log1p(np.exp(xs)))
    segment = cr.checkpoint(lambda x, w: cr.tanh(x @ w))
    w = np.eye(3) * 0.5
    got = cr.vmap(cr.grad(lambda w, x: cr.sum(segment(x, w))), in_axes=(None, 0))(w, xs)
    want = np.stack([cr.grad(lambda w: cr.sum(cr.tanh(x @ w)))(w) for x in xs])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_allclose(cr.vmap(lambda x: cr.taylor(cr.sin, x, 3))(xs),
                               np.stack([cr.taylor(cr.sin, x, 3) for x in xs]))
