"""Dense, convolutional, pooling, normalization, embedding and dropout layers against
torch.nn: outputs, input gradients and parameter gradients, float64."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from tests.nn.torch_twins import assert_close, compare, copy_from_torch


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    compare(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), _x(5, 4))


def test_linear_on_extra_leading_axes():
    compare(nn.Linear(4, 3), torch.nn.Linear(4, 3), _x(2, 5, 4))


CONV2D = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2)),
    dict(stride=2, padding=2, dilation=2, groups=2),
    dict(padding="same", dilation=2),
    dict(padding="valid", bias=False),
]


@pytest.mark.parametrize("kwargs", CONV2D, ids=str)
def test_conv2d(kwargs):
    ours = nn.Conv2d(4, 6, 3, **kwargs)
    theirs = torch.nn.Conv2d(4, 6, 3, **kwargs)
    compare(ours, theirs, _x(2, 4, 9, 8))


def test_conv2d_rectangular_kernel_depthwise_and_unbatched():
    compare(nn.Conv2d(3, 6, (2, 3), groups=3, padding=1),
            torch.nn.Conv2d(3, 6, (2, 3), groups=3, padding=1), _x(2, 3, 6, 7))
    compare(nn.Conv2d(3, 2, 3, stride=2), torch.nn.Conv2d(3, 2, 3, stride=2), _x(3, 7, 7))


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=2, dilation=2, groups=2),
                                    dict(padding="same")], ids=str)
def test_conv1d(kwargs):
    compare(nn.Conv1d(4, 2, 3, **kwargs), torch.nn.Conv1d(4, 2, 3, **kwargs), _x(3, 4, 11))


POOLS = [
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
    (nn.MaxPool2d(3, stride=2, padding=1), torch.nn.MaxPool2d(3, stride=2, padding=1)),
    (nn.MaxPool2d(2, stride=1, dilation=2, ceil_mode=True),
     torch.nn.MaxPool2d(2, stride=1, dilation=2, ceil_mode=True)),
    (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
    (nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
     torch.nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)),
    (nn.AvgPool2d(2, ceil_mode=True), torch.nn.AvgPool2d(2, ceil_mode=True)),
]


@pytest.mark.parametrize("ours, theirs", POOLS, ids=lambda m: repr(m))
def test_pool2d(ours, theirs):
    compare(ours, theirs, _x(2, 3, 7, 6))


def test_pool1d():
    compare(nn.MaxPool1d(3, stride=2), torch.nn.MaxPool1d(3, stride=2), _x(2, 3, 9))
    compare(nn.AvgPool1d(2, padding=1), torch.nn.AvgPool1d(2, padding=1), _x(2, 3, 9))


def test_cnn_stack_end_to_end():
    """A small CNN, built in both frameworks and given the same weights."""
    def build(m):
        return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2),
                            m.Conv2d(4, 6, 3, stride=2, groups=2), m.Tanh(), m.Flatten(),
                            m.Linear(6, 3))
    compare(build(nn), build(torch.nn), _x(3, 1, 8, 8))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm1d_training_steps_and_eval(shape):
    ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3).double()
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-0.5, 0.5)
    ours.double()
    copy_from_torch(ours, theirs)
    for step in range(3):  # running statistics follow PyTorch's over several steps
        x = _x(*shape, seed=step) * 2.0 + 1.0
        assert_close(ours(x), theirs(torch.tensor(x)), f"train output, step {step}")
    for name, buf in theirs.named_buffers():
        assert_close(getattr(ours, name), buf, f"running {name}")
    compare(ours, theirs, _x(*shape, seed=9), copy=False)  # training mode, with gradients
    ours.eval(), theirs.eval()
    compare(ours, theirs, _x(*shape, seed=10), copy=False)


def test_batch_norm2d_train_and_eval():
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    compare(ours, theirs, _x(4, 3, 5, 5))
    assert int(ours.num_batches_tracked.data) == 1
    for name, buf in theirs.named_buffers():
        assert_close(getattr(ours, name), buf, f"running {name}")
    ours.eval(), theirs.eval()
    compare(ours, theirs, _x(4, 3, 5, 5, seed=1), copy=False)


@pytest.mark.parametrize("kwargs", [dict(momentum=None), dict(affine=False),
                                    dict(track_running_stats=False)], ids=str)
def test_batch_norm_options(kwargs):
    ours, theirs = nn.BatchNorm2d(2, **kwargs), torch.nn.BatchNorm2d(2, **kwargs)
    theirs.double(), ours.double()
    copy_from_torch(ours, theirs)
    for step in range(3):
        x = _x(3, 2, 4, 4, seed=step) + step
        assert_close(ours(x), theirs(torch.tensor(x)), f"train output, step {step}")
    ours.eval(), theirs.eval()
    x = _x(3, 2, 4, 4, seed=5)
    assert_close(ours(x), theirs(torch.tensor(x)), "eval output")


@pytest.mark.parametrize("shape, kwargs", [((3,), {}), ((2, 3), {}),
                                           ((3,), dict(elementwise_affine=False)),
                                           ((3,), dict(bias=False))], ids=str)
def test_layer_norm(shape, kwargs):
    ours, theirs = nn.LayerNorm(shape, **kwargs), torch.nn.LayerNorm(shape, **kwargs)
    if kwargs.get("elementwise_affine", True):
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
    compare(ours, theirs, _x(4, 2, 3) * 3.0)


def test_embedding_with_padding_idx():
    indices = np.array([[1, 2, 0], [4, 1, 1]])
    compare(nn.Embedding(5, 3, padding_idx=1), torch.nn.Embedding(5, 3, padding_idx=1), indices)
    compare(nn.Embedding(5, 3), torch.nn.Embedding(5, 3), indices)


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    emb = nn.Embedding(4, 2, padding_idx=-1, dtype="float64")
    assert emb.padding_idx == 3 and np.all(emb.weight.data[3] == 0)
    cr.sum(emb(np.array([3, 3, 0])) * 2.0).backward()
    np.testing.assert_array_equal(emb.weight.grad.data[3], [0.0, 0.0])
    np.testing.assert_array_equal(emb.weight.grad.data[0], [2.0, 2.0])


ACTIVATIONS = [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.GELU(), torch.nn.GELU()),
    (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.ELU(0.7), torch.nn.ELU(0.7)),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Softplus(2.0), torch.nn.Softplus(2.0)),
    (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (nn.LogSoftmax(dim=0), torch.nn.LogSoftmax(dim=0)),
    (nn.Flatten(), torch.nn.Flatten()),
    (nn.Flatten(0, 1), torch.nn.Flatten(0, 1)),
    (nn.Identity(), torch.nn.Identity()),
]


@pytest.mark.parametrize("ours, theirs", ACTIVATIONS, ids=lambda m: repr(m))
def test_activation_modules(ours, theirs):
    compare(ours, theirs, _x(3, 4, 2) * 3.0)


def test_activation_derivatives_at_zero_match_torch():
    """At the kink PyTorch's conventions: relu'(0) = 0, leaky/elu take the left branch."""
    for ours, theirs in ACTIVATIONS[:5]:
        compare(ours, theirs, np.zeros((2, 3)))


def test_elu_has_no_nan_gradient_for_large_inputs():
    x = cr.tensor([800.0, -800.0], requires_grad=True)
    cr.sum(nn.functional.elu(x)).backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0])


def test_dropout_is_seeded_scaled_and_off_in_eval():
    x = cr.tensor(np.ones((200, 50)))
    first = nn.Dropout(0.3, generator=5)(x).data
    again = nn.Dropout(0.3, generator=5)(x).data
    np.testing.assert_array_equal(first, again)
    assert set(np.unique(first)) == {0.0, 1.0 / 0.7}
    assert abs((first == 0).mean() - 0.3) < 0.02
    drop = nn.Dropout(0.3, generator=5)
    assert not np.array_equal(drop(x).data, drop(x).data)  # a new mask every call
    assert drop.eval()(x) is x
    cr.random.seed(3)
    a = nn.functional.dropout(x, 0.5).data
    cr.random.seed(3)
    np.testing.assert_array_equal(a, nn.functional.dropout(x, 0.5).data)
    np.testing.assert_array_equal(nn.functional.dropout(x, 1.0).data, 0.0)
    assert nn.functional.dropout(x, 0.0) is x


def test_dropout_gradient_is_the_mask():
    x = cr.tensor(np.ones((4, 5)), requires_grad=True)
    y = nn.Dropout(0.5, generator=0)(x)
    cr.sum(y).backward()
    np.testing.assert_array_equal(x.grad.data, y.data)


def test_parameters_default_to_float32_and_inputs_are_cast():
    layer = nn.Linear(3, 2)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    y = layer(np.ones((1, 3)))  # float64 data into a float32 layer
    assert y.dtype == np.float32
    conv = nn.Conv2d(1, 2, 3, dtype="float64")
    assert conv.weight.dtype == np.float64
    assert conv(np.ones((1, 1, 4, 4), dtype=np.float32)).dtype == np.float64
    x = cr.tensor(np.ones((1, 3), dtype=np.float64), requires_grad=True)
    cr.sum(layer(x)).backward()
    assert x.grad.dtype == np.float64  # the cast's gradient comes back in the input's dtype
