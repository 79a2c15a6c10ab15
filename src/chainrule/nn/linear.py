"""Dense layers and shape glue: ``Linear``, ``Identity``, ``Flatten``."""

from __future__ import annotations

import math
from typing import Any

from chainrule import random as _random
from chainrule.backend import shape_of, xp
from chainrule.nn import init
from chainrule.nn._checks import float_input, layer_dtype, pattern, shape_error
from chainrule.nn.functional import linear
from chainrule.nn.module import Module, Parameter
from chainrule.ops.shape import reshape

__all__ = ["Linear", "Identity", "Flatten"]


def _positive(owner: str, what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)) or value < 1:
        raise ValueError(f"{owner}: {what} must be a positive int, got {value!r}")
    return int(value)


class Linear(Module):
    """y = x W^T + b over the last axis: ``weight`` (out_features, in_features), ``bias``
    (out_features,). Initialized as in PyTorch: both U(-1/sqrt(in), 1/sqrt(in))
    (kaiming_uniform with a = sqrt(5) for the weight).

    >>> import chainrule as cr
    >>> layer = cr.nn.Linear(3, 2, generator=0)
    >>> layer(cr.ones(5, 3, dtype="float32")).shape
    (5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        self.in_features = _positive("Linear", "in_features", in_features)
        self.out_features = _positive("Linear", "out_features", out_features)
        dt = layer_dtype(dtype, "Linear")
        self.weight = Parameter(xp.empty((self.out_features, self.in_features), dtype=dt))
        if bias:
            self.bias = Parameter(xp.empty(self.out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        """PyTorch's default initialization, from ``generator`` (or ``cr.random``'s)."""
        rng = _random.generator(generator)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=rng)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound, generator=rng)

    def forward(self, x: Any) -> Any:
        x = float_input(self, x, self.weight.dtype)
        shape = shape_of(x)
        if not shape or shape[-1] != self.in_features:
            raise shape_error(self, pattern("*", self.in_features), x)
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input (a placeholder, e.g. to remove a layer)."""

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Merges axes ``start_dim`` to ``end_dim`` into one: (N, C, H, W) -> (N, C*H*W).

    >>> import chainrule as cr
    >>> cr.nn.Flatten()(cr.zeros(2, 3, 4)).shape
    (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Any) -> Any:
        shape = tuple(shape_of(x))
        n = len(shape)
        start = self.start_dim + n if self.start_dim < 0 else self.start_dim
        end = self.end_dim + n if self.end_dim < 0 else self.end_dim
        if not 0 <= start <= end < max(n, 1):
            raise ValueError(f"{self.describe()}: cannot flatten axes {self.start_dim} to "
                             f"{self.end_dim} of an input of shape {shape}")
        if n == 0:
            return reshape(x, (1,))
        return reshape(x, shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
