"""One global batch split over the ranks, computing exactly what one process computes.

Averaging gradients makes P ranks with B/P examples each equal one process
with B examples only for layers that treat examples independently. Two
common layers do not, and ``GlobalBatch`` mends both:

* batch norm normalizes by the batch's statistics: its layers become
  ``SyncBatchNorm``, whose mean and variance are sums over every rank's
  examples (an all-reduce in the forward pass, and one in the backward pass,
  since the derivative of a sum over ranks is a sum over ranks);
* dropout draws a random mask: each rank draws the mask of the whole global
  batch from the same generator stream and keeps its own rows, so the masks
  are those of the one-process run.

Rank ``r`` takes rows ``r, r + P, r + 2P, ...`` of each global batch, and the
loss is the sum of its examples' losses times ``scale`` (P / B): averaged
over the ranks, that is the mean over the global batch.
"""

from __future__ import annotations

import math
from typing import Any

from chainrule import ops
from chainrule import random as _random
from chainrule.backend import shape_of, xp
from chainrule.core.primitive import primitive
from chainrule.distributed.runtime import comm, mpi, wait
from chainrule.nn._checks import float_input, pattern, shape_error
from chainrule.nn.dropout import Dropout
from chainrule.nn.module import Module
from chainrule.nn.normalization import _BatchNorm
from chainrule.tensor import Tensor

__all__ = ["GlobalBatch", "SyncBatchNorm", "convert_sync_batchnorm", "sum_over_ranks"]


def _sum_over_ranks(a: Any) -> Any:
    out = xp.array(a, copy=True, order="C")
    request = comm().Iallreduce(mpi().IN_PLACE, out, op=mpi().SUM)
    wait(request, f"sum_over_ranks of shape {out.shape}")
    return out


sum_over_ranks = primitive(_sum_over_ranks, name="sum_over_ranks")
"""The elementwise sum of ``x`` over all ranks, on every rank; differentiable: the
cotangent of a sum over ranks is the sum over ranks of the cotangents."""
sum_over_ranks.defvjp(lambda g, out, x: sum_over_ranks(g))
sum_over_ranks.defjvp(lambda dx, out, x: sum_over_ranks(dx))


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose training statistics cover the examples of every rank.

    Made by ``convert_sync_batchnorm`` from a BatchNorm1d or BatchNorm2d (it
    keeps their parameters, buffers and accepted shapes); in evaluation mode
    it is the layer it was, using the running estimates.
    """

    def forward(self, x: Any) -> Any:
        if not self.training:
            return super().forward(x)
        ref = self.weight if self.affine else self.running_mean
        x = float_input(self, x, None if ref is None else ref.dtype)
        shape = shape_of(x)
        if len(shape) not in self._ndims or shape[1] != self.num_features:
            raise shape_error(self, " or ".join(pattern("N", self.num_features, *rest)
                                                for rest in self._expected), x)
        axes = (0, *range(2, len(shape)))
        channel = (1, self.num_features) + (1,) * (len(shape) - 2)
        count = int(_sum_over_ranks(xp.array([math.prod(shape) // shape[1]]))[0])
        if count < 2:
            raise ValueError(f"{self.describe()}: expected more than 1 value per channel "
                             f"over all ranks when training, got {count}")
        mean = sum_over_ranks(ops.sum(x, axis=axes, keepdims=True)) / count
        centred = x - mean
        var = sum_over_ranks(ops.sum(centred * centred, axis=axes, keepdims=True)) / count
        if self.track_running_stats:
            self.num_batches_tracked.data += 1
            momentum = (1.0 / float(self.num_batches_tracked.data) if self.momentum is None
                        else self.momentum)
            for running, value in ((self.running_mean, mean),
                                   (self.running_var, var * (count / (count - 1)))):
                data = running.data
                data *= 1.0 - momentum
                data += momentum * xp.asarray(_plain(value)).reshape(-1).astype(data.dtype)
        y = centred / ops.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * ops.reshape(self.weight, channel)
        if self.bias is not None:
            y = y + ops.reshape(self.bias, channel)
        return y


def _plain(v: Any) -> Any:
    while isinstance(v, Tensor):
        v = v.data
    return v


def convert_sync_batchnorm(model: Module) -> Module:
    """Turn every batch-norm layer of ``model`` into a SyncBatchNorm, in place (same
    parameters, buffers and state-dict names), and return ``model``."""
    for module in model.modules():
        cls = type(module)
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            module.__class__ = type(f"Sync{cls.__name__}", (SyncBatchNorm, cls), {})
    return model


class _RowsOfGlobalMask(xp.random.Generator):
    """A generator for Dropout that draws the global batch's numbers from the layer's
    own source and returns this rank's rows of them."""

    def __init__(self, shard: GlobalBatch, source: Any) -> None:
        super().__init__(xp.random.PCG64(0))  # unused: every draw goes to ``source``
        self.shard, self.source = shard, source

    def random(self, size: Any = None, dtype: Any = xp.float64, out: Any = None) -> Any:
        shard = self.shard
        size = tuple(size) if isinstance(size, (tuple, list)) else (size,)
        local = len(range(shard.rank, shard.rows, shard.size))
        if out is not None or not size or size[0] != local:
            raise ValueError(f"GlobalBatch: dropout drew {size} numbers where this rank's "
                             f"share of the global batch has {local} rows; call "
                             f"GlobalBatch.split on each batch before the forward pass")
        full = _random.generator(self.source).random((shard.rows, *size[1:]), dtype)
        return full[shard.rank::shard.size]


class GlobalBatch:
    """This rank's share of each global batch, for ``model`` (see the module's text).

    >>> import numpy as np, chainrule as cr
    >>> from chainrule.distributed import GlobalBatch
    >>> shard = GlobalBatch(cr.nn.Linear(2, 1), rank=1, size=2)
    >>> x, y = shard.split(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> y.numpy(), shard.scale
    (array([1, 3]), 0.4)
    """

    def __init__(self, model: Module, rank: int | None = None, size: int | None = None) -> None:
        self.rank = comm().Get_rank() if rank is None else rank
        self.size = comm().Get_size() if size is None else size
        if not 0 <= self.rank < self.size:
            raise ValueError(f"GlobalBatch: rank must be in 0..{self.size - 1}, got {self.rank}")
        self.rows = 0
        convert_sync_batchnorm(model)
        for module in model.modules():
            if isinstance(module, Dropout) and not isinstance(module.generator,
                                                              _RowsOfGlobalMask):
                module.generator = _RowsOfGlobalMask(self, module.generator)

    def split(self, *batch: Any) -> tuple[Any, ...]:
        """Rows rank, rank + size, ... of each tensor of a global batch."""
        rows = {len(t) for t in batch}
        if len(rows) != 1:
            raise ValueError(f"GlobalBatch.split: the tensors have different numbers of "
                             f"rows {sorted(rows)}")
        self.rows = rows.pop()
        if self.rows < self.size:
            raise ValueError(f"GlobalBatch.split: a batch of {self.rows} examples cannot give "
                             f"each of {self.size} ranks one; use a larger batch size")
        return tuple(Tensor._wrap(xp.asarray(_plain(t))[self.rank::self.size], None)
                     for t in batch)

    @property
    def scale(self) -> float:
        """size / rows: the factor that turns this rank's summed loss into its share of
        the global mean (DistributedDataParallel divides by ``size`` again)."""
        return self.size / self.rows
