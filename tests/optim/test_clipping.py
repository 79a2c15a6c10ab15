"""Gradient clipping against torch.nn.utils, and its aliasing-safe update."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim

RNG = np.random.default_rng(1)
GRADS = [RNG.standard_normal((3, 4)) * 3, RNG.standard_normal(5)]


def with_grads(scale=1.0):
    params = []
    for g in GRADS:
        p = cr.tensor(np.zeros_like(g), requires_grad=True)
        p.grad = cr.tensor(g * scale)
        params.append(p)
    return params


def torch_with_grads(scale=1.0):
    params = []
    for g in GRADS:
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(g * scale)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    ours, theirs = with_grads(), torch_with_grads()
    total = optim.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type,
                                             foreach=False)
    np.testing.assert_allclose(float(total), float(t_total), rtol=1e-13)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-13)


def test_clip_grad_norm_reaches_max_norm():
    params = with_grads()
    optim.clip_grad_norm_(params, 1.0)
    joint = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in params))
    assert joint == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_value_matches_pytorch():
    ours, theirs = with_grads(), torch_with_grads()
    optim.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7, foreach=False)
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
        assert np.abs(p.grad.numpy()).max() == 0.7


def test_shared_cotangent_is_clipped_once_per_leaf():
    # a + b gives both leaves the same cotangent array: each must be scaled once
    a = cr.tensor([3.0, 0.0], requires_grad=True)
    b = cr.tensor([0.0, 4.0], requires_grad=True)
    ((a + b) * cr.tensor([3.0, 4.0])).sum().backward()
    optim.clip_grad_value_([a, b], 3.5)
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.5])
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 3.5])
    a.grad, b.grad = cr.tensor([3.0, 4.0]), cr.tensor([3.0, 4.0])
    shared = a.grad.data
    b.grad.data = shared
    optim.clip_grad_norm_([a, b], 5.0)
    np.testing.assert_allclose(a.grad.numpy(), [3.0 / np.sqrt(2), 4.0 / np.sqrt(2)], rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy())


def test_float32_gradients_stay_float32_and_missing_grads_are_skipped():
    p = cr.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    p.grad = cr.tensor(np.full(3, 10.0, dtype=np.float32))
    q = cr.tensor([1.0], requires_grad=True)  # no gradient
    optim.clip_grad_norm_([p, q], 1.0)
    assert p.grad.dtype == np.float32 and q.grad is None
    assert float(optim.clip_grad_norm_([q], 1.0)) == 0.0


def test_errors():
    params = with_grads()
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        optim.clip_grad_norm_(params, -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        optim.clip_grad_norm_(params, 1.0, norm_type=0.0)
    with pytest.raises(ValueError, match="clip_value"):
        optim.clip_grad_value_(params, -1.0)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray"):
        optim.clip_grad_value_([np.zeros(2)], 1.0)
    params[0].grad = cr.tensor(np.full((3, 4), np.inf))
    with pytest.raises(FloatingPointError, match="total 2.0-norm"):
        optim.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
