"""Initialization: fill a parameter in place with values of a chosen scale.

The scale keeps activations and gradients from shrinking or growing layer
after layer: Xavier/Glorot for tanh-like layers (variance 2 / (fan_in +
fan_out)), He/Kaiming for rectifiers (variance gain^2 / fan). The formulas
and names are PyTorch's, and so are the layers' default initializations, so
a model built here and in PyTorch has weights from the same distributions.

Every function takes ``generator``: a ``numpy.random.Generator``, an int
seed, or None for ``cr.random``'s generator (seed it with
``cr.random.seed``). Values are drawn in float64 and cast to the tensor's
dtype; the tensor stays the same object (an optimizer may hold it).

>>> import chainrule as cr
>>> w = cr.nn.init.xavier_uniform_(cr.zeros(3, 4), generator=0)
>>> bool((abs(w.data) <= (6 / 7) ** 0.5).all())
True
"""

from __future__ import annotations

import math
from typing import Any

from chainrule import random as _random
from chainrule.tensor import Tensor, changing

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "constant_",
    "zeros_",
    "ones_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid", "identity")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which ``nonlinearity`` shrinks the standard deviation, which the
    Xavier and Kaiming formulas undo: 1 for linear, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + a^2)) for leaky_relu with slope ``a`` (0.01 by default), 3/4 for selu.

    >>> round(calculate_gain("relu"), 4)
    1.4142
    """
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one of "
                     f"{', '.join(_LINEAR + ('tanh', 'relu', 'leaky_relu', 'selu'))}")


def _fans(tensor: Tensor, name: str) -> tuple[int, int]:
    """(fan_in, fan_out): inputs and outputs per unit, times the kernel size for convs."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"{name}: fan in and fan out need a tensor of at least 2 "
                         f"dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fill(tensor: Tensor, values: Any, name: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a chainrule Tensor, got {type(tensor).__name__}")
    with changing(tensor) as data:  # in place (cast to its dtype), marked as changed
        data[...] = values
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with samples from U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    values = _random.generator(generator).uniform(a, b, size=tensor.shape)
    return _fill(tensor, values, "uniform_")


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with samples from N(mean, std^2)."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    values = _random.generator(generator).normal(mean, std, size=tensor.shape)
    return _fill(tensor, values, "normal_")


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(tensor, val, "constant_")


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros."""
    return _fill(tensor, 0.0, "zeros_")


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones."""
    return _fill(tensor, 1.0, "ones_")


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot & Bengio (2010): U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot & Bengio (2010): N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor, "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str, name: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{name}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor, name)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"{name}: a tensor of shape {tensor.shape} has no {mode}")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """He et al. (2015): U(-b, b) with b = gain * sqrt(3 / fan); ``a`` is the slope of
    leaky_relu. PyTorch's Linear and Conv default is ``a=sqrt(5)``: b = 1 / sqrt(fan_in)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """He et al. (2015): N(0, std^2) with std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return normal_(tensor, 0.0, std, generator)


def fan_in(tensor: Tensor) -> int:
    """Inputs per unit (times the kernel size): what PyTorch's default bias bound uses."""
    return _fans(tensor, "fan_in")[0]
