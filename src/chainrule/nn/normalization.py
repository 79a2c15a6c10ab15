"""Normalization layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``.

Batch norm normalizes each channel by statistics over the batch (and
positions): in training mode the batch's own, which also move the running
estimates (PyTorch's momentum rule, unbiased variance); in evaluation mode
the running estimates. Layer norm normalizes each sample over its last axes.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import shape_of, xp
from chainrule.nn._checks import float_input, layer_dtype, pattern, shape_error
from chainrule.nn.functional import batch_norm, layer_norm
from chainrule.nn.module import Module, Parameter
from chainrule.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(Module):
    _ndims: tuple[int, ...] = ()
    _expected: tuple[str, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, int) \
                or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, "
                             f"got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = layer_dtype(dtype, name)
        if affine:
            self.weight = Parameter(xp.ones(num_features, dtype=dt))
            self.bias = Parameter(xp.zeros(num_features, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(xp.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(xp.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(xp.array(0, dtype=xp.int64)))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0.0
            self.running_var.data[...] = 1.0
            self.num_batches_tracked.data[...] = 0

    def forward(self, x: Any) -> Any:
        ref = self.weight if self.affine else self.running_mean
        x = float_input(self, x, None if ref is None else ref.dtype)
        shape = shape_of(x)
        if len(shape) not in self._ndims or shape[1] != self.num_features:
            raise shape_error(self, " or ".join(pattern("N", self.num_features, *rest)
                                                for rest in self._expected), x)
        use_batch = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # a cumulative average of every batch so far
                momentum = 1.0 / float(self.num_batches_tracked.data)
        tracked = self.training and self.track_running_stats
        return batch_norm(x, self.running_mean if tracked or not use_batch else None,
                          self.running_var if tracked or not use_batch else None,
                          self.weight, self.bias, use_batch, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input, per channel C, as ``torch.nn.BatchNorm1d``.

    >>> import chainrule as cr
    >>> bn = cr.nn.BatchNorm1d(3)
    >>> y = bn(cr.randn(8, 3, generator=0))
    >>> [round(float(v), 6) for v in y.data.mean(axis=0)]
    [0.0, 0.0, 0.0]
    """

    _ndims = (2, 3)
    _expected = ((), ("L",))


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input, per channel C, as ``torch.nn.BatchNorm2d``."""

    _ndims = (4,)
    _expected = (("H", "W"),)


class LayerNorm(Module):
    """Normalizes each sample over its last ``len(normalized_shape)`` axes, then scales
    and shifts elementwise (``elementwise_affine``), as ``torch.nn.LayerNorm``.

    >>> import chainrule as cr
    >>> y = cr.nn.LayerNorm(4)(cr.randn(2, 4, generator=0))
    >>> y.data.std(axis=-1).round(3).tolist()
    [1.0, 1.0]
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) \
            else tuple(normalized_shape)
        if not shape or any(isinstance(n, bool) or not isinstance(n, int) or n < 1
                            for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive ints, "
                             f"got {normalized_shape!r}")
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        dt = layer_dtype(dtype, "LayerNorm")
        self.register_parameter("weight", Parameter(xp.ones(shape, dtype=dt))
                                if elementwise_affine else None)
        self.register_parameter("bias", Parameter(xp.zeros(shape, dtype=dt))
                                if elementwise_affine and bias else None)

    def forward(self, x: Any) -> Any:
        x = float_input(self, x, None if self.weight is None else self.weight.dtype)
        k = len(self.normalized_shape)
        if tuple(shape_of(x))[-k:] != self.normalized_shape or len(shape_of(x)) < k:
            raise shape_error(self, pattern("*", *self.normalized_shape), x)
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
