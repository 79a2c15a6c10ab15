"""Tensor's ndarray-style methods: NumPy's values, PyTorch's gradients, NumPy's dispatch.

Every method that NumPy's ndarray has and chainrule has an operation for is
checked against ndarray's own method (or, where ndarray's works in place,
the NumPy function of the same name) for the value, and against PyTorch in
float64 for the gradient of a weighted sum of the result.
"""

import numpy as np
import pytest
import torch

import chainrule as cr

rng0 = np.random.default_rng(11)
A = rng0.uniform(-2.0, 2.0, size=(3, 4))
B = rng0.uniform(-2.0, 2.0, size=(2, 3, 3))

# name -> (array, chainrule call on a tensor, NumPy call on an ndarray, torch call)
DIFFERENTIABLE = {
    "diagonal": (A, lambda t: t.diagonal(), lambda a: a.diagonal(), torch.diagonal),
    "diagonal_offset_axes": (B, lambda t: t.diagonal(1, 2, 1), lambda a: a.diagonal(1, 2, 1),
                             lambda t: torch.diagonal(t, 1, 2, 1)),
    "trace": (A, lambda t: t.trace(), lambda a: a.trace(), torch.trace),
    "trace_axes": (B, lambda t: t.trace(-1, 1, 2), lambda a: a.trace(-1, 1, 2),
                   lambda t: torch.diagonal(t, -1, 1, 2).sum(-1)),
    "sort": (A, lambda t: t.sort(), np.sort, lambda t: torch.sort(t, stable=True).values),
    "sort_axis0": (A, lambda t: t.sort(axis=0), lambda a: np.sort(a, axis=0),
                   lambda t: torch.sort(t, dim=0, stable=True).values),
    "sort_flat": (A, lambda t: t.sort(axis=None), lambda a: np.sort(a, axis=None),
                  lambda t: torch.sort(t.reshape(-1)).values),
    "partition": (A, lambda t: t.partition(2), lambda a: np.sort(a),  # a sort partitions
                  lambda t: torch.sort(t).values),
    "copy": (A, lambda t: t.copy(), lambda a: a.copy(), torch.clone),
    "take_flat": (A, lambda t: t.take([0, 5, 5, -1]), lambda a: a.take([0, 5, 5, -1]),
                  lambda t: t.reshape(-1)[[0, 5, 5, -1]]),
    "take_axis": (B, lambda t: t.take([2, 0, 2], axis=-1),
                  lambda a: a.take([2, 0, 2], axis=-1), lambda t: t[..., [2, 0, 2]]),
    "take_scalar": (A, lambda t: t.take(1, axis=1), lambda a: a.take(1, axis=1),
                    lambda t: t[:, 1]),
    "compress": (A, lambda t: t.compress([True, False, True], axis=0),
                 lambda a: a.compress([True, False, True], axis=0), lambda t: t[[0, 2]]),
    "compress_short": (A, lambda t: t.compress([False, True]),
                       lambda a: a.compress([False, True]), lambda t: t.reshape(-1)[[1]]),
    "round": (A, lambda t: t.round(), lambda a: a.round(), torch.round),
    "round_decimals": (A, lambda t: t.round(1), lambda a: a.round(1),
                       lambda t: torch.round(t, decimals=1)),
    "python_round": (A, lambda t: round(t, 2), lambda a: np.round(a, 2),
                     lambda t: torch.round(t, decimals=2)),
    "mT": (B, lambda t: t.mT, lambda a: a.mT, lambda t: t.mT),
    "cumsum": (A, lambda t: t.cumsum(1), lambda a: a.cumsum(1), lambda t: torch.cumsum(t, 1)),
    "std_ddof": (A, lambda t: t.std(0, ddof=1), lambda a: a.std(0, ddof=1),
                 lambda t: torch.std(t, 0, correction=1)),
    "min_keepdims": (A, lambda t: t.min(1, keepdims=True), lambda a: a.min(1, keepdims=True),
                     lambda t: torch.amin(t, 1, keepdim=True)),
}


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_method_value_matches_numpy_and_gradient_matches_torch(name):
    a, method, np_method, torch_fn = DIFFERENTIABLE[name]
    x = cr.tensor(a, requires_grad=True)
    out = method(x)
    assert isinstance(out, cr.Tensor) and out.dtype == np.float64
    np.testing.assert_array_equal(out.data, np_method(a.copy()))
    weight = np.random.default_rng(3).standard_normal(out.shape)
    if out.requires_grad:  # round is a constant: no graph, a zero gradient
        (out * weight).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    tout = torch_fn(tx)
    (tout * torch.tensor(weight)).sum().backward()
    expected = tx.grad.numpy()
    actual = x.grad.data if x.grad is not None else np.zeros_like(a)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0)


def test_copy_owns_its_memory_and_is_the_identity_to_every_mode():
    a = np.array([1.0, 2.0])
    x = cr.tensor(a, requires_grad=True)
    y = x.copy()
    assert y.data is not x.data and not np.shares_memory(y.data, x.data)
    assert y.requires_grad and y._node.prim.name == "copy"
    np.testing.assert_array_equal(cr.grad(lambda v: cr.sum(v.copy() ** 3))(a), 3 * a**2)
    out, tangent = cr.jvp(lambda v: np.copy(v) * v, (a,), (np.ones(2),))
    np.testing.assert_array_equal(tangent, 2 * a)
    hess = cr.hessian(lambda v: cr.sum(cr.copy(v) ** 3))(a)
    np.testing.assert_allclose(hess, np.diag(6 * a))


def test_round_decimals_through_numpy_and_chainrule():
    x = cr.tensor([1.234, -2.567, 0.5, 1.5], requires_grad=True)
    for out, decimals in [(np.round(x, 2), 2), (np.around(x, 1), 1), (cr.round(x, 2), 2),
                          (np.round(x), 0)]:
        assert isinstance(out, cr.Tensor) and not out.requires_grad
        np.testing.assert_array_equal(out.data, np.round(x.data, decimals))
    np.testing.assert_array_equal(cr.round(np.array([0.5, 1.5, 2.5])), [0.0, 2.0, 2.0])
    assert cr.grad(lambda v: cr.sum(cr.round(v, 1) + v))(np.array([0.33])) == 1.0


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_argsort_and_argpartition_are_integers_off_the_graph(axis):
    x = cr.tensor(A, requires_grad=True)
    order = x.argsort(axis=axis)
    assert isinstance(order, cr.Tensor) and not order.requires_grad
    np.testing.assert_array_equal(order.data, A.argsort(axis=axis))
    np.testing.assert_array_equal(x.argsort(axis=axis, stable=True).data,
                                  np.argsort(A, axis=axis, stable=True))
    desc = x.argsort(axis=axis, descending=True)
    flat = A.reshape(-1) if axis is None else A
    picked = np.take_along_axis(flat, desc.data, axis=-1 if axis is None else axis)
    assert (np.diff(picked, axis=-1 if axis is None else axis) <= 0).all()
    kth = 1
    part = x.argpartition(kth, axis=axis)
    assert not part.requires_grad
    picked = np.take_along_axis(flat, part.data, axis=-1 if axis is None else axis)
    expected = np.partition(flat, kth, axis=-1 if axis is None else axis)
    np.testing.assert_array_equal(np.take(picked, kth, axis=-1 if axis is None else axis),
                                  np.take(expected, kth, axis=-1 if axis is None else axis))


def test_nonzero_argwhere_and_flatnonzero_match_numpy():
    a = np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, 3.0]])
    x = cr.tensor(a, requires_grad=True)
    for ours, theirs in [(x.nonzero(), a.nonzero()), (np.nonzero(x), np.nonzero(a)),
                         (cr.nonzero(x > 0), np.nonzero(a > 0))]:
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert isinstance(o, cr.Tensor) and not o.requires_grad
            np.testing.assert_array_equal(o.data, t)
    np.testing.assert_array_equal(np.argwhere(x).data, np.argwhere(a))
    np.testing.assert_array_equal(np.flatnonzero(x).data, np.flatnonzero(a))
    x[x.nonzero()].sum().backward()  # the positions index the graph like any index
    np.testing.assert_array_equal(x.grad.data, (a != 0).astype(float))
    empty = cr.tensor(np.zeros((2, 2))).nonzero()
    assert [e.shape for e in empty] == [(0,), (0,)]
    with pytest.raises(ValueError, match="nonzero: a 0-d array"):
        cr.tensor(1.0).nonzero()


def test_numpy_functions_of_the_new_methods_dispatch():
    x = cr.tensor(A, requires_grad=True)
    for call in [np.copy, np.positive, lambda t: np.take(t, [1, 1], axis=0),
                 lambda t: np.compress([True, True], t, axis=1), lambda t: np.partition(t, 1),
                 np.diagonal, np.trace, np.fabs]:
        out = call(x)
        assert isinstance(out, cr.Tensor) and out.requires_grad
        np.testing.assert_array_equal(out.data, call(A))
    q, r = np.divmod(x, 0.7)
    np.testing.assert_array_equal(q.data, A // 0.7)
    np.testing.assert_allclose(r.data, A % 0.7)
    assert r.requires_grad and not q.requires_grad


def test_divmod_reflected_logic_and_membership():
    x = cr.tensor([1.5, -2.0, 3.25], requires_grad=True)
    q, r = divmod(x, 2.0)
    np.testing.assert_array_equal(q.data, [0.0, -1.0, 1.0])
    np.testing.assert_array_equal(r.data, [1.5, 0.0, 1.25])
    r.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])
    q2, r2 = divmod(7.0, x)
    np.testing.assert_array_equal(q2.data, 7.0 // x.data)
    np.testing.assert_array_equal(r2.data, 7.0 % x.data)
    mask = cr.tensor([True, False, True])
    np.testing.assert_array_equal((True & mask).data, [True, False, True])
    np.testing.assert_array_equal((False | mask).data, [True, False, True])
    assert 3.25 in x and 0.0 not in x
    assert 1.0 in cr.tensor([[0.0, 1.0], [2.0, 3.0]])


def test_method_errors_name_the_operation():
    x = cr.tensor(A, requires_grad=True)
    with pytest.raises(IndexError, match="take: index 12 is out of bounds for axis 0"):
        x.take([12])
    with pytest.raises(IndexError, match="take: index -5 is out of bounds for axis 1"):
        x.take([-5], axis=1)
    with pytest.raises(TypeError, match="take: indices must be integers, got dtype float64"):
        x.take([1.0])
    with pytest.raises(ValueError, match="take: only mode='raise'"):
        x.take([1], mode="wrap")
    with pytest.raises(ValueError, match="take: axis 2 is out of range"):
        x.take([1], axis=2)
    with pytest.raises(ValueError, match=r"compress: condition must be 1-D, got shape \(1, 2\)"):
        x.compress([[True, False]])
    with pytest.raises(IndexError, match="compress: index 3 is out of bounds for axis 0"):
        x.compress([False, False, False, True], axis=0)
    with pytest.raises(ValueError, match=r"partition: kth must be ints in \[-4, 4\)"):
        x.partition(4)
    with pytest.raises(ValueError, match="argpartition: kth"):
        x.argpartition(1.5)
    with pytest.raises(ValueError, match=r"mT: needs at least 2 dimensions, got shape \(3,\)"):
        cr.tensor([1.0, 2.0, 3.0]).mT
    with pytest.raises(TypeError, match="sort: order="):
        x.sort(order="f")


def test_argmax_and_argmin_keepdims_as_numpy():
    x = cr.tensor(A)
    np.testing.assert_array_equal(x.argmax(1, keepdims=True).data, A.argmax(1, keepdims=True))
    np.testing.assert_array_equal(x.argmin(0, keepdims=True).data, A.argmin(0, keepdims=True))
    assert x.argmax().data == A.argmax()


def test_methods_work_on_forward_mode_values_too():
    # the methods live on the mixin every traced value shares (Tensor, Dual, Batched)
    def f(v):
        m = cr.reshape(v, (2, 2))
        return m.diagonal().sum() * m.trace() + m.copy().take([3]).sum() + m.mT.sort(0)[1, 0]

    a = np.array([0.5, -1.0, 2.0, 1.5])
    fwd = cr.jacfwd(f)(a)
    rev = cr.jacrev(f)(a)
    tx = torch.tensor(a, requires_grad=True)
    m = tx.reshape(2, 2)
    y = m.diagonal().sum() * m.trace() + m.clone().reshape(-1)[3] + torch.sort(m.mT, 0).values[1, 0]
    y.backward()
    np.testing.assert_allclose(fwd, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rev, tx.grad.numpy(), rtol=1e-12)
