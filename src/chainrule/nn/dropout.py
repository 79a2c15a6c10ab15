"""Dropout: randomly zero activations while training, to regularize."""

from __future__ import annotations

from typing import Any

from chainrule import random as _random
from chainrule.nn._checks import float_input
from chainrule.nn.functional import dropout
from chainrule.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zeroes each element with probability ``p`` in training mode and scales the rest
    by 1 / (1 - p); the identity in evaluation mode. ``generator`` (a
    ``numpy.random.Generator`` or an int seed) makes the masks repeatable; by
    default they come from ``cr.random`` (seed it with ``cr.random.seed``).

    >>> import numpy as np, chainrule as cr
    >>> drop = cr.nn.Dropout(0.5, generator=1)
    >>> drop(np.ones(4))
    array([2., 2., 0., 2.])
    >>> drop.eval()(np.ones(4))
    array([1., 1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, generator: Any = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        # one generator for the layer's life, so successive masks differ
        self.generator = None if generator is None else _random.generator(generator)

    def forward(self, x: Any) -> Any:
        return dropout(float_input(self, x, None), self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"
