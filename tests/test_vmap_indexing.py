"""vmap with mapped integer index arrays: x[idx], take, embedding and cross_entropy with
mapped labels, against a Python loop and torch.func.vmap, with their derivatives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.ops.shape import getitem

S = slice(None)
# one example's index, with I and J the (possibly mapped) integer arrays
TEMPLATES = {
    "x[i]": lambda i, j: (i,),
    "x[:, i]": lambda i, j: (S, i),
    "x[:, i, j]": lambda i, j: (S, i, j),
    "x[1, :, j]": lambda i, j: (1, S, j),
    "x[..., j]": lambda i, j: (Ellipsis, j),
    "x[i, :, j]": lambda i, j: (i, S, j),
    "x[None, :, i, 2]": lambda i, j: (None, S, i, 2),
    "x[i, 1:3]": lambda i, j: (i, slice(1, 3)),
    "x[i[0]]": lambda i, j: (i[0],),
}
AXES = [(0, 0, 0), (0, 0, None), (0, None, 0), (None, 0, 0), (None, 0, None)]


def _pick(a, k, axis):
    return a if axis is None else a[k]


def _data(rng, n, shape, dtype, ishape):
    x = rng.standard_normal((n, *shape)).astype(dtype)
    m = min(shape)  # in range for every axis
    i = rng.integers(-m, m, (n, *ishape))  # negative positions too
    j = rng.integers(0, m, (n, *ishape))
    return x, i, j


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 4), shape=st.tuples(*[st.integers(3, 5)] * 4),
       ishape=st.sampled_from([(), (3,), (2, 3)]), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(TEMPLATES))
def test_getitem_with_mapped_indices_against_a_loop_and_torch(name, dtype, n, shape, ishape,
                                                             seed):
    template = TEMPLATES[name]
    if name == "x[i[0]]" and not ishape:
        ishape = (2,)
    x, i, j = _data(np.random.default_rng(seed), n, shape, dtype, ishape)

    def f(x, i, j):
        return getitem(x, template(i, j))

    for axes in AXES:
        args = [a if ax == 0 else a[0] for a, ax in zip((x, i, j), axes)]
        got = cr.vmap(f, in_axes=axes)(*args)
        loop = np.stack([f(*[_pick(a, k, ax) for a, ax in zip(args, axes)]) for k in range(n)])
        assert got.shape == loop.shape, (name, axes)
        np.testing.assert_array_equal(got, loop)
        assert got.dtype == loop.dtype
        if name == "x[1, :, j]":
            continue  # torch indexes with the int first (NumPy: an advanced index, B first)
        want = torch.func.vmap(lambda x, i, j: x[template(i, j)], in_dims=axes)(
            *[torch.tensor(a) for a in args])
        np.testing.assert_array_equal(got, want.numpy())


@settings(max_examples=8, deadline=None)
@given(n=st.integers(1, 3), shape=st.tuples(*[st.integers(3, 4)] * 4),
       ishape=st.sampled_from([(), (2,), (2, 2)]), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", ["x[:, i]", "x[:, i, j]", "x[1, :, j]", "x[i, :, j]",
                                  "x[None, :, i, 2]"])
def test_derivatives_through_a_mapped_gather(name, n, shape, ishape, seed):
    """The reverse rule (a scatter, repeated positions accumulating) batched too:
    per-example gradients, the gradient of the mapped function, Jacobians."""
    template = TEMPLATES[name]
    x, i, j = _data(np.random.default_rng(seed), n, shape, np.float64, ishape)

    def loss(x, i, j):
        return cr.sum(cr.sin(getitem(x, template(i, j))) ** 2)

    for axes in AXES:
        args = [a if ax == 0 else a[0] for a, ax in zip((x, i, j), axes)]
        ks = range(n)
        per = [cr.grad(loss)(*[_pick(a, k, ax) for a, ax in zip(args, axes)]) for k in ks]
        if axes[0] == 0:
            np.testing.assert_allclose(cr.vmap(cr.grad(loss), in_axes=axes)(*args),
                                       np.stack(per), rtol=1e-12, atol=1e-14)
            jac = cr.vmap(cr.jacfwd(lambda x, i, j: cr.sin(getitem(x, template(i, j)))),
                          in_axes=axes)(*args)
            loop = np.stack([cr.jacrev(lambda x: cr.sin(getitem(x, template(
                _pick(args[1], k, axes[1]), _pick(args[2], k, axes[2])))))(args[0][k])
                for k in ks])
            np.testing.assert_allclose(jac, loop, rtol=1e-12, atol=1e-14)
        total = cr.grad(lambda x: cr.sum(cr.vmap(loss, in_axes=axes)(x, *args[1:])))(args[0])
        want = np.stack(per) if axes[0] == 0 else np.sum(per, axis=0)
        np.testing.assert_allclose(total, want, rtol=1e-12, atol=1e-14)


@pytest.mark.filterwarnings("ignore:There is a performance drop")
def test_take_with_mapped_indices_gives_each_example_its_own():
    # take read the whole stack of indices as one example's (shape (4, 4, 2), silently)
    x = np.arange(12.0).reshape(4, 3)
    i = np.array([[0, 2], [1, -1], [2, 0], [0, 0]])
    got = cr.vmap(cr.take)(x, i)
    np.testing.assert_array_equal(got, np.take_along_axis(x, i % 3, axis=1))
    got = cr.vmap(lambda i: cr.take(x, i, axis=0), in_axes=0)(i)
    np.testing.assert_array_equal(got, np.stack([np.take(x, r, axis=0) for r in i]))
    want = torch.func.vmap(lambda a, b: torch.take(a, b))(torch.tensor(x), torch.tensor(i))
    np.testing.assert_array_equal(cr.vmap(cr.take)(x, i), want.numpy())
    g = cr.vmap(cr.grad(lambda x, i: cr.sum(cr.take(x, i) ** 2)))(x, i)
    loop = np.stack([cr.grad(lambda x: cr.sum(cr.take(x, r) ** 2))(a) for a, r in zip(x, i)])
    np.testing.assert_allclose(g, loop)
    with pytest.raises(IndexError, match="take: index 5 is out of bounds"):
        cr.vmap(cr.take)(x, i + 3 * (i == 2))
    with pytest.raises(TypeError, match="indices must be integers"):
        cr.vmap(cr.take)(x, i.astype(float))


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_with_mapped_indices_against_torch(padding_idx):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((6, 3))
    idx = rng.integers(0, 6, (5, 4))

    def f(w, i):
        return cr.nn.functional.embedding(i, w, padding_idx=padding_idx)

    got = cr.vmap(f, in_axes=(None, 0))(weight, idx)
    want = torch.func.vmap(lambda i: torch.nn.functional.embedding(
        i, torch.tensor(weight), padding_idx=padding_idx))(torch.tensor(idx))
    np.testing.assert_array_equal(got, want.numpy())
    per = cr.vmap(cr.grad(lambda w, i: cr.sum(f(w, i) ** 3)), in_axes=(None, 0))(weight, idx)
    loop = np.stack([cr.grad(lambda w: cr.sum(f(w, i) ** 3))(weight) for i in idx])
    np.testing.assert_allclose(per, loop, rtol=1e-12)
    if padding_idx is not None:
        assert np.all(per[:, padding_idx] == 0)
    with pytest.raises(IndexError, match="index 6 is out of range for 6 embeddings"):
        cr.vmap(f, in_axes=(None, 0))(weight, idx + 1)


CE_OPTIONS = [{}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.2},
              {"ignore_index": 1}, {"weight": np.array([0.5, 1.0, 2.0, 1.5])},
              {"ignore_index": 0, "label_smoothing": 0.1, "reduction": "sum"}]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("logit_shape", [(4,), (5, 4), (5, 4, 3)])
@pytest.mark.parametrize("options", CE_OPTIONS, ids=str)
def test_cross_entropy_with_mapped_labels_against_a_loop_and_torch(options, logit_shape,
                                                                   dtype):
    rng = np.random.default_rng(len(logit_shape))
    n = 6
    logits = rng.standard_normal((n, *logit_shape)).astype(dtype)
    label_shape = logit_shape[:1] + logit_shape[2:] if len(logit_shape) > 1 else ()
    labels = rng.integers(0, 4, (n, *label_shape))
    opts = {k: (v.astype(dtype) if k == "weight" else v) for k, v in options.items()}

    def f(x, y):
        return cr.nn.functional.cross_entropy(x, y, **opts)

    with np.errstate(all="ignore"):  # an example whose every target is ignored: 0/0
        got = cr.vmap(f)(logits, labels)
        loop = np.stack([f(logits[k], labels[k]) for k in range(n)])
        topts = {k: (torch.tensor(v) if k == "weight" else v) for k, v in opts.items()}
        want = torch.func.vmap(lambda x, y: torch.nn.functional.cross_entropy(x, y, **topts))(
            torch.tensor(logits), torch.tensor(labels)).numpy()
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(got, loop, rtol=tol, atol=tol)
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        per = cr.vmap(cr.grad(lambda x, y: cr.sum(f(x, y))))(logits, labels)
        loop = np.stack([cr.grad(lambda x: cr.sum(f(x, labels[k])))(logits[k])
                         for k in range(n)])
        np.testing.assert_allclose(per, loop, rtol=tol, atol=tol)


def test_mapped_labels_out_of_range_and_masks_are_refused():
    logits = np.zeros((3, 4))
    with pytest.raises(IndexError, match="target 4 is out of range for 4 classes"):
        cr.vmap(cr.nn.functional.cross_entropy)(logits, np.array([0, 4, 1]))
    with pytest.raises(TypeError, match="must hold integers"):
        cr.vmap(lambda x, m: getitem(x, m))(logits, logits > 0)
