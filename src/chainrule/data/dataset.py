"""Datasets: indexable collections of examples.

A ``Dataset`` answers ``len(ds)`` and ``ds[i]``; ``TensorDataset`` wraps
arrays that share their first dimension (inputs, labels, ...) and returns
one row of each. ``Subset`` and ``random_split`` select examples by index.

>>> import numpy as np, chainrule as cr
>>> ds = cr.data.TensorDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]))
>>> len(ds), ds[1]
(3, (tensor([2., 3.]), tensor(1)))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chainrule import random as _random
from chainrule.backend import xp
from chainrule.tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split"]


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__(i)``."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


def _as_constant(value: Any, position: int) -> Tensor:
    data = value.data if isinstance(value, Tensor) else xp.asarray(value)
    while isinstance(data, Tensor):
        data = data.data
    if not isinstance(data, xp.ndarray) or data.dtype.kind == "O":
        raise TypeError(f"TensorDataset: array {position} must hold numbers, got "
                        f"{type(value).__name__}")
    if data.ndim == 0:
        raise ValueError(f"TensorDataset: array {position} is a scalar; each array needs "
                         f"a first dimension that counts the examples")
    return Tensor._wrap(data, None)  # data never carries a graph


class TensorDataset(Dataset):
    """Examples stored as rows of tensors (or arrays) of equal length.

    ``tensors`` keeps them (as constant tensors); ``ds[i]`` is the tuple of
    their i-th rows. The DataLoader slices them directly, without calling
    ``__getitem__`` per example.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one array")
        self.tensors = tuple(_as_constant(t, i) for i, t in enumerate(tensors))
        lengths = [t.shape[0] for t in self.tensors]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: the arrays must have the same first dimension "
                             f"(number of examples), got {lengths}")

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(Tensor._wrap(xp.asarray(t.data[index]), None) for t in self.tensors)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{t.shape} {t.dtype}" for t in self.tensors)
        return f"TensorDataset({len(self)} examples: {shapes})"


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = xp.asarray(indices, dtype=xp.int64)
        n = len(dataset)
        if self.indices.ndim != 1 or (self.indices.size and not (
                (self.indices >= -n).all() and (self.indices < n).all())):
            raise IndexError(f"Subset: indices must be a flat list of positions in a dataset "
                             f"of {n} examples")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> Any:
        return self.dataset[self.indices[index]]


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given sizes.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing
    to 1 (the remainder goes to the first subsets, one each).

    >>> import numpy as np, chainrule as cr
    >>> train, test = cr.data.random_split(cr.data.TensorDataset(np.zeros(10)), [0.8, 0.2], seed=0)
    >>> len(train), len(test)
    (8, 2)
    """
    n = len(dataset)
    if all(isinstance(k, float) for k in lengths) and abs(sum(lengths) - 1.0) < 1e-9:
        counts = [int(k * n) for k in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        counts = [int(k) for k in lengths]
    if sum(counts) != n or any(k < 0 for k in counts):
        raise ValueError(f"random_split: lengths {list(lengths)} must be non-negative counts "
                         f"summing to {n} or fractions summing to 1")
    order = _random.generator(seed).permutation(n)
    bounds = xp.cumsum([0, *counts])
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
