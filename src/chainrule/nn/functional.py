"""The layers' computations as functions: activations, dropout, linear, convolution,
pooling, normalization, embedding, and (from ``functional_losses``) the losses.

Names and signatures are ``torch.nn.functional``'s (``dim`` for the axis),
so code ports across. Everything is composed of chainrule operations, so
every function is differentiable to any order in both modes.

>>> import numpy as np, chainrule as cr
>>> F = cr.nn.functional
>>> F.relu(np.array([-1.0, 2.0]))
array([0., 2.])
"""

from __future__ import annotations

import math
from typing import Any

from chainrule import ops
from chainrule import random as _random
from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.config import no_grad
from chainrule.core.escape import constant
from chainrule.nn.functional_losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_embedding_loss,
    hinge_loss,
    huber_loss,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
    smooth_l1_loss,
)
from chainrule.ops.activations import log_softmax as _log_softmax
from chainrule.ops.activations import softmax as _softmax
from chainrule.ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from chainrule.ops.gather import index_values, traced_index
from chainrule.ops.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from chainrule.tensor import Tensor, changing

__all__ = [
    "relu", "leaky_relu", "gelu", "elu", "tanh", "sigmoid", "softplus", "softmax",
    "log_softmax", "dropout", "linear", "conv1d", "conv2d", "conv_transpose1d",
    "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm",
    "layer_norm", "embedding", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "hinge_loss", "hinge_embedding_loss", "multi_margin_loss",
]

_SQRT_HALF = math.sqrt(0.5)
_SQRT_TWO_OVER_PI = math.sqrt(2.0 / math.pi)


# ----- activations -----

def relu(x: Any) -> Any:
    """max(x, 0); its derivative at 0 is 0 (PyTorch's choice and the minimum-norm one)."""
    return ops.relu(x)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """x for x > 0, ``negative_slope * x`` otherwise (the slope is also the derivative at 0).

    >>> import numpy as np
    >>> leaky_relu(np.array([-2.0, 3.0]), 0.1)
    array([-0.2,  3. ])
    """
    return ops.where(x > 0, x, x * float(negative_slope))


def elu(x: Any, alpha: float = 1.0) -> Any:
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise (derivative ``alpha`` at 0, as
    in PyTorch)."""
    negative = ops.where(x > 0, 0.0, x)  # exp never sees a large x, so no inf * 0 in the rule
    return ops.where(x > 0, x, ops.expm1(negative) * float(alpha))


def gelu(x: Any, approximate: str = "none") -> Any:
    """x * Phi(x), Phi the standard normal CDF (``approximate='none'``, with erf), or
    Hendrycks & Gimpel's ``'tanh'`` approximation.

    >>> import numpy as np
    >>> float(gelu(np.array(1.0)))
    0.8413...
    """
    if approximate == "none":
        return x * (ops.erf(x * _SQRT_HALF) + 1.0) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_TWO_OVER_PI
        return x * (ops.tanh(inner) + 1.0) * 0.5
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def tanh(x: Any) -> Any:
    """The hyperbolic tangent."""
    return ops.tanh(x)


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)), computed without overflow."""
    return ops.sigmoid(x)


def softplus(x: Any, beta: float = 1.0) -> Any:
    """log(1 + exp(beta * x)) / beta, computed without overflow."""
    if beta == 1:
        return ops.softplus(x)
    return ops.softplus(x * float(beta)) / float(beta)


def softmax(x: Any, dim: int = -1) -> Any:
    """exp(x) / sum(exp(x)) along ``dim`` (the fused, overflow-free ``cr.softmax``)."""
    return _softmax(x, axis=dim)


def log_softmax(x: Any, dim: int = -1) -> Any:
    """x - logsumexp(x) along ``dim`` (the fused ``cr.log_softmax``)."""
    return _log_softmax(x, axis=dim)


# ----- dropout -----

def dropout(x: Any, p: float = 0.5, training: bool = True, generator: Any = None) -> Any:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p), so the
    expectation is unchanged; the identity unless ``training``. ``generator`` is a
    ``numpy.random.Generator``, an int seed, or None for ``cr.random``'s.

    >>> import numpy as np
    >>> dropout(np.ones(4), 0.5, generator=1)
    array([2., 2., 0., 2.])
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    dtype = dtype_of(x)
    if p == 1.0:
        return x * xp.zeros(shape_of(x), dtype=dtype)
    keep = _random.generator(generator).random(shape_of(x)) >= p
    mask = keep.astype(dtype)
    mask *= 1.0 / (1.0 - p)
    return x * mask


# ----- dense -----

def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """x @ weight.T + bias: ``weight`` is (out_features, in_features), as in PyTorch."""
    y = ops.matmul(x, ops.transpose(weight))
    return y if bias is None else y + bias


# ----- normalization -----

def _channel_shape(ndim: int) -> tuple[int, ...]:
    return (-1,) + (1,) * (ndim - 2)


def batch_norm(x: Any, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Any = None, bias: Any = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Any:
    """Normalize each channel (axis 1) of (N, C, ...) by its mean and variance.

    Training: the batch's statistics (biased variance), and the running ones
    are moved towards them in place, ``r = (1 - momentum) r + momentum s``
    with the unbiased variance (PyTorch's rule). Otherwise: the running ones.
    """
    ndim = len(shape_of(x))
    if ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {shape_of(x)}")
    axes = (0, *range(2, ndim))
    shape = _channel_shape(ndim)
    if training:
        count = math.prod(shape_of(x)) // shape_of(x)[1]
        if count < 2:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {tuple(shape_of(x))}")
        mean = ops.mean(x, axis=axes, keepdims=True)
        var = ops.var(x, axis=axes, keepdims=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                _move(running_mean, _plain(mean).reshape(-1), momentum)
                _move(running_var, _plain(var).reshape(-1) * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var")
        mean = ops.reshape(running_mean, shape)
        var = ops.reshape(running_var, shape)
    y = (x - mean) / ops.sqrt(var + eps)
    if weight is not None:
        y = y * ops.reshape(weight, shape)
    if bias is not None:
        y = y + ops.reshape(bias, shape)
    return y


def _plain(v: Any) -> Any:
    """The values of ``v`` outside every graph and transform, deliberately."""
    return constant(v)


def _move(running: Tensor, value: Any, momentum: float) -> None:
    """running <- (1 - momentum) running + momentum value, in place (marked as a
    change: a graph that saved the old statistics refuses to sweep back)."""
    with changing(running) as data:
        data *= 1.0 - momentum
        data += momentum * value.astype(data.dtype)


def layer_norm(x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Any:
    """Normalize over the last ``len(normalized_shape)`` axes of each sample (biased
    variance), then scale and shift elementwise."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) \
        else tuple(normalized_shape)
    shape = tuple(shape_of(x))
    k = len(normalized_shape)
    if k == 0 or shape[len(shape) - k:] != normalized_shape or len(shape) < k:
        raise ValueError(f"layer_norm: expected input of shape (*, "
                         f"{', '.join(map(str, normalized_shape))}), got {shape}")
    axes = tuple(range(-k, 0))
    mean = ops.mean(x, axis=axes, keepdims=True)
    var = ops.var(x, axis=axes, keepdims=True)
    y = (x - mean) / ops.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# ----- embedding -----

def _embedding_traced(indices: Any, weight: Any, padding_idx: int | None) -> Any:
    if xp.dtype(dtype_of(indices)).kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {dtype_of(indices)}")
    n = shape_of(weight)[0]
    idx = index_values(indices)  # every example's (None under jit: no numbers to check)
    if idx is not None and idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].ravel()[0]
        raise IndexError(f"embedding: index {int(bad)} is out of range for {n} embeddings")
    rows = ops.getitem(weight, indices)
    if padding_idx is None:
        return rows
    from chainrule.transforms.grad import stop_gradient

    pad = ops.expand_dims(indices == padding_idx, -1)
    return ops.where(pad, stop_gradient(rows), rows)


def embedding(indices: Any, weight: Any, padding_idx: int | None = None) -> Any:
    """Rows of ``weight`` picked by integer ``indices``: shape ``indices.shape + (dim,)``.

    The row at ``padding_idx`` receives no gradient (its output is constant).
    """
    traced = traced_index(indices)
    if traced is not None:  # mapped by vmap or traced by jit: gathered per example
        return _embedding_traced(traced, weight, padding_idx)
    idx = _plain(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    n = shape_of(weight)[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].ravel()[0]
        raise IndexError(f"embedding: index {int(bad)} is out of range for {n} embeddings")
    rows = ops.getitem(weight, idx)
    if padding_idx is None:
        return rows
    pad = idx == padding_idx
    if not pad.any():
        return rows
    frozen = _plain(weight)[idx]  # the same values, outside the graph
    return ops.where(pad[..., None], frozen, rows)
