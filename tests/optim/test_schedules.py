"""Learning-rate schedules: the same sequence of rates as PyTorch, number for number."""

import warnings

import pytest
import torch

import chainrule as cr
from chainrule import optim

EPOCHS = 30


def _groups(module, make_param):
    return [{"params": [make_param()], "lr": 0.1}, {"params": [make_param()], "lr": 0.5}]


def rates(lib, make_sched, epochs=EPOCHS):
    if lib == "cr":
        opt = optim.SGD(_groups(optim, lambda: cr.tensor([1.0], requires_grad=True)), lr=0.1)
        sched = make_sched(optim, opt)
    else:
        opt = torch.optim.SGD(_groups(torch.optim, lambda: torch.ones(1, requires_grad=True)),
                              lr=0.1)
        sched = make_sched(torch.optim.lr_scheduler, opt)
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns that no step ran before the first
        for _ in range(epochs):
            seen.append([group["lr"] for group in opt.param_groups])
            assert sched.get_last_lr() == seen[-1]
            opt.step()
            sched.step()
    return seen


def _sequential(m, opt):
    warm = m.LinearLR(opt, start_factor=0.1, total_iters=5)
    cosine = m.CosineAnnealingLR(opt, T_max=20, eta_min=0.001)
    return m.SequentialLR(opt, [warm, cosine], milestones=[5])


SCHEDULES = {
    "step": lambda m, opt: m.StepLR(opt, step_size=3, gamma=0.5),
    "multistep": lambda m, opt: m.MultiStepLR(opt, milestones=[2, 5, 5, 9], gamma=0.3),
    "exponential": lambda m, opt: m.ExponentialLR(opt, gamma=0.9),
    "cosine": lambda m, opt: m.CosineAnnealingLR(opt, T_max=10, eta_min=0.01),  # past T_max too
    "warmup": lambda m, opt: m.LinearLR(opt, start_factor=0.1, total_iters=4),
    "linear-decay": lambda m, opt: m.LinearLR(opt, start_factor=1.0, end_factor=0.2,
                                              total_iters=7),
    "lambda": lambda m, opt: m.LambdaLR(opt, lambda epoch: 1.0 / (1.0 + epoch)),
    "warmup-then-cosine": _sequential,
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_rates_equal_pytorch(name):
    ours = rates("cr", SCHEDULES[name])
    theirs = rates("torch", SCHEDULES[name])
    assert ours == theirs  # exactly: the same float operations in the same order
    assert len({tuple(r) for r in ours}) > 1  # the schedule did change the rate


def test_schedule_drives_the_optimizer():
    w = cr.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    moves = []
    for _ in range(3):
        before = w.item()
        opt.zero_grad()
        w.sum().backward()  # gradient 1: the step equals the rate
        opt.step()
        sched.step()
        moves.append(before - w.item())
    assert moves == [1.0, 0.5, 0.25]


def test_state_dict_resumes():
    opt = optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=1.0)
    sched = optim.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    saved = sched.state_dict()
    expected = []
    for _ in range(3):
        sched.step()
        expected.append(sched.get_last_lr())
    opt2 = optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=1.0)
    sched2 = optim.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(saved)
    opt2.param_groups[0]["lr"] = saved["_last_lr"][0]
    got = []
    for _ in range(3):
        sched2.step()
        got.append(sched2.get_last_lr())
    assert got == expected


@pytest.mark.parametrize("make,match", [
    (lambda opt: optim.StepLR(object(), step_size=1), "expected a chainrule optimizer"),
    (lambda opt: optim.StepLR(opt, step_size=0), "step_size must be a positive integer"),
    (lambda opt: optim.CosineAnnealingLR(opt, T_max=0), "T_max"),
    (lambda opt: optim.LinearLR(opt, start_factor=0.0), "start_factor"),
    (lambda opt: optim.LinearLR(opt, end_factor=2.0), "end_factor"),
    (lambda opt: optim.LambdaLR(opt, [lambda e: 1.0] * 2), "expected 1 functions"),
    (lambda opt: optim.SequentialLR(opt, [optim.StepLR(opt, 2)], milestones=[3]),
     "need 0 milestones"),
    (lambda opt: optim.ExponentialLR(opt, 0.9, last_epoch=3), "initial_lr"),
])
def test_bad_arguments(make, match):
    opt = optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises((ValueError, TypeError, KeyError), match=match):
        make(opt)
