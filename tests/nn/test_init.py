"""Initialization: PyTorch's gains, fans and bounds; distributions; seeding; the
layers' default initializations."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import init


@pytest.mark.parametrize("name, param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                         ("tanh", None), ("relu", None), ("leaky_relu", None),
                                         ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-15)


def _spread(fn, shape, **kwargs):
    """Values drawn into a float64 tensor: (max |w|, std)."""
    w = fn(cr.zeros(*shape), generator=0, **kwargs)
    return float(np.abs(w.data).max()), float(w.data.std())


@pytest.mark.parametrize("shape", [(200, 300), (64, 16, 3, 3)])
def test_xavier_and_kaiming_scales(shape):
    fan_in = shape[1] * math.prod(shape[2:])
    fan_out = shape[0] * math.prod(shape[2:])
    bound = math.sqrt(6 / (fan_in + fan_out))
    top, std = _spread(init.xavier_uniform_, shape)
    assert top <= bound and top > 0.99 * bound and std == pytest.approx(bound / math.sqrt(3),
                                                                         rel=0.02)
    _, std = _spread(init.xavier_normal_, shape, gain=2.0)
    assert std == pytest.approx(2 * math.sqrt(2 / (fan_in + fan_out)), rel=0.02)
    top, _ = _spread(init.kaiming_uniform_, shape, a=math.sqrt(5))
    assert top <= 1 / math.sqrt(fan_in) and top > 0.99 / math.sqrt(fan_in)
    _, std = _spread(init.kaiming_normal_, shape, mode="fan_out", nonlinearity="relu")
    assert std == pytest.approx(math.sqrt(2 / fan_out), rel=0.02)


def test_basic_fills_keep_dtype_and_object():
    w = cr.zeros(3, 4, dtype="float32")
    assert init.uniform_(w, -2.0, -1.0, generator=1) is w
    assert w.dtype == np.float32 and np.all((w.data >= -2) & (w.data < -1))
    init.normal_(w, 5.0, 0.0)
    assert np.all(w.data == 5.0)
    assert np.all(init.constant_(w, 0.25).data == 0.25)
    assert np.all(init.zeros_(w).data == 0) and np.all(init.ones_(w).data == 1)


def test_seeding_repeats_and_generators_differ():
    cr.random.seed(11)
    a = nn.Linear(5, 4).weight.data.copy()
    cr.random.seed(11)
    np.testing.assert_array_equal(a, nn.Linear(5, 4).weight.data)
    np.testing.assert_array_equal(nn.Linear(5, 4, generator=3).weight.data,
                                  nn.Linear(5, 4, generator=3).weight.data)
    layer = nn.Linear(5, 5, generator=3)  # weight and bias come from one stream, not two
    assert not np.allclose(layer.weight.data[0], layer.bias.data)


@pytest.mark.parametrize("make, bound", [
    (lambda: nn.Linear(50, 40), 1 / math.sqrt(50)),
    (lambda: nn.Conv2d(6, 8, 3, groups=2), 1 / math.sqrt(3 * 9)),
    (lambda: nn.Conv1d(4, 5, 5), 1 / math.sqrt(20)),
    (lambda: nn.LSTM(7, 30, num_layers=2), 1 / math.sqrt(30)),
    (lambda: nn.GRUCell(7, 30), 1 / math.sqrt(30)),
])
def test_layer_defaults_use_pytorchs_bounds(make, bound):
    layer = make()
    for name, p in layer.named_parameters():
        top = float(np.abs(p.data).max())
        assert top <= bound, name
        if p.data.size >= 30:
            assert top > 0.8 * bound, name


def test_embedding_and_norm_defaults():
    emb = nn.Embedding(400, 50, generator=0)
    assert float(emb.weight.data.std()) == pytest.approx(1.0, rel=0.02)
    bn = nn.BatchNorm2d(3)
    assert np.all(bn.weight.data == 1) and np.all(bn.bias.data == 0)
    assert np.all(bn.running_var.data == 1) and int(bn.num_batches_tracked.data) == 0


def test_init_errors():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(cr.zeros(3))
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(cr.zeros(3, 3), mode="fan")
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(TypeError, match="expected a chainrule Tensor"):
        init.zeros_(np.zeros(3))
    with pytest.raises(TypeError, match="numpy.random.Generator or an int seed"):
        init.normal_(cr.zeros(3), generator="seed")
