"""Convolutional layers: ``Conv1d`` and ``Conv2d`` over channels-first input."""

from __future__ import annotations

import math
from typing import Any

from chainrule import random as _random
from chainrule.backend import shape_of, xp
from chainrule.nn import init
from chainrule.nn._checks import (
    float_input,
    int_tuple,
    layer_dtype,
    pattern,
    restated,
    shape_error,
)
from chainrule.nn.module import Module, Parameter
from chainrule.ops.conv import conv1d, conv2d

__all__ = ["Conv1d", "Conv2d"]


class _ConvNd(Module):
    _nd = 0
    _spatial: tuple[str, ...] = ()

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        name, nd = type(self).__name__, self._nd
        for what, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("groups", groups)):
            if isinstance(value, bool) or not isinstance(value, (int, xp.integer)) or value < 1:
                raise ValueError(f"{name}: {what} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: only padding_mode='zeros' is supported, "
                                      f"got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = int_tuple(name, "kernel_size", kernel_size, nd, 1)
        self.stride = int_tuple(name, "stride", stride, nd, 1)
        self.dilation = int_tuple(name, "dilation", dilation, nd, 1)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{name}: padding must be 'valid', 'same' or ints, "
                                 f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' needs stride 1")
            self.padding = padding
        else:
            self.padding = int_tuple(name, "padding", padding, nd, 0)
        dt = layer_dtype(dtype, name)
        self.weight = Parameter(xp.empty((out_channels, in_channels // groups,
                                          *self.kernel_size), dtype=dt))
        if bias:
            self.bias = Parameter(xp.empty(out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        """PyTorch's default: kaiming_uniform with a = sqrt(5) (so U(-1/sqrt(fan_in),
        1/sqrt(fan_in))) for the weight, the same bound for the bias."""
        rng = _random.generator(generator)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=rng)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(init.fan_in(self.weight))
            init.uniform_(self.bias, -bound, bound, generator=rng)

    def _check(self, x: Any) -> Any:
        x = float_input(self, x, self.weight.dtype)
        shape = shape_of(x)
        nd = self._nd
        if len(shape) not in (nd + 1, nd + 2) or shape[-nd - 1] != self.in_channels:
            expected = pattern("N", self.in_channels, *self._spatial)
            raise shape_error(self, f"{expected} or {pattern(self.in_channels, *self._spatial)}",
                              x)
        return x

    def extra_repr(self) -> str:
        parts = [f"{self.in_channels}, {self.out_channels}", f"kernel_size={self.kernel_size}",
                 f"stride={self.stride}"]
        if self.padding != (0,) * self._nd:
            parts.append(f"padding={self.padding!r}")
        if self.dilation != (1,) * self._nd:
            parts.append(f"dilation={self.dilation}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if self.bias is None:
            parts.append("bias=False")
        return ", ".join(parts)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or (C, L) inputs, as ``torch.nn.Conv1d``.

    >>> import chainrule as cr
    >>> cr.nn.Conv1d(2, 4, 3, padding=1)(cr.zeros(5, 2, 10, dtype="float32")).shape
    (5, 4, 10)
    """

    _nd = 1
    _spatial = ("L",)

    def forward(self, x: Any) -> Any:
        x = self._check(x)
        try:
            return conv1d(x, self.weight, self.bias, self.stride, self.padding,
                          self.dilation, self.groups)
        except ValueError as err:  # e.g. an input smaller than the kernel
            raise restated(self, err, x) from None


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) or (C, H, W) inputs, as ``torch.nn.Conv2d``:
    ``stride``, ``padding`` (ints, pairs, 'valid' or 'same'), ``dilation``, ``groups``;
    ``weight`` is (out_channels, in_channels / groups, kh, kw).

    >>> import chainrule as cr
    >>> conv = cr.nn.Conv2d(3, 8, 3, stride=2)
    >>> conv
    Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2))
    >>> conv(cr.zeros(4, 3, 28, 28, dtype="float32")).shape
    (4, 8, 13, 13)
    """

    _nd = 2
    _spatial = ("H", "W")

    def forward(self, x: Any) -> Any:
        x = self._check(x)
        try:
            return conv2d(x, self.weight, self.bias, self.stride, self.padding,
                          self.dilation, self.groups)
        except ValueError as err:  # e.g. an input smaller than the kernel
            raise restated(self, err, x) from None
