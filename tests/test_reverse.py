"""The reverse sweep: accumulation, deep chains, graph lifetime, higher order, grad mode."""

import gc
import weakref

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import reverse

# ----- accumulation -----


def test_gradients_accumulate_until_reset():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0 + 3.0, 4.0 + 3.0])
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_fan_out_accumulates_every_use():
    x = cr.tensor(1.5, requires_grad=True)
    y = x * x + cr.sin(x) * x
    for _ in range(50):
        y = y + x
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 1.5 + np.cos(1.5) * 1.5 + np.sin(1.5) + 50)


def test_shared_intermediate_receives_the_sum_of_its_cotangents():
    x = cr.tensor(0.7, requires_grad=True)
    h = cr.exp(x)  # used by three consumers
    (h * h + cr.log(h) + 3.0 * h).backward()
    e = np.exp(0.7)
    assert x.grad.item() == pytest.approx(2 * e * e + 1.0 + 3.0 * e)


def test_nested_diamonds_match_torch():
    # branches that rejoin at different depths: the sweep keeps the newest
    # waiting node out of its heap, which must not change the visiting order
    def f(lib, x):
        a = lib.sin(x)
        b = a * a
        c = lib.cos(a) + b
        d = b * c + a
        return (d * lib.tanh(c) + a * d).sum()
    data = np.linspace(-1.5, 1.5, 7)
    x = cr.tensor(data, requires_grad=True)
    y = f(cr, x)
    _, swept = reverse._sweep_plain(y._node, np.ones(()))
    assert len(swept) == len(set(swept))  # each node visited once, after all its users
    y.backward()
    xt = torch.tensor(data, requires_grad=True)
    f(torch, xt).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_backward_of_a_leaf_itself():
    x = cr.tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_explicit_gradient_seeds_the_sweep():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(gradient=np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, -6.0])


# ----- deep chains -----

N_CHAIN = 100_000


def test_a_100000_op_chain_backprops_and_frees_without_recursion():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(N_CHAIN):
        y = y * 1.00001
    probe = weakref.ref(y._node)
    y.backward(retain_graph=True)  # the topological order is iterative
    assert x.grad.item() == pytest.approx(1.00001 ** N_CHAIN, rel=1e-9)
    mid = y
    for _ in range(N_CHAIN // 2):  # walk down to a tensor in the middle of the chain
        mid = mid._node.inputs[0]
    mid_ref = weakref.ref(mid)
    del mid
    gc.disable()
    try:
        del y  # a 100,000-deep chain of tensors and nodes freed by refcounting alone
        assert probe() is None and mid_ref() is None
    finally:
        gc.enable()


# ----- graph lifetime -----


def test_second_backward_through_a_freed_graph_says_so():
    x = cr.tensor(2.0, requires_grad=True)
    y = cr.exp(x) * x
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = cr.tensor(2.0, requires_grad=True)
    y = cr.exp(x) * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3.0 * np.exp(2.0))
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_dropped_output_frees_its_graph_by_refcounting_alone():
    x = cr.tensor(np.ones(3), requires_grad=True)
    c = cr.tensor(np.full(3, 2.0))
    gc.disable()  # so only reference counting can free anything
    try:
        h = cr.sin(x) * c
        y = cr.sum(h + x)
        refs = [weakref.ref(v) for v in (h, c, y, y._node, h._node)]
        del h, c, y
        assert [r() is None for r in refs] == [True] * 5
        assert x.grad is None and x.requires_grad  # the leaf lives on
    finally:
        gc.enable()


def test_backward_releases_saved_values_while_the_output_lives():
    x = cr.tensor(np.ones(4), requires_grad=True)
    gc.disable()
    try:
        h = cr.exp(x)
        y = cr.sum(h * h)
        refs = [weakref.ref(h.data), weakref.ref(h._node)]
        del h
        assert [r() is not None for r in refs] == [True, True]  # saved for the sweep
        y.backward()
        assert [r() for r in refs] == [None, None]  # used by the sweep, then released;
        # y is still alive
    finally:
        gc.enable()


def test_intermediate_cotangents_are_released_once_used():
    refs, alive = [], []

    def vjp(g, out, x):
        alive.append([r() is not None for r in refs])  # cotangents handed to earlier rules
        refs.append(weakref.ref(g))
        return g * 1.0  # a new array for the next node

    spy = cr.primitive(lambda x: x * 1.0, name="release_spy")
    spy.defvjp(vjp)
    x = cr.tensor(np.ones(100), requires_grad=True)
    y = x
    for _ in range(5):
        y = spy(y)
    gc.disable()
    try:
        y.backward(np.ones(100))
    finally:
        gc.enable()
    # only the seed (still held by the caller) outlives its use
    assert alive == [[], [True], [True, False], [True, False, False],
                     [True, False, False, False]]


# ----- higher order -----

FUNCTIONS = {
    "sin_x3": lambda m, x: m.sin(x) * x ** 3,
    "exp_over": lambda m, x: m.exp(x) / (1.0 + x * x),
    "tanh_log1p_sqrt": lambda m, x: m.tanh(m.log1p(x * x)) * m.sqrt(x),
    "matmul_sigmoid": lambda m, x: m.sigmoid(m.tanh(x) @ (x * x)) * x,
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_create_graph_second_derivatives_match_torch(name):
    f = FUNCTIONS[name]
    a = np.array([0.3, 1.2, 2.0])
    v = np.array([1.0, -2.0, 0.5])
    x = cr.tensor(a, requires_grad=True)
    cr.sum(f(cr, x)).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    cr.sum(g * v).backward()  # a Hessian-vector product
    tx = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad(f(torch, tx).sum(), tx, create_graph=True)
    (th,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, th.numpy(), rtol=1e-10, atol=1e-13)


def test_third_derivative_by_create_graph_twice():
    x = cr.tensor(0.4, requires_grad=True)
    (cr.sin(x) * x).backward(create_graph=True)
    g1 = x.grad
    x.grad = None
    g1.backward(create_graph=True)
    g2 = x.grad
    x.grad = None
    g2.backward()
    # (x sin x)''' = -3 sin x - x cos x
    assert x.grad.item() == pytest.approx(-3 * np.sin(0.4) - 0.4 * np.cos(0.4), rel=1e-12)


# ----- grad mode -----


def test_no_grad_records_nothing_and_enable_grad_records_again():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = x * 2.0
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            z = x * 2.0
        w = cr.sin(x)
    assert cr.is_grad_enabled()
    assert not y.requires_grad and not w.requires_grad and z.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_set_grad_enabled_switches_and_restores_after_an_error():
    x = cr.tensor(1.0, requires_grad=True)
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with cr.set_grad_enabled(True):
            assert (x * 2).requires_grad
    with pytest.raises(ZeroDivisionError):
        with cr.no_grad():
            raise ZeroDivisionError
    assert cr.is_grad_enabled() and (x * 2).requires_grad


# ----- symbolic zeros -----


def _spy(name, calls):
    """An identity primitive that counts how often its reverse rule runs."""
    prim = cr.primitive(lambda x: x, name=name)

    def vjp(g, out, x):
        calls.append(name)
        return g

    prim.defvjp(vjp)
    return prim


def test_symbolic_zero_cotangents_are_skipped_not_swept():
    calls = []
    upstream = _spy("upstream", calls)
    cut = cr.primitive(lambda x: 2 * x, name="cut")
    cut.defvjp(lambda g, out, x: None)  # a rule may answer "zero" symbolically
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.sum(cut(upstream(x)) + x * 3.0)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    assert calls == []  # nothing flowed into the branch behind the zero


def test_a_branch_that_does_not_depend_on_the_input_gives_a_zero_gradient():
    calls = []
    spy = _spy("constant_branch", calls)
    c = cr.tensor([4.0, 5.0])  # does not require grad: its branch is never recorded
    x = cr.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    (cr.sum(spy(c) * 2.0) + cr.sum(x)).backward()
    assert calls == [] and c.grad is None
    g = cr.grad(lambda x, y: cr.sum(y * 2.0), argnums=0)(np.ones(2, np.float32), np.ones(2))
    assert g.dtype == np.float32 and g.shape == (2,) and not g.any()
