"""Saved values changed in place: refused, never silently used by a later backward.

A recorded graph keeps the arrays its operations saw. Changing one of them in
place afterwards (an optimizer step, an update under no_grad, a raw write
through ``.data`` or ``.numpy()``) must not give a gradient computed from
values the forward pass did not use: sanctioned changes bump the tensor's
version and the sweep refuses; raw writes into arrays a graph may save are
refused by NumPy (the arrays are read-only).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule import nn

OPTIMIZERS = {
    "SGD": lambda ps: cr.optim.SGD(ps, lr=0.1),
    "SGD-momentum": lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9),
    "Adam": lambda ps: cr.optim.Adam(ps, lr=0.1),
    "AdamW": lambda ps: cr.optim.AdamW(ps, lr=0.1),
    "RMSprop": lambda ps: cr.optim.RMSprop(ps, lr=0.1),
    "Adagrad": lambda ps: cr.optim.Adagrad(ps, lr=0.1),
}

# (name of the op that saves w, the loss built from w and a constant x)
LOSSES = {
    "multiply": lambda w, x: (w * x).sum(),
    "matmul": lambda w, x: (x @ w).sum(),
    "sin": lambda w, x: cr.sin(w).sum(),
    "power": lambda w, x: (w ** 3).sum(),
}


def _w(seed: int = 0) -> cr.Tensor:
    return cr.tensor(np.random.default_rng(seed).normal(size=3), requires_grad=True)


# ----- sanctioned changes: the version check -----

@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("op", sorted(LOSSES))
def test_optimizer_step_between_forward_and_backward_is_refused(opt_name, op):
    w = _w()
    x = cr.tensor(np.arange(3.0))
    opt = OPTIMIZERS[opt_name]([w])
    w.grad = cr.tensor(np.ones(3))  # a gradient from an earlier step
    loss = LOSSES[op](w, x)
    opt.step()
    with pytest.raises(RuntimeError, match=rf"'{op}'.*changed in place.*optimizer\.step"):
        loss.backward()


def test_the_error_names_shape_dtype_and_what_to_do():
    w = cr.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    loss = (cr.tanh(w) * 2.0).sum()
    w.grad = cr.ones_like(w)
    cr.optim.SGD([w], lr=1.0).step()
    with pytest.raises(RuntimeError) as info:
        loss.backward()
    message = str(info.value)
    assert "(2, 3)" in message and "float32" in message and "'tanh'" in message
    assert "recompute the loss" in message


def test_the_error_names_a_module_parameter():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    loss = model(cr.ones(4, 3)).sum()
    loss.backward(retain_graph=True)
    cr.optim.SGD(model.parameters(), lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"\(Linear\.(weight|bias)\)"):
        loss.backward()


def test_backward_before_the_step_then_a_new_forward_is_fine():
    """The usual loop (forward, backward, step) never trips the check, and matches torch."""
    rng = np.random.default_rng(1)
    w0, x = rng.normal(size=(4, 2)), rng.normal(size=(5, 4))
    w = cr.tensor(w0, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    opt, topt = cr.optim.Adam([w], lr=0.05), torch.optim.Adam([tw], lr=0.05)
    for _ in range(5):
        opt.zero_grad()
        topt.zero_grad()
        cr.tanh(cr.tensor(x) @ w).sum().backward()
        torch.tanh(torch.tensor(x) @ tw).sum().backward()
        opt.step()
        topt.step()
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12)


def test_a_retained_graph_refuses_after_the_step_as_torch_does():
    w = _w()
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    cr.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    tw = torch.tensor(np.ones(3), requires_grad=True)
    tloss = (tw * tw).sum()
    tloss.backward(retain_graph=True)
    torch.optim.SGD([tw], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tloss.backward()


def test_a_step_on_other_parameters_does_not_trip_the_check():
    w, v = _w(0), _w(1)
    loss = (w * w).sum()
    v.grad = cr.ones_like(v)
    cr.optim.SGD([v], lr=0.1).step()  # v is not in loss's graph
    loss.backward()
    np.testing.assert_allclose(w.grad.data, 2 * w.data)


def test_inplace_update_under_no_grad_is_the_manual_step():
    """``with cr.no_grad(): w -= lr * w.grad`` changes the parameter itself (torch's
    idiom); today's ``w -= ...`` rebound the name and left the model unchanged."""
    model = nn.Linear(3, 2)
    w = model.weight
    before = w.data.copy()
    model(cr.ones(4, 3)).sum().backward()
    with cr.no_grad():
        for p in model.parameters():
            p -= 0.5 * p.grad
    assert model.weight is w
    np.testing.assert_allclose(w.data, before - 0.5 * w.grad.data)
    assert not w.data.flags.writeable


@pytest.mark.parametrize("update", ["-=", "+=", "*=", "/=", "setitem"])
def test_inplace_update_between_forward_and_backward_is_refused(update):
    w = _w()
    loss = cr.exp(w).sum()
    with cr.no_grad():
        if update == "-=":
            w -= 1.0
        elif update == "+=":
            w += cr.tensor([1.0, 2.0, 3.0])
        elif update == "*=":
            w *= 2.0
        elif update == "/=":
            w /= 2.0
        else:
            w[0] = 5.0
    with pytest.raises(RuntimeError, match="'exp'.*changed in place"):
        loss.backward()


def test_inplace_update_of_a_leaf_needs_no_grad():
    w = _w()
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 1.0
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 1.0
    # other tensors are unchanged: an operator makes a new tensor, setitem is refused
    y = w * 2.0
    z = y
    z -= 1.0
    assert z is not y and y.data is not z.data
    with pytest.raises(TypeError, match="immutable"):
        cr.tensor([1.0, 2.0])[0] = 3.0


def test_a_changed_constant_is_caught_too():
    """A frozen parameter (no gradient) is a constant in the graph; an optimizer
    step that still changes it (a stale .grad) is caught as well."""
    w, c = _w(0), _w(1)
    c.requires_grad_(False)
    loss = (w * c).sum()
    c.grad = cr.ones_like(c)
    cr.optim.SGD([w, c], lr=0.1).step()
    with pytest.raises(RuntimeError, match="argument 1 of 'multiply'"):
        loss.backward()


@pytest.mark.parametrize("frozen", [False, True])
def test_a_view_of_a_parameter_saved_by_another_graph_keeps_its_values(frozen):
    """A constant view of a parameter (weight tying under no_grad, or a frozen
    parameter) saved by a graph: the step copies on write, so that graph's backward
    is the one of its forward (today the view saw the step)."""
    rng = np.random.default_rng(3)
    w0, x0 = rng.normal(size=(3, 4)), rng.normal(size=(2, 3))
    w = cr.tensor(w0, requires_grad=True)
    x = cr.tensor(x0, requires_grad=True)
    if frozen:
        w.requires_grad_(False)
        wt = w.T
    else:
        with cr.no_grad():
            wt = w.T
    loss = ((x @ w) * (x @ wt.T)).sum() if frozen else (cr.sin(x) @ wt.T).sum()
    w.grad = cr.ones_like(w)
    cr.optim.SGD([w], lr=0.5).step()
    assert not np.allclose(w.data, w0)
    tx = torch.tensor(x0, requires_grad=True)
    tw = torch.tensor(w0)
    (((tx @ tw) * (tx @ tw)).sum() if frozen else (torch.sin(tx) @ tw).sum()).backward()
    if frozen:  # w itself is an input of a node: refused, as torch refuses
        with pytest.raises(RuntimeError, match="argument 1 of 'matmul'"):
            loss.backward()
        return
    loss.backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


def test_load_state_dict_between_forward_and_backward_is_refused():
    model = nn.Linear(2, 2)
    loss = model(cr.ones(1, 2)).sum()
    model.load_state_dict({k: np.zeros_like(v.data) for k, v in model.state_dict().items()})
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


# ----- raw writes: refused by NumPy -----

@pytest.mark.parametrize("how", ["setitem", "isub", "numpy"])
def test_raw_writes_into_a_saved_leaf_are_refused(how):
    w = _w()
    loss = (w * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        if how == "setitem":
            w.data[0] = 5.0
        elif how == "isub":
            w.data -= 0.1
        else:
            w.numpy()[0] = 5.0
    loss.backward()
    np.testing.assert_allclose(w.grad.data, 2 * w.data)


def test_numpy_of_a_result_that_requires_grad_is_read_only():
    x = _w()
    y = x * 3.0
    z = (y * y).sum()
    with pytest.raises(ValueError, match="read-only"):
        y.numpy()[0] = 0.0
    z.backward()
    np.testing.assert_allclose(x.grad.data, 18 * x.data)
    out = y.detach().numpy().copy()  # the way to an array of one's own
    out[0] = 0.0
    with cr.no_grad():
        free = (x * 3.0).numpy()  # no graph: the array itself, writable
    free[0] = 1.0


def test_a_new_array_assigned_to_data_is_protected_once_saved():
    """``w.data = new`` (micrograd's rebinding step) keeps working; the new array is
    made read-only when an operation saves it, so a later raw write is refused."""
    w = _w()
    (w * w).sum().backward()
    w.data = w.data - 0.1 * w.grad.data
    w.grad = None
    w.data[0] = 0.5  # not saved by any graph yet: allowed
    loss = cr.sin(w).sum()
    with pytest.raises(ValueError, match="read-only"):
        w.data[1] = 0.0
    loss.backward()
    np.testing.assert_allclose(w.grad.data, np.cos(w.data))


def test_a_new_array_assigned_after_the_forward_leaves_the_gradient_of_the_forward():
    """The graph keeps the array it saw, so a plain backward is that of the forward; a
    create_graph backward, which recomputes from the tensors, refuses."""
    w = _w()
    old = w.data
    loss = (w ** 3).sum()
    w.data = w.data + 1.0
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(w.grad.data, 3 * old ** 2)
    with pytest.raises(RuntimeError, match=r"new array \(\.data = \.\.\.\)"):
        loss.backward(create_graph=True)


@given(st.lists(st.sampled_from(["sin", "mul", "add", "square", "matmul"]), min_size=1,
                max_size=6),
       st.integers(0, 5), st.sampled_from(["step", "no_grad", "raw", "numpy"]))
def test_no_change_after_recording_gives_a_silent_gradient(ops_, at, change):
    """Random chains over two parameters; a change of one at a random point after its
    first use: the backward either refuses or equals the forward's gradient."""
    rng = np.random.default_rng(len(ops_) + 7 * at)
    w = cr.tensor(rng.normal(size=(3, 3)), requires_grad=True)
    v = cr.tensor(rng.normal(size=(3, 3)), requires_grad=True)
    w0, v0 = w.data.copy(), v.data.copy()
    changed = False

    def change_w():
        nonlocal w
        if change == "step":
            w.grad = cr.ones_like(w)
            cr.optim.SGD([w], lr=0.5).step()
        elif change == "no_grad":
            with cr.no_grad():
                w -= 0.5
        else:
            target = w.data if change == "raw" else w.numpy()
            with pytest.raises(ValueError, match="read-only"):
                target[...] = 0.0
            return False
        return True

    def build(w_, v_, lib):
        y = w_
        for k, op in enumerate(ops_):
            if op == "sin":
                y = lib.sin(y)
            elif op == "mul":
                y = y * v_
            elif op == "add":
                y = y + w_
            elif op == "square":
                y = y * y
            else:
                y = y @ v_
            if k == at and lib is cr:
                nonlocal changed
                changed = change_w()
        return (y * w_).sum()

    loss = build(w, v, cr)
    if changed:
        with pytest.raises(RuntimeError, match="changed in place"):
            loss.backward()
        return
    loss.backward()
    tw = torch.tensor(w0, requires_grad=True)
    tv = torch.tensor(v0, requires_grad=True)
    build(tw, tv, torch).backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    if tv.grad is None:
        assert v.grad is None
    else:
        np.testing.assert_allclose(v.grad.data, tv.grad.numpy(), rtol=1e-10, atol=1e-12)


# ----- what must keep working -----

def test_second_order_paths_still_work():
    x = cr.tensor([0.3, -1.2], requires_grad=True)
    y = (cr.sin(x) * x ** 2).sum()
    y.backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    tx = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad((torch.sin(tx) * tx ** 2).sum(), tx, create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), tx)
    np.testing.assert_allclose(x.grad.data, th.numpy(), rtol=1e-12)
    np.testing.assert_allclose(cr.grad(cr.grad(lambda t: cr.sin(t) * t ** 2))(0.3),
                               -0.3 ** 2 * np.sin(0.3) + 4 * 0.3 * np.cos(0.3) + 2 * np.sin(0.3))


def test_initializers_and_embedding_padding_still_write_parameters():
    layer = nn.Linear(3, 4)
    loss = layer(cr.ones(1, 3)).sum()
    nn.init.zeros_(layer.weight)  # a sanctioned change: the old graph refuses
    assert np.all(layer.weight.data == 0) and not layer.weight.data.flags.writeable
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    emb = nn.Embedding(5, 2, padding_idx=1)
    assert np.all(emb.weight.data[1] == 0)
