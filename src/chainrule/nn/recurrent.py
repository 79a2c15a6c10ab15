"""Recurrent cells (one step of an RNN, LSTM or GRU) and the RNN step function that the
multi-step layers in ``recurrent_layers`` share.

Gate layouts, parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``,
...), shapes and initialization (everything U(-1/sqrt(H), 1/sqrt(H))) are
PyTorch's, so a state_dict copies across in either direction.

An RNN step is a handful of whole-batch operations: the input and hidden
projections (two matmuls against weights transposed once per call), the
activation. An LSTM or GRU step (``LSTMCell``, ``GRUCell``, and every step
of ``LSTM`` and ``GRU``) is the ``lstm_sequence`` or ``gru_sequence``
primitive, whose rules run backpropagation through time without recording
each step."""

from __future__ import annotations

import math
from typing import Any

from chainrule import ops
from chainrule import random as _random
from chainrule.backend import shape_of, xp
from chainrule.nn import init
from chainrule.nn._checks import float_input, layer_dtype, pattern, shape_error
from chainrule.nn.module import Module, Parameter
from chainrule.ops.recurrent import lstm_sequence_p
from chainrule.ops.recurrent_gru import gru_sequence_p

__all__ = ["RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ----- one step of each kind; w_ih_t and w_hh_t are the transposed weights -----

def _rnn_step(x, h, w_ih_t, w_hh_t, b, relu):
    pre = ops.matmul(x, w_ih_t) + ops.matmul(h, w_hh_t)
    if b is not None:
        pre = pre + b
    return ops.relu(pre) if relu else ops.tanh(pre)


def _uniform_all(module: Module, hidden_size: int, generator: Any) -> None:
    rng = _random.generator(generator)
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound, generator=rng)


def _positive(owner: str, what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {what} must be a positive int, got {value!r}")
    return value


# ----- cells -----

class _Cell(Module):
    _mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = _positive(name, "input_size", input_size)
        self.hidden_size = _positive(name, "hidden_size", hidden_size)
        self.bias = bias
        dt = layer_dtype(dtype, name)
        rows = _GATES[self._mode] * hidden_size
        self.weight_ih = Parameter(xp.empty((rows, input_size), dtype=dt))
        self.weight_hh = Parameter(xp.empty((rows, hidden_size), dtype=dt))
        for bias_name in ("bias_ih", "bias_hh"):
            self.register_parameter(bias_name, Parameter(xp.empty(rows, dtype=dt)) if bias
                                    else None)
        _uniform_all(self, hidden_size, generator)

    def _input(self, x: Any) -> tuple[Any, bool]:
        x = float_input(self, x, self.weight_ih.dtype)
        shape = shape_of(x)
        if len(shape) not in (1, 2) or shape[-1] != self.input_size:
            raise shape_error(self, f"{pattern('N', self.input_size)} or "
                                    f"{pattern(self.input_size)}", x)
        return (ops.expand_dims(x, 0), True) if len(shape) == 1 else (x, False)

    def _state(self, h: Any, n: int, unbatched: bool, what: str) -> Any:
        size = self.hidden_size
        if h is None:
            return xp.zeros((n, size), dtype=self.weight_ih.dtype)
        h = float_input(self, h, self.weight_ih.dtype)
        expected = (size,) if unbatched else (n, size)
        if tuple(shape_of(h)) != expected:
            raise ValueError(f"{self.describe()}: expected {what} of shape {expected}, "
                             f"got {tuple(shape_of(h))}")
        return ops.expand_dims(h, 0) if unbatched else h

    def _weights(self):
        return ops.transpose(self.weight_ih), ops.transpose(self.weight_hh)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


def _unbatch(v: Any, unbatched: bool) -> Any:
    return ops.squeeze(v, 0) if unbatched else v


class RNNCell(_Cell):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), as ``torch.nn.RNNCell``.

    >>> import chainrule as cr
    >>> cr.nn.RNNCell(3, 5)(cr.zeros(2, 3, dtype="float32")).shape
    (2, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype: Any = None, generator: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', "
                             f"got {nonlinearity!r}")
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias, dtype, generator)
        self.nonlinearity = nonlinearity

    def forward(self, x: Any, hx: Any = None) -> Any:
        x, unbatched = self._input(x)
        h = self._state(hx, shape_of(x)[0], unbatched, "hx")
        b = None if self.bias_ih is None else self.bias_ih + self.bias_hh
        out = _rnn_step(x, h, *self._weights(), b, self.nonlinearity == "relu")
        return _unbatch(out, unbatched)


class LSTMCell(_Cell):
    """One LSTM step, as ``torch.nn.LSTMCell``: ``cell(x, (h, c)) -> (h', c')``.

    >>> import chainrule as cr
    >>> h, c = cr.nn.LSTMCell(3, 5)(cr.zeros(2, 3, dtype="float32"))
    >>> h.shape, c.shape
    ((2, 5), (2, 5))
    """

    _mode = "LSTM"

    def forward(self, x: Any, hx: Any = None) -> tuple[Any, Any]:
        x, unbatched = self._input(x)
        n = shape_of(x)[0]
        h0, c0 = (None, None) if hx is None else hx
        h = self._state(h0, n, unbatched, "h")
        c = self._state(c0, n, unbatched, "c")
        p = ops.matmul(x, ops.transpose(self.weight_ih))
        if self.bias_ih is not None:
            p = p + (self.bias_ih + self.bias_hh)
        # one step, the batch along the last axis (see ops.recurrent)
        out = lstm_sequence_p(ops.expand_dims(ops.transpose(p), 0), self.weight_hh,
                              ops.transpose(h), ops.transpose(c))
        return (_unbatch(ops.transpose(out[0, 0]), unbatched),
                _unbatch(ops.transpose(out[0, 1]), unbatched))


class GRUCell(_Cell):
    """One GRU step, as ``torch.nn.GRUCell``: ``cell(x, h) -> h'``.

    >>> import chainrule as cr
    >>> cr.nn.GRUCell(3, 5)(cr.zeros(3, dtype="float32")).shape
    (5,)
    """

    _mode = "GRU"

    def forward(self, x: Any, hx: Any = None) -> Any:
        x, unbatched = self._input(x)
        h = self._state(hx, shape_of(x)[0], unbatched, "hx")
        p = ops.matmul(x, ops.transpose(self.weight_ih))
        b_hh = self.bias_hh
        if b_hh is None:
            b_hh = xp.zeros(shape_of(self.weight_hh)[0], dtype=self.weight_hh.dtype)
        else:
            p = p + self.bias_ih
        # one step, the batch along the last axis (see ops.recurrent_gru)
        out = gru_sequence_p(ops.expand_dims(ops.transpose(p), 0), self.weight_hh, b_hh,
                             ops.transpose(h))
        return _unbatch(ops.transpose(out[0, 0]), unbatched)
