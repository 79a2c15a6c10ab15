"""Multi-step, multi-layer recurrent layers: ``RNN``, ``LSTM``, ``GRU``.

Input is (L, N, features), or (N, L, features) with ``batch_first``, or
unbatched (L, features); initial states are (num_layers * D, N, H), D = 2
if ``bidirectional``. Outputs and parameter names are PyTorch's: the output
holds the last layer's hidden state at every step, ``h_n`` (and ``c_n``) the
last step's state of every layer and direction. An LSTM or GRU layer is one
``lstm_sequence`` or ``gru_sequence`` primitive over the whole sequence (input
projections for all steps in one matrix product); RNN layers are
composites, step by step.
"""

from __future__ import annotations

from typing import Any

from chainrule import ops
from chainrule import random as _random
from chainrule.backend import dtype_of, shape_of, xp
from chainrule.nn._checks import float_input, layer_dtype, pattern, shape_error
from chainrule.nn.functional import dropout
from chainrule.nn.module import Module, Parameter
from chainrule.nn.recurrent import _GATES, _positive, _rnn_step, _uniform_all
from chainrule.ops.recurrent import lstm_sequence_p
from chainrule.ops.recurrent_gru import gru_sequence_p

__all__ = ["RNN", "LSTM", "GRU"]


def _columns(x: Any, w: Any, b: Any) -> Any:
    """Every step's input projection w x_t + b as columns, (L, rows, N): the recurrence
    primitives keep the batch along the last axis (see ``ops.recurrent``). The bias
    rides in the product as a column of ``w`` against a row of ones, which spares a
    pass over (and a copy of) every step's projections both ways."""
    columns = ops.swapaxes(x, 1, 2)
    if b is not None:
        length, _, n = shape_of(columns)
        w = ops.concatenate([w, ops.expand_dims(b, 1)], axis=1)
        columns = ops.concatenate([columns, xp.ones((length, 1, n), dtype=dtype_of(w))], axis=1)
    return ops.matmul(w, columns)


class _RNNBase(Module):
    _mode = ""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = _positive(name, "input_size", input_size)
        self.hidden_size = _positive(name, "hidden_size", hidden_size)
        self.num_layers = _positive(name, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.generator = None if generator is None else _random.generator(generator)
        dt = layer_dtype(dtype, name)
        rows = _GATES[self._mode] * hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * directions
            for suffix in self._suffixes(layer):
                self.register_parameter("weight_ih" + suffix,
                                        Parameter(xp.empty((rows, width), dtype=dt)))
                self.register_parameter("weight_hh" + suffix,
                                        Parameter(xp.empty((rows, hidden_size), dtype=dt)))
                if bias:
                    self.register_parameter("bias_ih" + suffix,
                                            Parameter(xp.empty(rows, dtype=dt)))
                    self.register_parameter("bias_hh" + suffix,
                                            Parameter(xp.empty(rows, dtype=dt)))
        _uniform_all(self, hidden_size, self.generator)

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}"] + ([f"_l{layer}_reverse"] if self.bidirectional else [])

    @property
    def _dtype(self) -> Any:
        return self.weight_ih_l0.dtype

    # ----- checking and reshaping input and states -----
    def _sequence(self, x: Any) -> tuple[Any, bool]:
        """``x`` as (L, N, input_size) and whether it was unbatched."""
        x = float_input(self, x, self._dtype)
        shape = shape_of(x)
        if len(shape) not in (2, 3) or shape[-1] != self.input_size:
            batched = pattern("N", "L", self.input_size) if self.batch_first \
                else pattern("L", "N", self.input_size)
            raise shape_error(self, f"{batched} or {pattern('L', self.input_size)}", x)
        if shape[1 if self.batch_first and len(shape) == 3 else 0] == 0:
            raise ValueError(f"{self.describe()}: the sequence is empty (input of shape "
                             f"{tuple(shape)}); give at least one step")
        if len(shape) == 2:
            return ops.expand_dims(x, 1), True
        return (ops.swapaxes(x, 0, 1) if self.batch_first else x), False

    def _initial(self, state: Any, n: int, unbatched: bool, what: str) -> list[Any]:
        """One (N, H) state per layer and direction."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        if state is None:
            zeros = xp.zeros((n, self.hidden_size), dtype=self._dtype)
            return [zeros] * count
        state = float_input(self, state, self._dtype)
        expected = (count, self.hidden_size) if unbatched else (count, n, self.hidden_size)
        if tuple(shape_of(state)) != expected:
            raise ValueError(f"{self.describe()}: expected {what} of shape {expected}, "
                             f"got {tuple(shape_of(state))}")
        if unbatched:
            state = ops.expand_dims(state, 1)
        return [state[k] for k in range(count)]

    # ----- the recurrence -----
    def _run(self, x: Any, states: list[list[Any]]) -> tuple[Any, list[list[Any]]]:
        """Every layer over the sequence ``x`` (L, N, F); ``states`` holds one list per
        state kind (h, or h and c), each with one (N, H) entry per layer and direction.

        LSTM and GRU layers run as one primitive on the whole sequence. RNN layers
        run step by step on per-step tensors, never on slices of a
        stacked array that needs a gradient: a slice's cotangent is a zero array of
        the whole stack, which would make the backward pass quadratic in the length.
        """
        length = shape_of(x)[0]
        whole = self._mode in ("LSTM", "GRU")
        layer_input: Any = x if whole else [x[t] for t in range(length)]
        finals: list[list[Any]] = [[] for _ in states]
        directions = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(self._suffixes(layer)):
                start = [s[layer * directions + d] for s in states]
                run = {"LSTM": self._lstm_direction, "GRU": self._gru_direction}.get(
                    self._mode, self._step_direction)
                out, last = run(layer_input, start, suffix, reverse=d == 1)
                outputs.append(out)
                for kind, value in zip(finals, last):
                    kind.append(value)
            layer_input = self._join(outputs, whole)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = dropout(layer_input, self.dropout, True, self.generator) \
                    if whole else [dropout(v, self.dropout, True, self.generator)
                                   for v in layer_input]
        if whole:
            return layer_input, finals
        n, width = shape_of(layer_input[0])
        return ops.reshape(ops.concatenate(layer_input, axis=0), (length, n, width)), finals

    @staticmethod
    def _join(outputs: list[Any], whole: bool) -> Any:
        """Both directions' outputs side by side (features of the forward pass first)."""
        if len(outputs) == 1:
            return outputs[0]
        if whole:
            return ops.concatenate(outputs, axis=-1)
        return [ops.concatenate([f, b], axis=-1) for f, b in zip(*outputs)]

    def _weights(self, suffix: str) -> tuple[Any, Any, Any, Any]:
        b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
        b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
        return (getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix),
                b_ih, b_hh)

    def _lstm_direction(self, x: Any, state: list[Any], suffix: str, reverse: bool
                        ) -> tuple[Any, list[Any]]:
        """One LSTM layer in one direction over the whole sequence: its hidden states
        (L, N, H) in time order and the final (h, c)."""
        w_ih, w_hh, b_ih, b_hh = self._weights(suffix)
        if reverse:
            x = ops.flip(x, 0)
        p = _columns(x, w_ih, None if b_ih is None else b_ih + b_hh)
        out = lstm_sequence_p(p, w_hh, *(ops.transpose(s) for s in state))
        hs = ops.swapaxes(out[:, 0], 1, 2)
        last = [ops.transpose(out[-1, 0]), ops.transpose(out[-1, 1])]
        return (ops.flip(hs, 0) if reverse else hs), last

    def _gru_direction(self, x: Any, state: list[Any], suffix: str, reverse: bool
                       ) -> tuple[Any, list[Any]]:
        """One GRU layer in one direction over the whole sequence, as ``_lstm_direction``."""
        w_ih, w_hh, b_ih, b_hh = self._weights(suffix)
        if reverse:
            x = ops.flip(x, 0)
        p = _columns(x, w_ih, b_ih)
        if b_hh is None:
            b_hh = xp.zeros(shape_of(w_hh)[0], dtype=self._dtype)
        out = gru_sequence_p(p, w_hh, b_hh, *(ops.transpose(s) for s in state))
        hs = ops.swapaxes(out[:, 0], 1, 2)
        return (ops.flip(hs, 0) if reverse else hs), [ops.transpose(out[-1, 0])]

    def _step_direction(self, inputs: list[Any], state: list[Any], suffix: str,
                        reverse: bool) -> tuple[list[Any], list[Any]]:
        """One RNN layer in one direction, step by step: the hidden state at every
        step (in time order) and the final one."""
        w_ih, w_hh, b_ih, b_hh = self._weights(suffix)
        w_ih_t, w_hh_t = ops.transpose(w_ih), ops.transpose(w_hh)
        order = range(len(inputs) - 1, -1, -1) if reverse else range(len(inputs))
        hs: list[Any] = [None] * len(inputs)
        (h,) = state
        b = None if b_ih is None else b_ih + b_hh
        relu = self._mode == "RNN_RELU"
        for t in order:
            h = _rnn_step(inputs[t], h, w_ih_t, w_hh_t, b, relu)
            hs[t] = h
        return hs, [h]

    def _forward(self, x: Any, states: tuple[Any, ...], names: tuple[str, ...]
                 ) -> tuple[Any, list[Any]]:
        x, unbatched = self._sequence(x)
        n = shape_of(x)[1]
        initial = [self._initial(s, n, unbatched, what) for s, what in zip(states, names)]
        out, finals = self._run(x, initial)
        if unbatched:
            return ops.squeeze(out, 1), [ops.concatenate(f, axis=0) for f in finals]
        if self.batch_first:
            out = ops.swapaxes(out, 0, 1)
        return out, [ops.stack(f, axis=0) for f in finals]

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if not self.bias:
            parts.append("bias=False")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.bidirectional:
            parts.append("bidirectional=True")
        return ", ".join(parts)


class RNN(_RNNBase):
    """Elman RNN, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), as
    ``torch.nn.RNN``: ``rnn(x, h_0) -> (output, h_n)``.

    >>> import chainrule as cr
    >>> out, h = cr.nn.RNN(3, 5, num_layers=2)(cr.zeros(7, 2, 3, dtype="float32"))
    >>> out.shape, h.shape
    ((7, 2, 5), (2, 2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, dtype: Any = None,
                 generator: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype, generator)
        self.nonlinearity = nonlinearity

    def forward(self, x: Any, hx: Any = None) -> tuple[Any, Any]:
        out, (h,) = self._forward(x, (hx,), ("h_0",))
        return out, h


class LSTM(_RNNBase):
    """Long short-term memory, as ``torch.nn.LSTM`` (gates i, f, g, o):
    ``lstm(x, (h_0, c_0)) -> (output, (h_n, c_n))``.

    >>> import chainrule as cr
    >>> lstm = cr.nn.LSTM(3, 5, batch_first=True)
    >>> out, (h, c) = lstm(cr.zeros(2, 7, 3, dtype="float32"))
    >>> out.shape, h.shape, c.shape
    ((2, 7, 5), (1, 2, 5), (1, 2, 5))
    """

    _mode = "LSTM"

    def forward(self, x: Any, hx: Any = None) -> tuple[Any, tuple[Any, Any]]:
        h0, c0 = (None, None) if hx is None else hx
        out, (h, c) = self._forward(x, (h0, c0), ("h_0", "c_0"))
        return out, (h, c)


class GRU(_RNNBase):
    """Gated recurrent unit, as ``torch.nn.GRU`` (gates r, z, n):
    ``gru(x, h_0) -> (output, h_n)``.

    >>> import chainrule as cr
    >>> out, h = cr.nn.GRU(3, 5, bidirectional=True)(cr.zeros(7, 3, dtype="float32"))
    >>> out.shape, h.shape
    ((7, 10), (2, 5))
    """

    _mode = "GRU"

    def forward(self, x: Any, hx: Any = None) -> tuple[Any, Any]:
        out, (h,) = self._forward(x, (hx,), ("h_0",))
        return out, h
