"""Functions that make tensors, named as in NumPy (and PyTorch's ``tensor``)."""

from __future__ import annotations

from typing import Any

from chainrule import random as _random
from chainrule.backend import xp
from chainrule.tensor import Tensor


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A tensor holding a copy of ``data``; Python floats become float64.

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    return Tensor(data, requires_grad, dtype)


def _shape(shape: Any) -> tuple[int, ...]:
    if len(shape) == 1 and not isinstance(shape[0], (int, xp.integer)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def zeros(*shape: Any, dtype: Any = xp.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return Tensor(xp.zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = xp.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return Tensor(xp.ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def full(shape: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with one value."""
    return Tensor(xp.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``x``."""
    return Tensor(xp.zeros_like(getattr(x, "data", x), dtype=dtype), requires_grad=requires_grad)


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``x``."""
    return Tensor(xp.ones_like(getattr(x, "data", x), dtype=dtype), requires_grad=requires_grad)


def arange(*args: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Like ``numpy.arange``."""
    return Tensor(xp.arange(*args, dtype=dtype), requires_grad=requires_grad)


def linspace(start: float, stop: float, num: int = 50, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """Like ``numpy.linspace``."""
    return Tensor(xp.linspace(start, stop, num, dtype=dtype), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = xp.float64,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix."""
    return Tensor(xp.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def rand(*shape: Any, dtype: Any = xp.float64, generator: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from ``generator`` (or ``cr.random``'s)."""
    rng = _random.generator(generator)
    return Tensor(rng.random(_shape(shape)).astype(dtype), requires_grad=requires_grad)


def randn(*shape: Any, dtype: Any = xp.float64, generator: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples from ``generator`` (or ``cr.random``'s)."""
    rng = _random.generator(generator)
    return Tensor(rng.standard_normal(_shape(shape)).astype(dtype), requires_grad=requires_grad)
