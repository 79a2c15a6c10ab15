"""cr.checkpoint and Sequential(checkpoint_every=k): the same derivatives in every
mode, a graph that keeps only the segments' inputs, impure functions refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.core.graph import topological_order


def block(x, w):
    return cr.tanh(x @ w) * cr.sin(x @ w)


CHECKED = cr.checkpoint(block)


def _two(b, x):
    return lambda w: cr.sum(b(b(x, w), w) ** 2)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31))
def test_same_derivatives_in_every_mode(n, m, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((n, m)), rng.standard_normal((m, m)) * 0.5
    plain, checked = _two(block, x), _two(CHECKED, x)
    np.testing.assert_allclose(cr.grad(checked)(w), cr.grad(plain)(w), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(cr.jacfwd(checked)(w), cr.jacfwd(plain)(w), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(cr.hessian(checked)(w), cr.hessian(plain)(w), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(cr.jvp(checked, (w,), (np.ones_like(w),))[1],
                               cr.jvp(plain, (w,), (np.ones_like(w),))[1], rtol=1e-12)
    wt = cr.tensor(w, requires_grad=True)
    checked(wt).backward()
    np.testing.assert_allclose(wt.grad.numpy(), cr.grad(plain)(w), rtol=1e-13, atol=1e-16)
    # create_graph: a second derivative through the recomputation
    wt = cr.tensor(w, requires_grad=True)
    checked(wt).backward(create_graph=True)
    g = wt.grad
    wt.grad = None
    cr.sum(g * g).backward()
    want = cr.grad(lambda v: cr.sum(cr.grad(plain)(v) ** 2))(w)
    np.testing.assert_allclose(wt.grad.numpy(), want, rtol=1e-10, atol=1e-12)


def test_the_graph_keeps_only_each_segments_inputs():
    x = cr.tensor(np.ones((2, 3)))
    w = cr.tensor(np.eye(3) * 0.5, requires_grad=True)
    plain, checked = x, x
    for _ in range(5):
        plain, checked = block(plain, w), CHECKED(checked, w)
    checked_nodes = topological_order(checked._node)
    assert len(checked_nodes) == 5  # one node per segment
    assert len(topological_order(plain._node)) > 5 * 3
    assert {node.prim.name for node in checked_nodes} == {"checkpoint(block)"}


def test_sequential_checkpoint_every_gives_identical_gradients():
    cr.random.seed(0)
    layers = []
    for _ in range(6):
        layers += [cr.nn.Linear(5, 5), cr.nn.Tanh(), cr.nn.Dropout(0.3)]
    x = cr.tensor(np.random.default_rng(1).standard_normal((4, 5)), dtype="float32")
    grads = []
    for every in (None, 4, 1):
        model = cr.nn.Sequential(*layers, checkpoint_every=every)
        model.zero_grad()
        cr.random.seed(7)  # the same dropout masks: checkpointing replays them
        cr.sum(model(x) ** 2).backward()
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    for other in grads[1:]:
        for a, b in zip(grads[0], other):
            np.testing.assert_array_equal(a, b)
    with cr.no_grad():  # nothing to save: the plain loop
        assert cr.nn.Sequential(*layers, checkpoint_every=2)(x).shape == (4, 5)


def test_bad_uses_are_refused():
    counter = [0.0]

    def impure(x):
        counter[0] += 1.0
        return x * counter[0]

    xt = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="checkpoint impure: recomputing .* different output"):
        cr.sum(cr.checkpoint(impure)(xt)).backward()
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="not one of its arguments"):
        cr.checkpoint(lambda x: x * w)(np.ones(2))
    with pytest.raises(ValueError, match="checkpoint_every must be a whole number >= 1"):
        cr.nn.Sequential(cr.nn.Tanh(), checkpoint_every=0)
    with pytest.raises(TypeError, match="checkpoint: expected the function"):
        cr.checkpoint(3)


def _chain(x, *ws):
    for w in ws:
        x = cr.tanh(x @ w)
    return x


def test_the_recomputed_segment_is_freed_as_its_sweep_goes():
    """Each recomputed node's saved values go as soon as the segment's sweep has used
    them: the backward peak is the recomputation (2 arrays per layer) and little more,
    not the recomputation plus every gradient (it was 26 arrays for these 8 layers)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 256)) * 0.1
    ws = [cr.tensor(rng.standard_normal((256, 256)) * 0.05, requires_grad=True)
          for _ in range(8)]
    y = cr.sum(cr.checkpoint(_chain)(x, *ws))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        y.backward()
        peak = (tracemalloc.get_traced_memory()[1] - base) / x.nbytes
    finally:
        tracemalloc.stop()
    assert peak < 21, f"backward peak {peak:.1f} arrays of the segment's size"
    want = cr.grad(lambda *w: cr.sum(_chain(x, *w)), argnums=tuple(range(8)))(
        *[w.numpy() for w in ws])
    for w, g in zip(ws, want):
        np.testing.assert_allclose(w.grad.numpy(), g, rtol=1e-13)
    # a NaN in the freeing sweep (0 * inf at sqrt's 0) recomputes and sweeps masked
    v = cr.tensor([0.0, 1.0], requires_grad=True)
    cr.sum(cr.checkpoint(lambda t: cr.where(t > 0, cr.sqrt(t), 0.0))(v)).backward()
    np.testing.assert_array_equal(v.grad.numpy(), [0.0, 0.5])
