"""Bad input to layers and losses: errors name the layer or loss and what was expected."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F


@pytest.mark.parametrize("layer, x, message", [
    (nn.Conv2d(3, 8, kernel_size=3), np.zeros((4, 5, 28, 28)),
     r"Conv2d\(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected input of shape "
     r"\(N, 3, H, W\) or \(3, H, W\), got \(4, 5, 28, 28\)"),
    (nn.Conv2d(3, 8, 3), np.zeros((4, 3, 28)), r"got \(4, 3, 28\)"),
    (nn.Conv1d(2, 4, 3), np.zeros((4, 3, 10)),
     r"Conv1d\(2, 4, .*\): expected input of shape \(N, 2, L\) or \(2, L\)"),
    (nn.Linear(3, 2), np.zeros((4, 5)),
     r"Linear\(in_features=3, out_features=2, bias=True\): expected input of shape "
     r"\(\*, 3\), got \(4, 5\)"),
    (nn.BatchNorm2d(3), np.zeros((4, 3, 5)),
     r"BatchNorm2d\(3, .*\): expected input of shape \(N, 3, H, W\), got \(4, 3, 5\)"),
    (nn.BatchNorm1d(3), np.zeros((4, 2)),
     r"expected input of shape \(N, 3\) or \(N, 3, L\), got \(4, 2\)"),
    (nn.LayerNorm((2, 3)), np.zeros((4, 3, 2)), r"expected input of shape \(\*, 2, 3\)"),
    (nn.MaxPool2d(2), np.zeros((2, 2)), r"MaxPool2d\(.*\): expected input of shape "
                                        r"\(N, C, H, W\) or \(C, H, W\), got \(2, 2\)"),
    (nn.LSTM(3, 4, batch_first=True), np.zeros((2, 5, 4)),
     r"LSTM\(3, 4, batch_first=True\): expected input of shape \(N, L, 3\) or \(L, 3\), "
     r"got \(2, 5, 4\)"),
    (nn.GRUCell(3, 4), np.zeros((2, 4)), r"GRUCell\(3, 4\): expected input of shape \(N, 3\)"),
    # the operation's complaint, restated by the layer, with the input's shape
    (nn.Conv2d(1, 2, 5), np.zeros((1, 1, 3, 3)),
     r"^Conv2d\(1, 2, kernel_size=\(5, 5\), stride=\(1, 1\)\): kernel \(5, 5\) with dilation "
     r"\(1, 1\) does not fit in the padded input of spatial size \(3, 3\) \(input of shape "
     r"\(1, 1, 3, 3\)\)$"),
    (nn.Conv1d(1, 1, 4, dilation=2), np.zeros((1, 1, 6)),
     r"^Conv1d\(1, 1, .*dilation=\(2,\)\): kernel \(4,\) .*\(input of shape \(1, 1, 6\)\)$"),
    (nn.MaxPool2d(5), np.zeros((2, 1, 4, 4)),
     r"^MaxPool2d\(kernel_size=5, stride=5, padding=0\): kernel \(5, 5\) .* does not fit "
     r".*\(input of shape \(2, 1, 4, 4\)\)$"),
    (nn.AvgPool1d(3), np.zeros((1, 2)),
     r"^AvgPool1d\(kernel_size=3, .*\(input of shape \(1, 2\)\)$"),
])
def test_layers_name_themselves_and_both_shapes(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer(x)


@pytest.mark.parametrize("layer, x", [
    (nn.Linear(2, 2), np.zeros((3, 2), dtype=np.int64)),
    (nn.Conv2d(1, 1, 1), np.zeros((1, 1, 2, 2), dtype=bool)),
    (nn.LSTM(2, 2), np.zeros((3, 1, 2), dtype=np.int32)),
    (nn.AvgPool2d(2), np.zeros((1, 1, 2, 2), dtype=np.int64)),
    (nn.Dropout(0.5), np.ones((2, 2), dtype=np.int64)),
    (nn.Dropout(0.5).eval(), np.ones((2, 2), dtype=np.int32)),
])
def test_layers_refuse_non_floating_input(layer, x):
    with pytest.raises(TypeError, match=rf"{type(layer).__name__}\(.*\): expected a floating "
                                        rf"input.*got dtype {x.dtype}"):
        layer(x)


def test_bad_initial_states_and_indices():
    with pytest.raises(ValueError, match=r"LSTM\(3, 4, num_layers=2\): expected c_0 of shape "
                                         r"\(2, 5, 4\), got \(1, 5, 4\)"):
        nn.LSTM(3, 4, num_layers=2)(np.zeros((6, 5, 3)), (np.zeros((2, 5, 4)),
                                                          np.zeros((1, 5, 4))))
    with pytest.raises(ValueError, match=r"RNNCell\(3, 4\): expected hx of shape \(2, 4\)"):
        nn.RNNCell(3, 4)(np.zeros((2, 3)), np.zeros((3, 4)))
    with pytest.raises(IndexError, match=r"Embedding\(5, 2\): index 5 is out of range for 5"):
        nn.Embedding(5, 2)(np.array([1, 5]))
    with pytest.raises(TypeError, match=r"Embedding\(5, 2\): indices must be integers"):
        nn.Embedding(5, 2)(np.array([1.0]))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Linear(0, 2), "in_features must be a positive int"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "must both be divisible by groups"),
    (lambda: nn.Conv2d(2, 4, 3, stride=2, padding="same"), "'same' needs stride 1"),
    (lambda: nn.Conv2d(2, 4, 3, padding_mode="reflect"), "only padding_mode='zeros'"),
    (lambda: nn.Conv2d(2, 4, 0), "kernel_size must be an int >= 1"),
    (lambda: nn.Linear(2, 2, dtype="int32"), "parameters must be floating"),
    (lambda: nn.Dropout(1.5), r"p must be a probability in \[0, 1\]"),
    (lambda: nn.LSTM(2, 2, dropout=-0.1), "dropout must be a probability"),
    (lambda: nn.RNN(2, 2, nonlinearity="sigmoid"), "nonlinearity must be 'tanh' or 'relu'"),
    (lambda: nn.GELU("fast"), "approximate must be 'none' or 'tanh'"),
    (lambda: nn.Embedding(4, 2, padding_idx=4), "padding_idx 4 is out of range"),
    (lambda: nn.BatchNorm1d(3, momentum=2.0), r"momentum must be in \[0, 1\]"),
    (lambda: nn.CrossEntropyLoss(reduction="avg"), "reduction must be"),
    # pooling settings are checked where the layer is built, in the layer's name
    (lambda: nn.MaxPool2d(0), r"^MaxPool2d: kernel_size must be an int >= 1 or 2 of them"),
    (lambda: nn.AvgPool2d((2, 2, 2)), r"^AvgPool2d: kernel_size must be an int >= 1 or 2"),
    (lambda: nn.AvgPool1d(2, stride=0), r"^AvgPool1d: stride must be an int >= 1, got 0"),
    (lambda: nn.MaxPool1d(2, dilation=-1), r"^MaxPool1d: dilation must be an int >= 1"),
    (lambda: nn.MaxPool2d(2, padding=-1), r"^MaxPool2d: padding must be an int >= 0"),
    (lambda: nn.MaxPool2d(3, padding=2), r"^MaxPool2d: padding 2 must be at most half the "
                                         r"kernel size 3"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), r"^AvgPool2d: divisor_override must be a "
                                                 r"positive int or None, got 0"),
    (lambda: nn.MaxPool2d("a"), r"^MaxPool2d: kernel_size must be an int"),
])
def test_constructor_errors(make, message):
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=message):
        make()


def test_batch_norm_needs_more_than_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(np.zeros((1, 3)))
    nn.BatchNorm1d(3).eval()(np.zeros((1, 3)))  # evaluation uses the running statistics


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.cross_entropy(np.zeros((4, 3)), np.array([0, 1, 3, 2])), IndexError,
     r"cross_entropy: target 3 is out of range for 3 classes"),
    (lambda: F.cross_entropy(np.zeros((4, 3)), np.array([0, 1, -1, 2])), IndexError,
     r"target -1 is out of range"),
    (lambda: F.cross_entropy(np.zeros((4, 3)), np.array([0, 1, 2])), ValueError,
     r"input of shape \(4, 3\) has classes along axis 1, so the target must have shape "
     r"\(4,\), got \(3,\)"),
    (lambda: F.cross_entropy(np.zeros((4, 3)), np.zeros(4)), TypeError,
     "integer class indices"),
    (lambda: F.cross_entropy(np.zeros((4, 3)), np.array([0, 1, 2, 0]), weight=np.ones(4)),
     ValueError, r"weight must have one entry per class, shape \(3,\), got \(4,\)"),
    (lambda: F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=1.5),
     ValueError, "label_smoothing must be in"),
    (lambda: F.nll_loss(np.zeros((2, 3)), np.array([0, 7])), IndexError,
     "nll_loss: target 7 is out of range"),
    (lambda: F.mse_loss(np.zeros((4, 1)), np.zeros(4)), ValueError,
     r"mse_loss: input has shape \(4, 1\) and target \(4,\); they must be the same"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(2)), ValueError,
     "binary_cross_entropy_with_logits: input has shape"),
    (lambda: F.binary_cross_entropy(np.array([1.5]), np.ones(1)), ValueError,
     r"probabilities in \[0, 1\]"),
    (lambda: F.l1_loss(np.zeros(3), np.zeros(3), reduction="avg"), ValueError,
     "l1_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    (lambda: F.hinge_embedding_loss(np.zeros(2), np.array([1, 0])), ValueError,
     "targets must be 1 or -1"),
    (lambda: F.hinge_loss(np.zeros(2), np.array([1, 0])), ValueError,
     r"hinge_loss: targets must be 1 or -1 \(for labels y in \{0, 1\} pass 2 \* y - 1\)"),
    (lambda: F.hinge_loss(np.zeros((2, 1)), np.ones(2)), ValueError,
     r"hinge_loss: input has shape \(2, 1\) and target \(2,\)"),
    (lambda: F.multi_margin_loss(np.zeros((2, 3)), np.array([0, 1]), p=3), ValueError,
     "p must be 1 or 2"),
    (lambda: F.huber_loss(np.zeros(2), np.zeros(2), delta=0.0), ValueError,
     "delta must be positive"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros((2, 3)),
                                                pos_weight=np.ones(4)), ValueError,
     r"binary_cross_entropy_with_logits: pos_weight of shape \(4,\) does not broadcast to "
     r"the input's shape \(2, 3\)"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(3),
                                                weight=np.ones((2, 3))), ValueError,
     r"weight of shape \(2, 3\) does not broadcast to the input's shape \(3,\)"),
    (lambda: F.binary_cross_entropy(np.full(3, 0.5), np.zeros(3), weight=np.ones(2)),
     ValueError, r"binary_cross_entropy: weight of shape \(2,\) does not broadcast"),
])
def test_loss_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_ignored_targets_may_be_out_of_range():
    loss = F.cross_entropy(np.zeros((3, 2)), np.array([0, -100, 1]))
    assert float(loss) == pytest.approx(np.log(2))


@pytest.mark.parametrize("call, message", [
    (lambda: cr.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((6, 3, 3, 3)), groups=2),
     r"conv2d: input has 4 channels and weight \(6, 3, 3, 3\) with groups=2; expected 6"),
    (lambda: cr.conv2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3))),
     r"conv2d: kernel \(3, 3\) with dilation \(1, 1\) does not fit"),
    (lambda: cr.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3))),
     "conv2d: weight must have 4 dimensions"),
    (lambda: cr.conv1d(np.zeros((1, 1, 5)), np.zeros((1, 1, 3)), stride=0),
     "conv1d: stride must be at least 1"),
    (lambda: cr.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), padding="full"),
     "conv2d: padding must be 'valid', 'same'"),
    (lambda: cr.conv2d(np.zeros((5, 5)), np.zeros((1, 1, 3, 3))),
     r"conv2d: expected input of shape \(N, C, H, W\) or \(C, H, W\), got \(5, 5\)"),
    (lambda: cr.max_pool2d(np.zeros((1, 1, 4, 4)), 2, padding=2),
     "max_pool2d: padding .* must be at most half the kernel size"),
    (lambda: cr.avg_pool2d(np.zeros((1, 1, 4, 4)), 2, divisor_override=0),
     "divisor_override must be a positive int"),
    (lambda: cr.conv_transpose2d(np.zeros((1, 2, 3, 3)), np.zeros((2, 1, 3, 3)), stride=2,
                                 output_padding=2),
     "output_padding .* must be smaller than the stride"),
])
def test_convolution_and_pooling_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_broadcastable_binary_weights_are_accepted():
    x, t = np.zeros((2, 3)), np.ones((2, 3))
    for weight in (np.ones(3), np.ones((2, 1)), 2.0):
        F.binary_cross_entropy_with_logits(x, t, weight=weight, pos_weight=np.ones(3))


@pytest.mark.parametrize("make", [lambda: nn.LSTM(3, 4), lambda: nn.GRU(3, 4, batch_first=True),
                                  lambda: nn.RNN(3, 4)], ids=["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("shape", [(0, 3), (0, 2, 3)], ids=["unbatched", "batched"])
def test_recurrent_layers_refuse_an_empty_sequence(make, shape):
    layer = make()
    if layer.batch_first and len(shape) == 3:
        shape = (2, 0, 3)
    with pytest.raises(ValueError, match=rf"{type(layer).__name__}\(3, 4.*\): the sequence is "
                                         rf"empty \(input of shape \({shape[0]}, "):
        layer(np.zeros(shape, dtype=np.float32))


def test_recurrent_layers_accept_an_empty_batch():
    out, (h, c) = nn.LSTM(3, 4)(np.zeros((5, 0, 3), dtype=np.float32))
    assert out.shape == (5, 0, 4) and h.shape == c.shape == (1, 0, 4)
