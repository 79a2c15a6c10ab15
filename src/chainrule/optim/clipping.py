"""Gradient clipping: bound the gradients before an optimizer step.

Both functions replace each ``p.grad``'s array with a new, clipped one
rather than writing into it: the backward sweep may hand several leaves
the same cotangent array, and clipping it in place would clip it twice.

>>> import chainrule as cr
>>> w = cr.tensor([3.0, 4.0], requires_grad=True)
>>> (w * w).sum().backward()               # grad = [6, 8], norm 10
>>> float(cr.optim.clip_grad_norm_([w], max_norm=5.0))
10.0
>>> w.grad
tensor([3., 4.])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from chainrule.backend import xp
from chainrule.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(parameters: Any, name: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, expected a Tensor")
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``.

    The joint norm is the norm of the vector of per-parameter norms (as in
    PyTorch); every gradient is multiplied by ``min(1, max_norm / (norm + 1e-6))``.
    Returns the norm before clipping, for logging.
    """
    params = _with_grads(parameters, "clip_grad_norm_")
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 (or inf), got {norm_type}")
    if not params:
        return Tensor._wrap(xp.asarray(0.0), None)
    grads = [p.grad.data for p in params]
    norms = xp.array([xp.linalg.norm(g.ravel(), ord=norm_type) for g in grads],
                     dtype=xp.result_type(*grads))
    total = xp.linalg.norm(norms, ord=norm_type)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise FloatingPointError(f"clip_grad_norm_: the total {norm_type}-norm of the "
                                 f"gradients is {float(total)}; pass error_if_nonfinite=False "
                                 f"to clip anyway")
    scale = min(1.0, max_norm / (float(total) + 1e-6))
    for p in params:
        g = p.grad.data
        p.grad = Tensor._wrap(g * xp.asarray(scale, dtype=g.dtype), None)
    return Tensor._wrap(total, None)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clip every gradient entry to ``[-clip_value, clip_value]``.

    >>> import chainrule as cr
    >>> w = cr.tensor([3.0, -0.5], requires_grad=True)
    >>> (w * w).sum().backward()           # grad = [6, -1]
    >>> cr.optim.clip_grad_value_([w], 2.0)
    >>> w.grad
    tensor([ 2., -1.])
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _with_grads(parameters, "clip_grad_value_"):
        g = p.grad.data
        p.grad = Tensor._wrap(xp.clip(g, -clip_value, clip_value).astype(g.dtype, copy=False),
                              None)
