"""cr.kinks() on reductions: ties in max/min and max pooling (the simplex over the tied
elements), a norm at 0 (the dual-norm ball), std at a constant slice. Exact values;
the PyTorch policy against PyTorch itself."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.subgradients import Ball, Hull, Pole, Simplex

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def events(f, *args, tol=0.0):
    with cr.kinks(tol=tol) as report:
        f(*args)
    return report


# ----- max and min: ties share evenly -----

def test_max_ties_name_the_slices_the_tied_elements_and_the_even_share():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 1.0, 0.0], [5.0, 5.0, 5.0]])
    (event,) = events(cr.grad(lambda v: cr.sum(cr.max(v, axis=1))), x)
    assert (event.primitive, event.count, event.indices) == ("max", 2, [(0,), (2,)])
    assert event.elements == [[(0, 1), (0, 2)], [(2, 0), (2, 1), (2, 2)]]
    assert event.points == [(3.0, 3.0), (5.0, 5.0, 5.0)]
    assert event.subdifferentials == [Simplex(2), Simplex(3)]
    assert event.chosen == [(0.5, 0.5), (1 / 3, 1 / 3, 1 / 3)]
    assert event.interval(1, 2) == (0.0, 1.0)
    assert event.perturbed == (0,)
    assert "the simplex over 3 tied elements, took (0.333333, 0.333333, 0.333333)" in str(event)


def test_min_over_every_axis_and_keepdims():
    x = np.array([[0.0, 1.0], [0.0, 0.0]])
    (event,) = events(lambda v: cr.min(v), x)
    assert event.indices == [()] and event.elements == [[(0, 0), (1, 0), (1, 1)]]
    (kept,) = events(lambda v: cr.max(v, axis=0, keepdims=True), x)
    assert kept.indices == [(0, 0)] and kept.elements == [[(0, 0), (1, 0)]]
    assert events(cr.max, np.array([1.0, 2.0])) == []


def test_near_ties_within_tol_report_the_share_actually_taken():
    (event,) = events(cr.max, np.array([1.0, 3.0, 3.0 + 1e-9]), tol=1e-6)
    assert event.elements == [[(1,), (2,)]]
    assert event.chosen == [(0.0, 1.0)]  # the exact maximum takes everything
    assert events(cr.max, np.array([1.0, 3.0, 3.0 + 1e-9])) == []


def test_forward_mode_records_reductions_too():
    with cr.kinks() as report:
        cr.jvp(cr.max, (np.array([2.0, 2.0]),), (np.array([1.0, 0.0]),))
    assert [e.primitive for e in report] == ["max"] and report[0].chosen == [(0.5, 0.5)]


# ----- max pooling: the windows' ties in the input's coordinates -----

X44 = np.ones((1, 1, 4, 4))
X44[0, 0, 0, 1], X44[0, 0, 2, 2] = 2.0, 3.0


def test_max_pool2d_reports_windows_and_input_pixels():
    (event,) = events(cr.grad(lambda v: cr.sum(cr.max_pool2d(v, 2))), X44)
    assert (event.primitive, event.kink, event.count) == ("max_pool2d", "max_pool", 2)
    assert event.indices == [(0, 0, 0, 1), (0, 0, 1, 0)]
    assert event.elements == [[(0, 0, 0, 2), (0, 0, 0, 3), (0, 0, 1, 2), (0, 0, 1, 3)],
                              [(0, 0, 2, 0), (0, 0, 2, 1), (0, 0, 3, 0), (0, 0, 3, 1)]]
    assert event.subdifferentials == [Simplex(4), Simplex(4)]
    assert event.chosen == [(0.25,) * 4] * 2
    assert "ties among a window's maxima" in str(event)


def test_max_pool_without_batch_axis_padding_and_dilation():
    x = np.zeros((1, 3, 3))  # (C, H, W); padding is -inf and never ties
    (event,) = events(lambda v: cr.max_pool2d(v, 2, stride=2, padding=1), x)
    assert event.count == 3  # the corner window holds one real pixel: no tie
    assert event.indices == [(0, 0, 1), (0, 1, 0), (0, 1, 1)]
    assert event.elements == [[(0, 0, 1), (0, 0, 2)], [(0, 1, 0), (0, 2, 0)],
                              [(0, 1, 1), (0, 1, 2), (0, 2, 1), (0, 2, 2)]]
    (dil,) = events(lambda v: cr.max_pool1d(v, 2, stride=1, dilation=2),
                    np.array([[[1.0, 0.0, 1.0, 5.0]]]))
    assert dil.indices == [(0, 0, 0)] and dil.elements == [[(0, 0, 0), (0, 0, 2)]]


def test_max_pool1d_overlapping_windows_min_norm_values():
    x = np.array([[[1.0, 3.0, 3.0, 3.0, 2.0]]])
    g = cr.grad(lambda v: cr.sum(cr.max_pool1d(v, 3, stride=1)))(x)
    # windows [1, 3, 3], [3, 3, 3], [3, 3, 2]: shares 1/2, 1/3 and 1/2 among their ties
    np.testing.assert_allclose(g, [[[0.0, 5 / 6, 4 / 3, 5 / 6, 0.0]]], rtol=0, atol=1e-15)


def _torch_pool_grad(pool, x, **kw):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    pool(t, **kw).sum().backward()
    return t.grad.numpy()


@pytest.mark.parametrize("ours, theirs, x, kw", [
    (cr.max_pool2d, torch.nn.functional.max_pool2d, X44, {"kernel_size": 2}),
    (cr.max_pool1d, torch.nn.functional.max_pool1d, np.array([[[1.0, 3.0, 3.0, 3.0, 2.0]]]),
     {"kernel_size": 3, "stride": 1}),
    (cr.max_pool2d, torch.nn.functional.max_pool2d,
     np.random.default_rng(0).integers(0, 3, (2, 2, 5, 5)).astype(float),
     {"kernel_size": 3, "stride": 2, "padding": 1}),
    (cr.max_pool2d, torch.nn.functional.max_pool2d,
     np.random.default_rng(1).integers(0, 2, (1, 3, 6, 6)).astype(float),
     {"kernel_size": 2, "stride": 1, "dilation": 2}),
])
def test_pytorch_and_jax_policies_give_the_first_maximum_everything(ours, theirs, x, kw):
    expected = _torch_pool_grad(theirs, x, **kw)
    for policy in ("pytorch", "jax"):
        with cr.subgradient_policy(policy):
            got = cr.grad(lambda v: cr.sum(ours(v, **kw)))(x)
        np.testing.assert_array_equal(got, expected)
    with cr.subgradient_policy("pytorch"), cr.kinks() as report:
        cr.grad(lambda v: cr.sum(ours(v, **kw)))(x)
    assert all(sorted(c) == [0.0] * (len(c) - 1) + [1.0] for e in report for c in e.chosen)


def test_cr_max_keeps_the_even_split_under_the_pytorch_policy():
    with cr.subgradient_policy("pytorch"):
        np.testing.assert_array_equal(cr.grad(cr.max)(np.array([2.0, 2.0])), [0.5, 0.5])


# ----- norms at 0: the unit ball of the dual norm -----

def test_two_norm_at_zero_is_the_unit_ball():
    (event,) = events(cr.grad(cr.norm), np.zeros(3))
    assert (event.primitive, event.indices, event.points) == ("vector_norm", [()], [(0.0,) * 3])
    assert event.elements == [[(0,), (1,), (2,)]]
    assert event.subdifferentials == [Ball(2.0, 1.0, 3)] and event.chosen == [(0.0,) * 3]
    assert event.interval(0, 1) == (-1.0, 1.0)
    assert "the unit 2-norm ball" in str(event)


@pytest.mark.parametrize("p, q", [(3.0, 1.5), (1.5, 3.0), (4.0, 4 / 3)])
def test_p_norms_at_zero_give_the_dual_ball(p, q):
    x = np.array([[0.0, 0.0], [3.0, 0.0]])
    (event,) = events(lambda v: cr.norm(v, ord=p, axis=1), x)
    assert event.indices == [(0,)] and event.elements == [[(0, 0), (0, 1)]]
    assert event.subdifferentials == [Ball(q, 1.0, 2)]
    assert event.chosen == [(0.0, 0.0)]


def test_one_norm_kinks_at_each_zero_element_with_abs_choice():
    x = np.array([0.0, 1.0, 0.0])
    (event,) = events(lambda v: cr.norm(v, ord=1), x)
    assert event.indices == [(0,), (2,)] and event.elements is None
    assert event.subdifferentials == [Hull([(1.0,), (-1.0,)])] * 2
    assert event.chosen == [(0.0,), (0.0,)]
    with cr.subgradient_policy("jax"):  # jnp.linalg.norm(x, 1) is sum(abs(x)): abs'(0) = 1
        (jax_event,) = events(lambda v: cr.norm(v, ord=1), x)
        np.testing.assert_array_equal(cr.grad(lambda v: cr.norm(v, ord=1))(x), [1, 1, 1])
    assert jax_event.chosen == [(1.0,), (1.0,)]


def test_orders_below_one_have_no_subdifferential_at_zero_elements():
    (event,) = events(lambda v: cr.norm(v, ord=0.5), np.array([0.0, 1.0]))
    assert event.subdifferentials == [Pole(-math.inf, math.inf)]
    assert math.isnan(event.chosen[0][0])
    with pytest.raises(ValueError, match="no subdifferential at a pole"):
        event.interval()


def test_norm_near_zero_within_tol_reports_the_actual_gradient():
    (event,) = events(cr.norm, np.array([1e-9, -1e-9]), tol=1e-6)
    np.testing.assert_allclose(event.chosen[0], [2 ** -0.5, -(2 ** -0.5)], rtol=1e-15)
    assert events(cr.norm, np.array([1e-9, -1e-9])) == []


def test_inf_norm_is_abs_then_max():
    report = events(lambda v: cr.norm(v, ord=np.inf), np.zeros(2))
    assert [e.primitive for e in report] == ["abs", "max"]


def test_frobenius_norm_of_a_zero_matrix():
    (event,) = events(cr.norm, np.zeros((2, 2)))
    assert event.elements == [[(0, 0), (0, 1), (1, 0), (1, 1)]]
    assert event.subdifferentials == [Ball(2.0, 1.0, 4)]


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("x", [[0.0, 0.0, 0.0], [0.0, 1.0, -2.0]])
def test_pytorch_policy_norms_match_pytorch(p, x):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.linalg.vector_norm(t, ord=p).backward()
    with cr.subgradient_policy("pytorch"):
        ours = cr.grad(lambda v: cr.norm(v, ord=p))(np.array(x))
    np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-15, atol=0)


def test_jax_policy_two_norm_at_zero_is_nan():
    with cr.subgradient_policy("jax"):
        assert np.isnan(cr.grad(cr.norm)(np.zeros(2))).all()


# ----- std: all reduced elements equal -----

def test_std_at_a_constant_slice_is_a_centred_ball():
    (event,) = events(cr.grad(cr.std), np.full(4, 2.0))
    assert event.subdifferentials == [Ball(2.0, 0.5, 4, centred=True)]
    assert event.chosen == [(0.0,) * 4]
    assert event.interval() == (-0.5 * math.sqrt(0.75), 0.5 * math.sqrt(0.75))
    (rows,) = events(lambda v: cr.std(v, axis=1, ddof=1), np.array([[1.0, 1.0, 1.0], [1, 2, 3]]))
    assert rows.indices == [(0,)]
    assert rows.subdifferentials == [Ball(2.0, 1 / math.sqrt(2), 3, centred=True)]


def test_std_policy_against_pytorch_and_the_subgradient_property():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    t = torch.tensor(x, requires_grad=True)
    torch.std(t, dim=1, correction=0).sum().backward()
    with cr.subgradient_policy("pytorch"):
        ours = cr.grad(lambda v: cr.sum(cr.std(v, axis=1)))(x)
    np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-14, atol=0)
    # 0 is a subgradient: std(c + h) >= std(c) + 0 . h for every h (std is convex)
    rng = np.random.default_rng(0)
    assert all(float(cr.std(2.0 + h)) >= 0.0 for h in rng.normal(size=(20, 3)))
