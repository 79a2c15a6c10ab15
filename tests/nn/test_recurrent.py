"""Recurrent cells and layers against torch.nn: several steps and layers, batch_first
both ways, initial states, bidirectional, unbatched; outputs, final states, input and
state gradients and every parameter gradient, float64."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from tests.nn.torch_twins import compare


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("kind", ["RNNCell", "GRUCell"])
@pytest.mark.parametrize("with_state", [False, True])
def test_rnn_and_gru_cells(kind, with_state):
    ours, theirs = getattr(nn, kind)(3, 4), getattr(torch.nn, kind)(3, 4)
    inputs = (_x(5, 3), _x(5, 4, seed=1)) if with_state else (_x(5, 3),)
    compare(ours, theirs, *inputs)


def test_rnn_cell_relu_without_bias_and_unbatched():
    compare(nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
            torch.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"), _x(3), _x(4, seed=1))


def test_lstm_cell():
    compare(nn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4), _x(5, 3), _x(5, 4, seed=1),
            _x(5, 4, seed=2), call=lambda m, x, h, c: m(x, (h, c)))
    compare(nn.LSTMCell(3, 4), torch.nn.LSTMCell(3, 4), _x(5, 3))


def _layer_call(kind, with_state):
    if not with_state:
        return lambda m, x: m(x)
    if kind == "LSTM":
        return lambda m, x, h, c: m(x, (h, c))
    return lambda m, x, h: m(x, h)


LAYERS = [
    dict(),
    dict(num_layers=2),
    dict(num_layers=3, batch_first=True),
    dict(num_layers=2, bidirectional=True),
    dict(batch_first=True, bidirectional=True, bias=False),
]


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kwargs", LAYERS, ids=str)
def test_recurrent_layers(kind, kwargs):
    """Outputs and gradients over 5 steps, zero initial states."""
    ours, theirs = getattr(nn, kind)(3, 4, **kwargs), getattr(torch.nn, kind)(3, 4, **kwargs)
    compare(ours, theirs, _x(2, 5, 3) if kwargs.get("batch_first") else _x(5, 2, 3))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_layers_with_initial_states(kind, batch_first):
    kwargs = dict(num_layers=2, bidirectional=True, batch_first=batch_first)
    ours, theirs = getattr(nn, kind)(3, 4, **kwargs), getattr(torch.nn, kind)(3, 4, **kwargs)
    x = _x(2, 6, 3) if batch_first else _x(6, 2, 3)
    states = [_x(4, 2, 4, seed=s) for s in (1, 2)][:2 if kind == "LSTM" else 1]
    compare(ours, theirs, x, *states, call=_layer_call(kind, True))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_unbatched(kind):
    ours, theirs = getattr(nn, kind)(3, 4, num_layers=2), getattr(torch.nn, kind)(3, 4,
                                                                                 num_layers=2)
    states = [_x(2, 4, seed=s) for s in (1, 2)][:2 if kind == "LSTM" else 1]
    compare(ours, theirs, _x(5, 3), *states, call=_layer_call(kind, True))


def test_rnn_relu():
    compare(nn.RNN(3, 4, num_layers=2, nonlinearity="relu"),
            torch.nn.RNN(3, 4, num_layers=2, nonlinearity="relu"), _x(4, 2, 3))


def test_state_dict_names_match_torch():
    ours = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [v.shape for v in ours.state_dict().values()] == \
        [tuple(v.shape) for v in theirs.state_dict().values()]


def test_dropout_between_layers_only_in_training():
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5, generator=0)
    x = _x(5, 2, 3)
    out_train = lstm(x)[0].data
    lstm.eval()
    out_eval, again = lstm(x)[0].data, lstm(x)[0].data
    np.testing.assert_array_equal(out_eval, again)
    assert not np.allclose(out_train, out_eval)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5).eval()
    compare(lstm, theirs, x)  # in eval mode dropout is off, as in torch


def test_lstm_training_trajectory_matches_torch():
    """Five steps of plain gradient descent on next-step prediction, in both frameworks
    from the same weights, end at the same weights."""
    ours = nn.Sequential(nn.LSTM(1, 6, batch_first=True, num_layers=2))
    head = nn.Linear(6, 1)
    t_lstm = torch.nn.LSTM(1, 6, batch_first=True, num_layers=2).double()
    t_head = torch.nn.Linear(6, 1).double()
    for mine, theirs in ((ours[0], t_lstm), (head, t_head)):
        mine.double()
        mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    wave = np.sin(np.linspace(0, 6, 12))
    x, y = wave[None, :-1, None].repeat(3, 0), wave[None, 1:, None].repeat(3, 0)
    params = list(ours.parameters()) + list(head.parameters())
    t_params = list(t_lstm.parameters()) + list(t_head.parameters())
    for _ in range(5):
        loss = nn.functional.mse_loss(head(ours[0](x)[0]), y)
        loss.backward()
        t_loss = torch.nn.functional.mse_loss(t_head(t_lstm(torch.tensor(x))[0]),
                                              torch.tensor(y))
        t_loss.backward()
        np.testing.assert_allclose(float(loss), t_loss.item(), rtol=1e-10)
        with torch.no_grad(), cr.no_grad():
            for p, tp in zip(params, t_params):
                p -= 0.5 * p.grad  # in place, as torch's: a parameter's array is read-only
                tp -= 0.5 * tp.grad
                p.grad, tp.grad = None, None
    for p, tp in zip(params, t_params):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_second_derivatives_through_a_layer_match_torch(kind):
    """Hessian-vector products through two layers and several steps (the fused LSTM
    cell's rules are themselves differentiable)."""
    ours, theirs = getattr(nn, kind)(2, 3, num_layers=2), getattr(torch.nn, kind)(2, 3,
                                                                                 num_layers=2)
    theirs.double(), ours.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x, w, v = _x(4, 2, 2), _x(4, 2, 3, seed=1), _x(4, 2, 2, seed=2)
    xt = cr.tensor(x, requires_grad=True)
    cr.sum(ours(xt)[0] * w).backward(create_graph=True)
    first = xt.grad
    xt.grad = None
    cr.sum(first * v).backward()
    tx = torch.tensor(x, requires_grad=True)
    (tfirst,) = torch.autograd.grad((theirs(tx)[0] * torch.tensor(w)).sum(), tx,
                                    create_graph=True)
    (tsecond,) = torch.autograd.grad((tfirst * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(first.data, tfirst.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xt.grad.data, tsecond.numpy(), rtol=1e-9, atol=1e-12)


def test_gru_layer_gradcheck():
    """The fused GRU primitive's rules (reverse and forward) against central differences,
    through a tiny two-layer bidirectional GRU, in its input and initial state (the
    primitive's spec in tests/ops checks every argument, weights included)."""
    gru = nn.GRU(2, 2, num_layers=2, bidirectional=True, batch_first=True, dtype="float64",
                 generator=0)

    def f(x, h0):
        out, h = gru(x, h0)
        return cr.concatenate([cr.reshape(out, (-1,)), cr.reshape(h, (-1,))])

    assert cr.gradcheck(f, _x(1, 3, 2), _x(4, 1, 2, seed=1))


def test_gru_sequence_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"gru_sequence: expected p \(L, 3H, N\)"):
        cr.gru_sequence(np.zeros((2, 4, 1)), np.zeros((3, 1)), np.zeros(3), np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"h0 \(H, N\); got .*\(1, 2\)"):  # (N, H) given
        cr.gru_sequence(np.zeros((2, 6, 1)), np.zeros((6, 2)), np.zeros(6), np.zeros((1, 2)))


def test_lstm_sequence_rejects_bad_shapes():
    from chainrule.ops.recurrent import lstm_sequence

    with pytest.raises(ValueError, match=r"lstm_sequence: expected p \(L, 4H, N\)"):
        lstm_sequence(np.zeros((2, 1, 4)), np.zeros((4, 1)), np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"c0 \(H, N\); got .*\(2, 3\), \(2, 1\)"):
        lstm_sequence(np.zeros((2, 8, 3)), np.zeros((8, 2)), np.zeros((2, 3)), np.zeros((2, 1)))


def _float32_gradient_error(kind, scale, ours):
    """Worst error of float32 gradients (all parameters and the input), relative to the
    largest float64 gradient of the same model, for chainrule's layer or PyTorch's."""
    torch.manual_seed(0)
    reference = getattr(torch.nn, kind)(4, 5, batch_first=True).double()
    with torch.no_grad():
        for p in reference.parameters():
            p.mul_(scale)  # large weights and inputs saturate the gates
    x = _x(3, 6, 4) * scale
    tx = torch.tensor(x, requires_grad=True)
    (reference(tx)[0] ** 2).sum().backward()
    expected = [p.grad.numpy() for p in reference.parameters()] + [tx.grad.numpy()]
    state = {k: v.numpy().astype(np.float32) for k, v in reference.state_dict().items()}
    if ours:
        layer = getattr(nn, kind)(4, 5, batch_first=True, dtype="float32")
        layer.load_state_dict({k: cr.tensor(v) for k, v in state.items()})
        cx = cr.tensor(x.astype(np.float32), requires_grad=True)
        (layer(cx)[0] ** 2).sum().backward()
        got = [p.grad.numpy() for _, p in layer.named_parameters()] + [cx.grad.numpy()]
    else:
        layer = getattr(torch.nn, kind)(4, 5, batch_first=True)
        layer.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        tx32 = torch.tensor(x, dtype=torch.float32, requires_grad=True)
        (layer(tx32)[0] ** 2).sum().backward()
        got = [p.grad.numpy() for p in layer.parameters()] + [tx32.grad.numpy()]
    return max(np.abs(g - e).max() / np.abs(e).max() for g, e in zip(got, expected))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_float32_gradients_as_accurate_as_pytorchs(kind, scale):
    """The fused float32 sweeps (a tanh-based sigmoid, in-place steps) are as accurate as
    PyTorch's float32 layers against float64, saturated gates included."""
    ours = _float32_gradient_error(kind, scale, ours=True)
    theirs = _float32_gradient_error(kind, scale, ours=False)
    assert ours <= 3 * max(theirs, 1e-7), (ours, theirs)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_double_backward_graph_is_freed_when_dropped(kind):
    """The sweep back through time is cached for the primitive's several rules; with
    create_graph the cached result's graph holds the cotangent it is keyed by, so the
    cache must be cleared when the backward sweep ends, not when the cotangent dies."""
    import gc
    import weakref

    layer = getattr(nn, kind)(3, 4, dtype="float64")
    x = cr.tensor(_x(5, 2, 3), requires_grad=True)
    enabled = gc.isenabled()
    gc.disable()  # reference counting alone must free the graph
    try:
        out, _ = layer(x)
        probe = weakref.ref(out)
        (out * out).sum().backward(create_graph=True)
        for p in [*layer.parameters(), x]:
            p.grad = None
        del out
        assert probe() is None
    finally:
        if enabled:
            gc.enable()
