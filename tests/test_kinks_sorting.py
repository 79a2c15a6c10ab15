"""sort and topk at ties: exact values under each policy, the hull they belong to,
PyTorch's own results under its policy, second order, kinks() and errors.

Away from ties tests/ops/specs_sorting.py compares with PyTorch in float64.
"""

import itertools

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.subgradients import TABLE, Orderings

W = np.array([1.0, 2.0, 3.0, 4.0])
X = np.array([2.0, 1.0, 2.0, 0.0])  # sorted: 0, 1, 2, 2; the 2s (elements 0 and 2) tie


def weighted(x, w=W, **kw):
    return cr.sum(cr.sort(x, **kw) * w)


# ----- exact values at ties -----

def test_min_norm_averages_the_cotangents_of_tied_outputs():
    # the tied outputs (positions 2, 3) carry 3 and 4: each tied element gets 3.5
    np.testing.assert_array_equal(cr.grad(weighted)(X), [3.5, 2.0, 3.5, 1.0])
    # forward mode: moving element 0 moves both tied outputs by half
    _, t = cr.jvp(cr.sort, (X,), (np.array([1.0, 0.0, 0.0, 0.0]),))
    np.testing.assert_array_equal(t, [0.0, 0.0, 0.5, 0.5])


@pytest.mark.parametrize("policy", ["pytorch", "jax"])
def test_pytorch_and_jax_route_through_the_stable_permutation(policy):
    with cr.subgradient_policy(policy):
        np.testing.assert_array_equal(cr.grad(weighted)(X), [3.0, 2.0, 4.0, 1.0])
        _, t = cr.jvp(cr.sort, (X,), (np.array([1.0, 0.0, 0.0, 0.0]),))
    np.testing.assert_array_equal(t, [0.0, 0.0, 1.0, 0.0])


def _torch_sort_grad(x, w, dim=-1, descending=False):
    xt = torch.tensor(x, requires_grad=True)
    values = torch.sort(xt, dim=dim, descending=descending, stable=True).values
    (values * torch.tensor(w)).sum().backward()
    return xt.grad.numpy()


@pytest.mark.parametrize("descending", [False, True])
def test_pytorch_policy_equals_torch_sort_stable_at_ties(descending):
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.integers(0, 3, size=(3, 5)).astype(float)  # many ties
        w = rng.standard_normal((3, 5))
        for axis in (0, 1):
            with cr.subgradient_policy("pytorch"):
                g = cr.grad(lambda v: cr.sum(cr.sort(v, axis=axis, descending=descending) * w))(x)
            np.testing.assert_allclose(g, _torch_sort_grad(x, w, axis, descending), rtol=1e-15)


def test_descending_ties_keep_input_order_and_average():
    x = np.array([1.0, 3.0, 3.0, 2.0])
    np.testing.assert_array_equal(cr.sort(x, descending=True), [3.0, 3.0, 2.0, 1.0])
    f = lambda v: weighted(v, descending=True)  # noqa: E731
    np.testing.assert_array_equal(cr.grad(f)(x), [4.0, 1.5, 1.5, 3.0])
    with cr.subgradient_policy("pytorch"):
        np.testing.assert_array_equal(cr.grad(f)(x), [4.0, 1.0, 2.0, 3.0])


def test_ties_in_each_slice_are_their_own():
    x = np.array([[1.0, 1.0, 0.0], [2.0, 5.0, 2.0]])
    g = cr.grad(lambda v: cr.sum(cr.sort(v, axis=1) * np.array([1.0, 2.0, 3.0])))(x)
    np.testing.assert_array_equal(g, [[2.5, 2.5, 1.0], [1.5, 3.0, 1.5]])


def test_sort_and_topk_agree_with_max_and_min_at_ties():
    x = np.array([[3.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 1.0]])
    top = cr.grad(lambda v: cr.sum(cr.max(v, axis=1)))(x)
    bottom = cr.grad(lambda v: cr.sum(cr.min(v, axis=1)))(x)
    np.testing.assert_array_equal(cr.grad(lambda v: cr.sum(cr.sort(v)[:, -1]))(x), top)
    np.testing.assert_array_equal(cr.grad(lambda v: cr.sum(cr.topk(v, 1)[0]))(x), top)
    np.testing.assert_array_equal(cr.grad(lambda v: cr.sum(cr.sort(v)[:, 0]))(x), bottom)
    np.testing.assert_array_equal(
        cr.grad(lambda v: cr.sum(cr.topk(v, 1, largest=False)[0]))(x), bottom)


def test_nan_sorts_last_and_ties_nothing():
    x = np.array([np.nan, 1.0, 0.0, np.nan])
    w = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(cr.sort(x), [0.0, 1.0, np.nan, np.nan])
    g = cr.grad(lambda v: cr.sum(cr.sort(v) * w))(x)
    np.testing.assert_array_equal(g, _torch_sort_grad(x, w))


# ----- the choice is in the Clarke Jacobian, and of least norm -----

def test_the_min_norm_jacobian_is_the_mean_of_the_tied_orderings():
    x = np.array([1.0, 0.0, 1.0, 1.0])
    tied = [0, 2, 3]
    jacobians = []
    for order in itertools.permutations(range(3)):  # break the tie in each of the 3! ways
        nudged = x.copy()
        nudged[tied] += 1e-3 * np.array(order)
        jacobians.append(cr.jacrev(cr.sort)(nudged))  # a permutation matrix off the tie
    mean = np.mean(jacobians, axis=0)
    np.testing.assert_allclose(cr.jacrev(cr.sort)(x), mean, atol=1e-15)
    np.testing.assert_allclose(cr.jacfwd(cr.sort)(x), mean, atol=1e-15)


def test_the_vjp_is_the_smallest_over_the_tied_orderings():
    x = np.array([2.0, 2.0, 2.0, 1.0])
    g = np.array([0.3, -1.0, 2.0, 0.5])
    _, vjp_fn = cr.vjp(cr.sort, x)
    (chosen,) = vjp_fn(g)
    # every ordering of the tie routes the tied outputs' cotangents (positions 1..3)
    routed = [np.concatenate([[g[0]], [g[1:][i] for i in p]]) for p in
              itertools.permutations(range(3))]
    norms = [np.linalg.norm(r) for r in routed]
    assert np.linalg.norm(chosen) <= min(norms) + 1e-15
    np.testing.assert_allclose(chosen, [0.5, 0.5, 0.5, 0.3], rtol=1e-15)  # (-1 + 2 + 0.5) / 3


# ----- topk -----

def test_topk_values_and_indices_lower_index_first():
    x = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 0.0]])
    values, indices = cr.topk(x, 4)
    np.testing.assert_array_equal(values, [[3.0, 3.0, 3.0, 2.0]])
    np.testing.assert_array_equal(indices, [[1, 2, 4, 3]])
    values, indices = cr.topk(x, 2, largest=False)
    np.testing.assert_array_equal(indices, [[5, 0]])
    assert indices.dtype.kind == "i"


def test_topk_tie_cut_by_the_kth_place_shares_with_the_cut_off_element():
    x = np.array([5.0, 1.0, 5.0, 5.0])
    g = cr.grad(lambda v: cr.sum(cr.topk(v, 2)[0] * np.array([1.0, 2.0])))(x)
    np.testing.assert_array_equal(g, [1.0, 0.0, 1.0, 1.0])  # (1 + 2 + 0) / 3 each
    _, t = cr.jvp(lambda v: cr.topk(v, 1)[0], (x,), (np.array([3.0, 0.0, 0.0, 0.0]),))
    np.testing.assert_array_equal(t, [1.0])
    with cr.subgradient_policy("jax"):
        g = cr.grad(lambda v: cr.sum(cr.topk(v, 2)[0] * np.array([1.0, 2.0])))(x)
    np.testing.assert_array_equal(g, [1.0, 0.0, 2.0, 0.0])  # lax.top_k: lower index first


def test_pytorch_policy_routes_topk_like_torch_through_the_returned_indices():
    """torch.topk's choice among ties is unspecified (not the stable order); its gradient
    is the cotangent scattered to the indices it returned, and so is chainrule's."""
    rng = np.random.default_rng(1)
    for _ in range(20):
        x = rng.integers(0, 3, size=(2, 6)).astype(float)
        w = rng.standard_normal((2, 3))
        xt = torch.tensor(x, requires_grad=True)
        tv, ti = torch.topk(xt, 3)
        (tv * torch.tensor(w)).sum().backward()
        expected = np.zeros_like(x)
        np.put_along_axis(expected, ti.numpy(), w, axis=1)
        np.testing.assert_array_equal(xt.grad.numpy(), expected)
        values, indices = cr.topk(x, 3)
        np.testing.assert_array_equal(values, tv.detach().numpy())
        with cr.subgradient_policy("pytorch"):
            g = cr.grad(lambda v: cr.sum(cr.topk(v, 3)[0] * w))(x)
        ours = np.zeros_like(x)
        np.put_along_axis(ours, indices, w, axis=1)
        np.testing.assert_array_equal(g, ours)


# ----- second order and dtypes -----

def test_second_order_at_a_tie_differentiates_the_chosen_jacobian():
    x = np.array([1.0, 1.0])
    f = lambda v: cr.sum(cr.sort(v) ** 2 * np.array([1.0, 3.0]))  # noqa: E731
    np.testing.assert_array_equal(cr.grad(f)(x), [4.0, 4.0])
    # J*^T diag(2 w) J* with J* = [[1/2, 1/2], [1/2, 1/2]]
    expected = np.full((2, 2), 2.0)
    for hess in (cr.hessian(f), cr.jacfwd(cr.grad(f)), cr.jacfwd(cr.jacfwd(f))):
        np.testing.assert_allclose(hess(x), expected, rtol=1e-15)
    with cr.subgradient_policy("pytorch"):
        np.testing.assert_array_equal(cr.hessian(f)(x), np.diag([2.0, 6.0]))
    xt = torch.tensor(x, requires_grad=True)
    th = torch.autograd.functional.hessian(
        lambda v: (torch.sort(v, stable=True).values ** 2 * torch.tensor([1.0, 3.0])).sum(), xt)
    np.testing.assert_array_equal(th.numpy(), np.diag([2.0, 6.0]))


def test_float32_stays_float32():
    x = cr.tensor(np.array([1.0, 1.0, 0.5], dtype=np.float32), requires_grad=True)
    (cr.sort(x) * cr.tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32))).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.5, 2.5, 1.0])


# ----- kinks() -----

def test_kinks_reports_each_tie_with_its_orderings_and_the_share_taken():
    x = np.array([[1.0, 3.0, 1.0, 1.0], [0.0, 2.0, 2.0, 4.0]])
    with cr.kinks() as report:
        cr.sort(x)
    (event,) = report
    assert (event.primitive, event.count, event.indices) == ("sort", 2, [(0, 0), (1, 1)])
    assert event.elements == [[(0, 0), (0, 2), (0, 3)], [(1, 1), (1, 2)]]
    assert event.points == [(1.0, 1.0, 1.0), (2.0, 2.0)]
    assert event.subdifferentials == [Orderings(3, 3), Orderings(2, 2)]
    assert event.chosen == [(1 / 3, 1 / 3, 1 / 3), (0.5, 0.5)]
    assert event.interval(0, 1) == (0.0, 1.0)
    assert "the hull of the orderings of 3 tied elements" in str(event)
    with cr.subgradient_policy("pytorch"), cr.kinks() as report:
        cr.sort(x)
    assert report[0].chosen == [(1.0, 0.0, 0.0), (1.0, 0.0)] and report[0].policy == "pytorch"


def test_kinks_topk_reports_only_ties_that_reach_the_output():
    x = np.array([5.0, 1.0, 1.0, 0.0])
    with cr.kinks() as report:
        cr.topk(x, 1)  # the tie of 1s is cut off
        cr.topk(x, 2)  # the k-th place cuts through it
        cr.topk(x, 3)  # both tied elements selected
    cut, inside = report
    assert cut.primitive == "topk" and cut.elements == [[(1,), (2,)]]
    assert cut.indices == [(1,)] and cut.subdifferentials == [Orderings(2, 1)]
    assert str(cut.subdifferentials[0]) == "the hull of the picks of 1 of 2 tied elements"
    assert cut.chosen == [(0.5, 0.5)]
    assert inside.subdifferentials == [Orderings(2, 2)]


def test_kinks_near_ties_within_tol_and_none_without_ties():
    x = np.array([1.0, 1.0 + 1e-9, 0.0])
    with cr.kinks() as exact:
        cr.grad(lambda v: cr.sum(cr.sort(v) * W[:3]))(x)
    assert list(exact) == []
    with cr.kinks(tol=1e-6) as near:
        cr.sort(x)
    assert near[0].elements == [[(0,), (1,)]]
    assert near[0].chosen == [(1.0, 0.0)]  # not a tie to the rule: the permutation


def test_table_lists_sort_and_topk_for_every_policy():
    for name in ("sort", "topk"):
        kink = TABLE[name]
        assert kink.choice == {"min-norm": "average", "pytorch": "stable", "jax": "stable"}
        assert set(kink.says) == {"min-norm", "pytorch", "jax"}
        assert "chainrule.subgradients.TABLE" in cr.ops.sorting.sort_p.kink


# ----- argsort, NumPy dispatch and errors -----

def test_argsort_matches_numpy_and_carries_no_derivative():
    x = np.array([[2.0, 1.0, 2.0], [0.0, 0.0, -1.0]])
    np.testing.assert_array_equal(cr.argsort(x, kind="stable"), np.argsort(x, kind="stable"))
    np.testing.assert_array_equal(cr.argsort(x, axis=0, stable=True),
                                  np.argsort(x, axis=0, stable=True))
    np.testing.assert_array_equal(cr.argsort(x, axis=None), np.argsort(x, axis=None))
    np.testing.assert_array_equal(cr.argsort(x, descending=True), [[0, 2, 1], [0, 1, 2]])
    g = cr.grad(lambda v: cr.sum(cr.astype(cr.argsort(v), v.dtype) * v))(x[0])
    np.testing.assert_array_equal(g, np.argsort(x[0]))  # the indices are constants


def test_numpy_functions_dispatch_to_sort_and_argsort():
    t = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    out = np.sort(t)
    assert isinstance(out, cr.Tensor)
    (out * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [3.0, 1.0, 2.0])
    np.testing.assert_array_equal(np.argsort(t).numpy(), [1, 2, 0])


def test_flattened_and_empty_sorts():
    x = np.array([[3.0, 1.0], [2.0, 1.0]])
    np.testing.assert_array_equal(cr.sort(x, axis=None), [1.0, 1.0, 2.0, 3.0])
    g = cr.grad(lambda v: cr.sum(cr.sort(v, axis=None) * W))(x)
    np.testing.assert_array_equal(g, [[4.0, 1.5], [3.0, 1.5]])
    assert cr.sort(np.zeros((2, 0))).shape == (2, 0)
    values, indices = cr.topk(np.ones((2, 3)), 0)
    assert values.shape == indices.shape == (2, 0)
    np.testing.assert_array_equal(cr.grad(lambda v: cr.sum(cr.topk(v, 0)[0]))(np.ones(3)),
                                  np.zeros(3))


def test_errors_name_the_operation():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="sort: axis 2 is out of range"):
        cr.sort(x, axis=2)
    with pytest.raises(TypeError, match="sort: order= sorts structured arrays"):
        cr.sort(x, order="f")
    with pytest.raises(TypeError, match="argsort: axis must be an int or None"):
        cr.argsort(x, axis=(0, 1))
    with pytest.raises(ValueError, match="sort: a 0-d array has no axis"):
        cr.sort(np.float64(1.0))
    with pytest.raises(ValueError, match=r"topk: k must be an int from 0 to 3 .*got 4"):
        cr.topk(x, 4)
    with pytest.raises(ValueError, match="topk: k must be an int"):
        cr.topk(x, 1.5)
    with pytest.raises(ValueError, match="topk: x must have at least one dimension"):
        cr.topk(np.float64(1.0), 1)
    with pytest.raises(TypeError, match="topk: axis must be an int"):
        cr.topk(x, 1, axis=None)
