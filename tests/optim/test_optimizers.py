"""Optimizers: 20-step float64 trajectories equal PyTorch's; state, errors, dtypes."""

import weakref

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim

RNG = np.random.default_rng(0)
X = RNG.standard_normal((5, 3))
W0 = RNG.standard_normal((3, 4))
B0 = RNG.standard_normal(4)
STEPS = 20


def cr_loss(w, b):
    # nonconvex enough that every coordinate's gradient changes along the way
    return (cr.tanh(cr.tensor(X) @ w + b) ** 2).sum() + 0.1 * (w * w * w).sum()


def torch_loss(w, b):
    return (torch.tanh(torch.tensor(X) @ w + b) ** 2).sum() + 0.1 * (w * w * w).sum()


def run_cr(make, steps=STEPS, groups=False):
    w, b = cr.tensor(W0, requires_grad=True), cr.tensor(B0, requires_grad=True)
    params = [{"params": [w]}, {"params": [b], "lr": 0.02}] if groups else [w, b]
    opt = make(params)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        cr_loss(w, b).backward()
        opt.step()
        path.append((w.numpy().copy(), b.numpy().copy()))
    return path


def run_torch(make, steps=STEPS, groups=False):
    w = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    params = [{"params": [w]}, {"params": [b], "lr": 0.02}] if groups else [w, b]
    opt = make(params)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        torch_loss(w, b).backward()
        opt.step()
        path.append((w.detach().numpy().copy(), b.detach().numpy().copy()))
    return path


CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, eps=1e-6)),  # the other lerp branch
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.5), eps=1e-4)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                    enumerate(CASES)])
def test_trajectory_matches_pytorch(name, kwargs):
    ours = run_cr(lambda p: getattr(optim, name)(p, **kwargs))
    theirs = run_torch(lambda p: getattr(torch.optim, name)(p, foreach=False, **kwargs))
    for step, ((w, b), (tw, tb)) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(w, tw, rtol=1e-11, atol=1e-13, err_msg=f"step {step}")
        np.testing.assert_allclose(b, tb, rtol=1e-11, atol=1e-13, err_msg=f"step {step}")
    assert not np.allclose(ours[-1][0], W0)  # the parameters did move


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_match_pytorch(name):
    kwargs = {"lr": 0.05, "momentum": 0.9} if name != "Adam" else {"lr": 0.05}
    ours = run_cr(lambda p: getattr(optim, name)(p, **kwargs), groups=True)
    theirs = run_torch(lambda p: getattr(torch.optim, name)(p, foreach=False, **kwargs),
                       groups=True)
    np.testing.assert_allclose(ours[-1][1], theirs[-1][1], rtol=1e-11)
    np.testing.assert_allclose(ours[-1][0], theirs[-1][0], rtol=1e-11)


def test_defaults_match_pytorch():
    w = cr.tensor([1.0], requires_grad=True)
    tw = torch.tensor([1.0], requires_grad=True)
    for name in ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]:
        ours = getattr(optim, name)([w]).defaults
        theirs = getattr(torch.optim, name)([tw]).defaults
        for key, value in ours.items():
            expected = theirs[key]
            assert (tuple(value) if key == "betas" else value) == expected, (name, key)


def test_update_is_in_place_and_keeps_float32():
    w = cr.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    buffer = weakref.ref(w.data)  # a strong reference would make the step copy on write
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.data is buffer() and w.dtype == np.float32
    assert opt.state[w]["exp_avg"].dtype == np.float32


def test_parameter_without_grad_is_left_alone():
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    (a * a).sum().backward()
    opt.step()
    assert a.item() == 0.0 and b.item() == 2.0 and b not in opt.state


def test_zero_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and not w.grad.numpy().any()
    opt.zero_grad()
    assert w.grad is None


def test_shared_gradient_array_is_not_written():
    # a + b hands both leaves one cotangent; an update must not change the gradients
    a, b = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    before = a.grad.numpy().copy(), b.grad.numpy().copy()
    optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1).step()
    np.testing.assert_array_equal(a.grad.numpy(), before[0])
    np.testing.assert_array_equal(b.grad.numpy(), before[1])
    np.testing.assert_allclose(a.numpy(), [1.0 - 0.1 * 1.1, 2.0 - 0.1 * 1.2])


def test_closure_returns_loss():
    w = cr.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cr.no_grad():  # the closure records anyway
        loss = opt.step(closure)
    assert loss.item() == 9.0 and w.item() == 1.5


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_state_dict_resumes_the_same_trajectory(name):
    kwargs = {"lr": 0.05, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.05}
    make = lambda p: getattr(optim, name)(p, **kwargs)  # noqa: E731
    straight = run_cr(make, steps=10)

    w, b = cr.tensor(W0, requires_grad=True), cr.tensor(B0, requires_grad=True)
    opt = make([w, b])
    for _ in range(5):
        opt.zero_grad()
        cr_loss(w, b).backward()
        opt.step()
    saved, weights = opt.state_dict(), (w.numpy().copy(), b.numpy().copy())
    w2, b2 = cr.tensor(weights[0], requires_grad=True), cr.tensor(weights[1], requires_grad=True)
    opt2 = make([w2, b2])
    opt2.load_state_dict(saved)
    for _ in range(5):
        opt2.zero_grad()
        cr_loss(w2, b2).backward()
        opt2.step()
    np.testing.assert_array_equal(w2.numpy(), straight[-1][0])
    np.testing.assert_array_equal(b2.numpy(), straight[-1][1])


def test_state_dict_is_a_copy_and_load_checks_shapes():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([w])
    (w * w).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["state"][0]["step"] == 1.0
    sd["state"][0]["exp_avg"][:] = 99.0
    assert opt.state[w]["exp_avg"][0] != 99.0
    other = optim.Adam([cr.tensor([1.0, 2.0, 3.0], requires_grad=True)])
    with pytest.raises(ValueError, match=r"exp_avg.*shape \(2,\).*\(3,\)"):
        other.load_state_dict(sd)
    assert other.state == {}  # nothing half-loaded
    with pytest.raises(ValueError, match="parameter group"):
        optim.Adam([{"params": [w]}, {"params": [cr.tensor([1.0], requires_grad=True)]}]) \
            .load_state_dict(sd)


@pytest.mark.parametrize("make,match", [
    (lambda w: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda w: optim.SGD(w, lr=0.1), "single Tensor"),
    (lambda w: optim.SGD([w], lr=-0.1), "lr must be a finite number >= 0, got -0.1"),
    (lambda w: optim.Adam([w], lr=float("nan")), "lr must be"),
    (lambda w: optim.Adam([w], lr="fast"), "lr must be"),
    (lambda w: optim.SGD([w], lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
    (lambda w: optim.SGD([w], lr=0.1, momentum=-1.0), "momentum"),
    (lambda w: optim.Adam([w], betas=(0.9, 1.0)), r"betas\[1\] must be"),
    (lambda w: optim.Adam([w], betas=0.9), "betas must be a pair"),
    (lambda w: optim.RMSprop([w], alpha=-0.5), "alpha"),
    (lambda w: optim.Adagrad([w], eps=-1.0), "eps"),
    (lambda w: optim.SGD([w, w], lr=0.1), "appears twice"),
    (lambda w: optim.SGD([{"params": [w], "momentun": 0.9}], lr=0.1), "unknown hyperparam"),
    (lambda w: optim.SGD([w.numpy()], lr=0.1), "parameter 0 is a ndarray"),
    (lambda w: optim.SGD([cr.tensor([1, 2])], lr=0.1), "dtype int64"),
    (lambda w: optim.SGD([w * 2], lr=0.1), "not a leaf"),
])
def test_bad_arguments(make, match):
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises((ValueError, TypeError), match=match):
        make(w)


def test_gradient_of_wrong_shape():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    w.grad = cr.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"SGD: a parameter of shape \(2,\) has a gradient"):
        optim.SGD([w], lr=0.1).step()


def test_repr_lists_groups():
    w = cr.tensor([1.0], requires_grad=True)
    assert "group 0: 1 parameters, lr=0.1" in repr(optim.SGD([w], lr=0.1))
