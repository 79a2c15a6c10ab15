"""Pooling layers: the maximum or mean of each window, channel by channel."""

from __future__ import annotations

from typing import Any

from chainrule.backend import shape_of
from chainrule.nn._checks import float_input, int_tuple, restated, shape_error
from chainrule.nn.module import Module
from chainrule.ops.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d"]


class _Pool(Module):
    _nd = 0
    _expected = ""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        # checked here, so a bad setting fails where the layer is built; kept as given
        # (an int stays an int), as PyTorch shows them
        name, nd = type(self).__name__, self._nd
        kernel = int_tuple(name, "kernel_size", kernel_size, nd, 1)
        if stride is not None:
            int_tuple(name, "stride", stride, nd, 1)
        pads = int_tuple(name, "padding", padding, nd, 0)
        if any(p > k // 2 for p, k in zip(pads, kernel)):
            raise ValueError(f"{name}: padding {padding!r} must be at most half the kernel "
                             f"size {kernel_size!r}")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode

    def _check(self, x: Any) -> Any:
        if len(shape_of(x)) not in (self._nd + 1, self._nd + 2):
            raise shape_error(self, self._expected, x)
        return float_input(self, x, None)

    def _pool(self, op: Any, x: Any, *settings: Any) -> Any:
        x = self._check(x)
        try:
            return op(x, self.kernel_size, self.stride, self.padding, *settings)
        except ValueError as err:  # e.g. an input smaller than the window
            raise restated(self, err, x) from None

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}" + (", ceil_mode=True" if self.ceil_mode else ""))


class _MaxPool(_Pool):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        int_tuple(type(self).__name__, "dilation", dilation, self._nd, 1)
        self.dilation = dilation

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", dilation={self.dilation}" if self.dilation != 1
                                       else "")


class MaxPool1d(_MaxPool):
    """The maximum of each window of (N, C, L) or (C, L), as ``torch.nn.MaxPool1d``."""

    _nd = 1
    _expected = "(N, C, L) or (C, L)"

    def forward(self, x: Any) -> Any:
        return self._pool(max_pool1d, x, self.dilation, self.ceil_mode)


class MaxPool2d(_MaxPool):
    """The maximum of each window of (N, C, H, W) or (C, H, W), as ``torch.nn.MaxPool2d``;
    tied maxima share the gradient evenly (under ``cr.subgradient_policy("pytorch")``
    the first maximum takes it all, as in PyTorch).

    >>> import chainrule as cr
    >>> cr.nn.MaxPool2d(2)(cr.zeros(1, 3, 8, 8)).shape
    (1, 3, 4, 4)
    """

    _nd = 2
    _expected = "(N, C, H, W) or (C, H, W)"

    def forward(self, x: Any) -> Any:
        return self._pool(max_pool2d, x, self.dilation, self.ceil_mode)


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
        return self._pool(avg_pool1d, x, self.ceil_mode, self.count_include_pad)


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
        if divisor_override is not None and (isinstance(divisor_override, bool) or not
                                             isinstance(divisor_override, int)
                                             or divisor_override < 1):
            raise ValueError(f"AvgPool2d: divisor_override must be a positive int or None, "
                             f"got {divisor_override!r}")
        self.divisor_override = divisor_override

    def forward(self, x: Any) -> Any:
        return self._pool(avg_pool2d, x, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)
