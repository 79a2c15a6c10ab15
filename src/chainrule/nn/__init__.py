"""chainrule.nn: layers, losses and initialization for deep learning, PyTorch-shaped.

A model is a :class:`Module` whose attributes are layers and parameters;
calling it runs ``forward`` on chainrule operations, so ``loss.backward()``
fills every parameter's ``.grad``. Layer names, arguments, parameter names,
default initializations and numerics follow ``torch.nn``, so weights copy
across through ``state_dict`` and results agree.

>>> import chainrule as cr
>>> cr.random.seed(0)
>>> model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
>>> x = cr.randn(5, 4, dtype="float32")
>>> loss = cr.nn.functional.cross_entropy(model(x), [0, 1, 2, 0, 1])
>>> loss.backward()
>>> model[0].weight.grad.shape
(8, 4)
"""

from chainrule.nn import functional, init
from chainrule.nn.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from chainrule.nn.containers import ModuleList, Sequential
from chainrule.nn.conv import Conv1d, Conv2d
from chainrule.nn.dropout import Dropout
from chainrule.nn.embedding import Embedding
from chainrule.nn.linear import Flatten, Identity, Linear
from chainrule.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeEmbeddingLoss,
    HingeLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
)
from chainrule.nn.module import IncompatibleKeys, Module, Parameter
from chainrule.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from chainrule.nn.pooling import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from chainrule.nn.recurrent import GRUCell, LSTMCell, RNNCell
from chainrule.nn.recurrent_layers import GRU, LSTM, RNN
from chainrule.nn.stateless import functional_call

__all__ = [
    "functional", "init", "functional_call",
    "Module", "Parameter", "IncompatibleKeys", "Sequential", "ModuleList",
    "Linear", "Identity", "Flatten", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d",
    "AvgPool1d", "AvgPool2d", "Dropout", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "Embedding", "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
    "ReLU", "LeakyReLU", "GELU", "ELU", "Tanh", "Sigmoid", "Softplus", "Softmax", "LogSoftmax",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss",
    "BCELoss", "BCEWithLogitsLoss", "HingeLoss", "HingeEmbeddingLoss", "MultiMarginLoss",
]
