"""Pooling layers: the maximum or mean of each window, channel by channel."""

from __future__ import annotations

from typing import Any

from chainrule.backend import shape_of
from chainrule.nn._checks import float_input, shape_error
from chainrule.nn.module import Module
from chainrule.ops.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"]


class _Pool(Module):
    _nd = 0
    _expected = ""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode

    def _check(self, x: Any) -> Any:
        if len(shape_of(x)) not in (self._nd + 1, self._nd + 2):
            raise shape_error(self, self._expected, x)
        return float_input(self, x, None)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}" + (", ceil_mode=True" if self.ceil_mode else ""))


class _MaxPool(_Pool):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation = dilation

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", dilation={self.dilation}" if self.dilation != 1
                                       else "")


class MaxPool1d(_MaxPool):
    """The maximum of each window of (N, C, L) or (C, L), as ``torch.nn.MaxPool1d``."""

    _nd = 1
    _expected = "(N, C, L) or (C, L)"

    def forward(self, x: Any) -> Any:
        return max_pool1d(self._check(x), self.kernel_size, self.stride, self.padding,
                          self.dilation, self.ceil_mode)


class MaxPool2d(_MaxPool):
    """The maximum of each window of (N, C, H, W) or (C, H, W), as ``torch.nn.MaxPool2d``;
    tied maxima share the gradient evenly.

    >>> import chainrule as cr
    >>> cr.nn.MaxPool2d(2)(cr.zeros(1, 3, 8, 8)).shape
    (1, 3, 4, 4)
    """

    _nd = 2
    _expected = "(N, C, H, W) or (C, H, W)"

    def forward(self, x: Any) -> Any:
        return max_pool2d(self._check(x), self.kernel_size, self.stride, self.padding,
                          self.dilation, self.ceil_mode)


class _AvgPool(_Pool):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = count_include_pad


class AvgPool1d(_AvgPool):
    """The mean of each window of (N, C, L) or (C, L), as ``torch.nn.AvgPool1d``."""

    _nd = 1
    _expected = "(N, C, L) or (C, L)"

    def forward(self, x: Any) -> Any:
        return avg_pool1d(self._check(x), self.kernel_size, self.stride, self.padding,
                          self.ceil_mode, self.count_include_pad)


class AvgPool2d(_AvgPool):
    """The mean of each window of (N, C, H, W) or (C, H, W), as ``torch.nn.AvgPool2d``.

    >>> import chainrule as cr
    >>> cr.nn.AvgPool2d(2, stride=1)(cr.ones(1, 1, 3, 3)).shape
    (1, 1, 2, 2)
    """

    _nd = 2
    _expected = "(N, C, H, W) or (C, H, W)"

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x: Any) -> Any:
        return avg_pool2d(self._check(x), self.kernel_size, self.stride, self.padding,
                          self.ceil_mode, self.count_include_pad, self.divisor_override)
