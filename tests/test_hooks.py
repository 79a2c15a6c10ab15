"""Tensor.register_hook, Tensor.retain_grad and Module forward hooks, against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import reverse


def _both(values):
    a = cr.tensor(values, requires_grad=True)
    b = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    return a, b


def test_hook_replaces_the_cotangent_like_torch():
    v = [0.5, -1.0, 2.0]
    for lib, (x, mod) in (("cr", (cr.tensor(v, requires_grad=True), cr)),
                          ("torch", (torch.tensor(v, dtype=torch.float64,
                                                  requires_grad=True), torch))):
        y = x * x
        y.register_hook(lambda g: g * 3)
        z = mod.sin(y)
        z.sum().backward()
        if lib == "cr":
            got = x.grad.numpy()
        else:
            want = x.grad.numpy()
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(got, 3 * np.cos(np.square(v)) * 2 * np.array(v))


def test_hook_sees_the_whole_cotangent_and_remove_undoes_it():
    x = cr.tensor(2.0, requires_grad=True)
    y = x * 3.0
    seen = []
    handle = y.register_hook(lambda g: seen.append(float(g.numpy())))
    (y * y + y).backward(retain_graph=False)  # two paths reach y: one call with the sum
    assert seen == [2 * 6.0 + 1]
    handle.remove()
    assert id(y._node) not in reverse.node_hooks  # nothing left on that node
    y2 = x * 3.0
    (y2 * y2).backward()
    assert seen == [13.0]


def test_leaf_hook_before_accumulation_and_second_order():
    x, xt = _both([1.0, 2.0])
    for t in (x, xt):
        t.register_hook(lambda g: g + 1)
    (x ** 3).sum().backward()
    (xt ** 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    # with create_graph the hook sees a tensor on the graph
    y = cr.tensor(1.5, requires_grad=True)
    z = y * y
    z.register_hook(lambda g: g * y)
    z.backward(create_graph=True)
    gy = y.grad
    assert np.isclose(float(gy), 2 * 1.5 * 1.5)


def test_retain_grad_like_torch_and_no_warning():
    x, xt = _both([0.3, -0.7])
    for t, mod in ((x, cr), (xt, torch)):
        y = mod.tanh(t) * 2
        y.retain_grad()
        (y * y).sum().backward()
        if mod is cr:
            got, y_cr = y.grad.numpy(), y
        else:
            want = y.grad.numpy()
    np.testing.assert_allclose(got, want)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y_cr.grad is not None
        fresh = cr.tanh(x)
        fresh.retain_grad()
        assert fresh.grad is None  # retained but not yet computed: no warning
    with pytest.warns(UserWarning, match=r"non-leaf.*retain_grad\(\)"):
        assert cr.tanh(x).grad is None


def test_retain_grad_sees_what_the_other_hooks_made_like_torch():
    x, xt = _both([1.0, 2.0])
    for t in (x, xt):
        y = t * t
        y.retain_grad()  # registered first, still runs last
        y.register_hook(lambda g: g * 10)
        y.sum().backward()
        if t is x:
            got = (x.grad.numpy(), y.grad.numpy())
        else:
            want = (xt.grad.numpy(), y.grad.numpy())
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1])


def test_hook_errors():
    x = cr.tensor(1.0)
    with pytest.raises(RuntimeError, match="register_hook: this tensor does not require grad"):
        x.register_hook(lambda g: g)
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    y.register_hook(lambda g: cr.ones(3))
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(2,\)"):
        y.sum().backward()


def test_module_forward_hooks():
    layer = cr.nn.Linear(3, 2)
    x = cr.tensor(np.ones((4, 3)))
    calls = []
    h1 = layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    h2 = layer.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    got = layer(x).numpy()
    want = (x.numpy() * 2) @ layer.weight.numpy().T + layer.bias.numpy() + 1
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert calls == [(4, 2)]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(layer(x).numpy(),
                               x.numpy() @ layer.weight.numpy().T + layer.bias.numpy(),
                               rtol=1e-6)
    # inside a Sequential the children's hooks fire
    seq = cr.nn.Sequential(cr.nn.Linear(3, 3), cr.nn.Tanh())
    names = []
    for child in seq.children():
        child.register_forward_hook(lambda m, a, o: names.append(type(m).__name__))
    seq(x)
    assert names == ["Linear", "Tanh"]


def test_hooks_on_zero_d_tensors_see_tensors_over_arrays():
    # a first-order sweep may carry a 0-d cotangent as a NumPy scalar (the seed of a 0-d
    # root, a sum's cotangent): a hook is still handed a tensor whose data is an array
    x = cr.tensor([3.0, 1.0], requires_grad=True)
    s = (x * x).sum()
    loss = s * 2.0
    kinds = []

    def double(g):
        kinds.append(type(g.data))
        return g * 2

    loss.register_hook(double)
    s.register_hook(double)
    loss.backward()
    assert kinds == [np.ndarray, np.ndarray]
    np.testing.assert_array_equal(x.grad.numpy(), [48.0, 16.0])  # 4x, 2x twice


def test_hooks_run_once_when_a_nan_takes_the_masked_sweep():
    # cosh(800) is inf and the where passes sinh a zero cotangent there: 0 * inf is the
    # NaN that makes the sweep keep exact zeros. The hooks must still run once each, so
    # retain_grad holds the gradient, not twice it (it did, via a second, masked pass)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        x = cr.tensor([800.0, 0.5], requires_grad=True)
        s = cr.sinh(x)
        s.retain_grad()
        calls = []
        h = cr.tanh(x)
        h.register_hook(lambda g: calls.append(g.numpy().copy()))
        leaf_calls = []
        x.register_hook(lambda g: leaf_calls.append(1))
        (cr.where(x < 10, s, 0.0) + h).sum().backward()
    xt = torch.tensor([800.0, 0.5], dtype=torch.float64, requires_grad=True)
    st = torch.sinh(xt)
    st.retain_grad()
    (torch.where(xt < 10, st, 0.0) + torch.tanh(xt)).sum().backward()
    np.testing.assert_array_equal(s.grad.numpy(), st.grad.numpy())  # [0, 1]
    assert len(calls) == 1 and len(leaf_calls) == 1
    np.testing.assert_array_equal(calls[0], [1.0, 1.0])
    assert x.grad.numpy()[0] == 0.0  # exact zero kept through the infinite partial
    np.testing.assert_allclose(x.grad.numpy()[1], xt.grad.numpy()[1], rtol=1e-15)


def test_a_hook_elsewhere_leaves_other_graphs_on_the_plain_sweep(monkeypatch):
    kept = cr.tensor([1.0, 2.0], requires_grad=True) * 2.0  # a notebook keeps it
    kept.retain_grad()
    general = []
    sweep = reverse._sweep
    monkeypatch.setattr(reverse, "_sweep", lambda *a: general.append(1) or sweep(*a))
    x = cr.tensor([0.3, -0.7], requires_grad=True)
    (cr.sin(x) * cr.cos(x)).sum().backward()
    assert not general  # this graph has no hooks: the plain sweep did it all
    np.testing.assert_allclose(x.grad.numpy(), np.cos(2 * np.array([0.3, -0.7])),
                               rtol=1e-14)
    y = cr.sin(x) * 3.0
    y.retain_grad()
    (y * y).sum().backward()  # a node with hooks: run by the plain sweep as it passes
    assert not general
    np.testing.assert_allclose(y.grad.numpy(), 2 * y.data, rtol=1e-15)
    assert kept.grad is None


def test_a_hook_whose_cotangent_holds_a_nan_runs_once_on_the_masked_one():
    # the NaN (0 * cosh(800) = 0 * inf) reaches a's node before its hook has run: the
    # sweep starts again masked, keeping what s's hook made (it saw no NaN), so every
    # hook runs once, a's on the masked cotangent
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        x = cr.tensor([800.0, 0.5], requires_grad=True)
        a = x * 1.0
        seen = []
        a.register_hook(lambda g: seen.append(g.numpy().copy()))
        s = cr.sinh(a)
        s.retain_grad()
        cr.where(a < 10, s, 0.0).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [0.0, np.cosh(0.5)])
    np.testing.assert_array_equal(s.grad.numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, np.cosh(0.5)])


def test_a_hook_returning_another_dtype_is_cast_to_the_tensors():
    x = cr.tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x * x  # an operator's node that fits no cotangent (same shape and dtype)
    y.register_hook(lambda g: np.asarray(g, dtype=np.float64) * 3)
    (y * 2.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.float32(6) * 2 * x.data)
