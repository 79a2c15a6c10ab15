"""Gradient buffers: every leaf gets an array of its own, writable and C-contiguous
(PyTorch's contract), and the transforms hand back arrays the caller owns.

The sweep passes along what its rules return: one cotangent for both inputs of
an add, the caller's ``gradient=`` array, a read-only broadcast view from sum's
rule, a transposed view. None of that may reach a ``.grad`` or a result shared.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr

SHAPE = (2, 3)
LEAF_SHAPES = [(2, 3), (1, 3), (3,), ()]

# binary steps over values that broadcast to SHAPE; ``lib`` is chainrule or torch
STEPS = {
    "add": lambda a, b, lib: a + b,
    "sub": lambda a, b, lib: a - b,
    "mul": lambda a, b, lib: a * b,
    "neg": lambda a, b, lib: -a,
    "same": lambda a, b, lib: a * 1.0,
    "transpose": lambda a, b, lib: (a.T * 2.0).T if a.ndim == 2 else a,
    "reshape": lambda a, b, lib: a.reshape(-1).reshape(a.shape),
    "sum": lambda a, b, lib: a.sum(0, keepdims=True) if a.ndim == 2 else a.sum(),
    "sin": lambda a, b, lib: lib.sin(a),
}


def _build(leaves, steps, lib):
    pool = list(leaves)
    for name, i, j in steps:
        pool.append(STEPS[name](pool[i % len(pool)], pool[j % len(pool)], lib))
    out = cr.zeros(*SHAPE) if lib is cr else torch.zeros(SHAPE, dtype=torch.float64)
    for value in pool:  # every leaf reaches the output, often through adds alone
        out = out + value
    return out


graphs = st.tuples(
    st.lists(st.sampled_from(LEAF_SHAPES), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from(sorted(STEPS)), st.integers(0, 9), st.integers(0, 9)),
             max_size=8),
    st.integers(0, 2**16))


def _check_own(arrays, others=()):
    """Writable, C-contiguous, no memory shared with each other or with ``others``."""
    for a in arrays:
        assert isinstance(a, np.ndarray)
        assert a.flags.writeable and a.flags.c_contiguous
    for a, b in itertools.combinations(arrays, 2):
        assert not np.shares_memory(a, b)
    for a in arrays:
        for o in others:
            assert not np.shares_memory(a, o)


@given(graphs, st.booleans(), st.booleans())
def test_backward_gives_every_leaf_its_own_gradient(graph, seeded, twice):
    shapes, steps, seed = graph
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=s) for s in shapes]
    leaves = [cr.tensor(v, requires_grad=True) for v in values]
    tleaves = [torch.tensor(v, requires_grad=True) for v in values]
    gradient = rng.normal(size=SHAPE)
    kept = gradient.copy()
    for _ in range(2 if twice else 1):
        out, tout = _build(leaves, steps, cr), _build(tleaves, steps, torch)
        if seeded:
            out.backward(gradient=gradient)
            tout.backward(gradient=torch.tensor(gradient))
        else:
            out.sum().backward()
            tout.sum().backward()
    grads = [leaf.grad.data for leaf in leaves]
    _check_own(grads, [gradient, *(leaf.data for leaf in leaves)])
    np.testing.assert_array_equal(gradient, kept)  # the caller's array is untouched
    for g, leaf, t in zip(grads, leaves, tleaves):
        assert g.shape == leaf.shape and g.dtype == leaf.dtype
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12, atol=1e-12)
    for g in grads:  # writing into one gradient changes no other
        g[...] = 123.0
    assert all(np.all(leaf.grad.data == 123.0) for leaf in leaves)


@given(graphs)
def test_transforms_return_arrays_the_caller_owns(graph):
    shapes, steps, seed = graph
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=s) for s in shapes]
    argnums = tuple(range(len(values)))
    weights = rng.normal(size=SHAPE)

    def f(*xs):
        return (_build(xs, steps, cr) * weights).sum()

    grads = cr.grad(f, argnums=argnums)(*values)
    tleaves = [torch.tensor(v, requires_grad=True) for v in values]
    (_build(tleaves, steps, torch) * torch.tensor(weights)).sum().backward()
    arrays = [np.asarray(g) for g in grads if np.ndim(g)]
    _check_own([g for g in grads if np.ndim(g)], [*values, weights])
    for g, t in zip(grads, tleaves):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12, atol=1e-12)
    value, again = cr.value_and_grad(f, argnums=argnums)(*values)
    _check_own([g for g in again if np.ndim(g)], arrays)

    cotangent = rng.normal(size=SHAPE)
    _, vjp_fn = cr.vjp(lambda *xs: _build(xs, steps, cr), *values)
    first, second = vjp_fn(cotangent), vjp_fn(cotangent)
    tleaves = [torch.tensor(v, requires_grad=True) for v in values]
    _build(tleaves, steps, torch).backward(torch.tensor(cotangent))
    for a, b, t in zip(first, second, tleaves):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-12, atol=1e-12)
    _check_own([g for g in (*first, *second) if np.ndim(g)], [cotangent, *values])


def test_a_sum_gradient_is_not_a_read_only_broadcast_view():
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()
    x.grad.data[0, 0] = 5.0  # clipping or zeroing a gradient in place works
    g = cr.grad(lambda x: x.sum())(np.ones((2, 3)))
    g[0, 0] = 5.0
    assert g.flags.writeable and g.base is None


def test_the_gradient_argument_is_never_the_leaf_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    gradient = np.array([3.0, 4.0])
    x.backward(gradient=gradient)  # a leaf: its gradient is the seed itself
    assert not np.shares_memory(x.grad.data, gradient)
    x.grad.data[0] = 0.0
    assert gradient[0] == 3.0
    y = cr.tensor([1.0, 2.0], requires_grad=True)
    seed = cr.tensor([1.0, 1.0])
    (y + x).backward(gradient=seed)
    assert not np.shares_memory(y.grad.data, seed.data)
    assert not np.shares_memory(y.grad.data, x.grad.data)


def test_transposed_gradients_are_c_contiguous():
    w = cr.tensor(np.ones((2, 3)), requires_grad=True)
    (w.T * cr.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    assert w.grad.data.flags.c_contiguous
    np.testing.assert_array_equal(w.grad.data, np.arange(6.0).reshape(3, 2).T)


def test_jacobians_and_vjp_results_are_writable_and_separate():
    x = np.array([1.0, 2.0, 3.0])
    jac = cr.jacrev(lambda x: x * 2.0)(x)
    assert jac.flags.writeable
    out, vjp_fn = cr.vjp(lambda x, y: x + y, x, x.copy())
    cotangent = np.ones(3)
    a, b = vjp_fn(cotangent)
    assert not np.shares_memory(a, b) and not np.shares_memory(a, cotangent)
    a[0] = 9.0
    assert vjp_fn(cotangent)[0][0] == 1.0 and cotangent[0] == 1.0


@pytest.mark.parametrize("create_graph", [False, True])
def test_shared_cotangents_are_separate_tensors_with_create_graph(create_graph):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    ((x + y) * 1.0).sum().backward(create_graph=create_graph)
    assert x.grad is not y.grad and not np.shares_memory(x.grad.data, y.grad.data)
    if create_graph:  # still differentiable
        z = cr.tensor([0.5, 0.5], requires_grad=True)
        (x * z).sum().backward(create_graph=True)
        assert x.grad.requires_grad


def test_forward_mode_results_are_writable():
    """A rule's read-only broadcast view is copied before a transform returns it."""
    x, t = np.array([1.0, 2.0, 3.0]), np.ones(3)
    out, tangent = cr.jvp(lambda x: cr.broadcast_to(x.sum(), (3,)), (x,), (t,))
    assert out.flags.writeable and tangent.flags.writeable
    np.testing.assert_array_equal(tangent, [3.0, 3.0, 3.0])
    tangent[0] = 0.0
