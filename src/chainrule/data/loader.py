"""DataLoader: a dataset served in (shuffled) mini-batches of tensors.

>>> import numpy as np, chainrule as cr
>>> ds = cr.data.TensorDataset(np.arange(10.0), np.arange(10) % 2)
>>> loader = cr.data.DataLoader(ds, batch_size=4, shuffle=True, seed=0)
>>> [x.shape for x, y in loader]
[(4,), (4,), (2,)]
>>> len(cr.data.DataLoader(ds, batch_size=4, drop_last=True))
2
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from chainrule import random as _random
from chainrule.backend import xp
from chainrule.data.dataset import Dataset, Subset, TensorDataset
from chainrule.tensor import Tensor

__all__ = ["DataLoader", "default_collate"]


def default_collate(items: Sequence[Any]) -> Any:
    """Stack a list of examples into one batch: tuples position by position,
    dicts key by key, numbers and arrays into a tensor with a new first axis."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        if any(len(item) != len(first) for item in items):
            raise ValueError("DataLoader: the examples of a batch have different lengths")
        return tuple(default_collate([item[i] for item in items]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: default_collate([item[key] for item in items]) for key in first}
    arrays = [item.data if isinstance(item, Tensor) else xp.asarray(item) for item in items]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"DataLoader: cannot stack examples of different shapes "
                         f"{sorted(shapes)} into one batch; pass a collate_fn")
    return Tensor._wrap(xp.stack(arrays), None)


def _fetch(dataset: Dataset, index: Any) -> tuple[Tensor, ...] | None:
    """A batch sliced straight from the arrays, where the dataset allows it."""
    if isinstance(dataset, TensorDataset):
        return tuple(Tensor._wrap(t.data[index], None) for t in dataset.tensors)
    if isinstance(dataset, Subset):
        return _fetch(dataset.dataset, dataset.indices[index])
    return None


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` examples.

    ``shuffle`` draws a new order every epoch: from a generator seeded once
    with ``seed`` (so a run repeats exactly), or from ``cr.random``'s
    generator when ``seed`` is None. ``drop_last`` skips a final short batch.
    Each batch is what ``collate_fn`` makes of the list of examples; for a
    ``TensorDataset`` (or a ``Subset`` of one) the default slices the arrays
    directly and yields a tuple of tensors.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None,
                 collate_fn: Callable[[list[Any]], Any] | None = None,
                 sampler: Any = None) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: expected a dataset (with __len__ and __getitem__), "
                            f"got {type(dataset).__name__}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: give either shuffle=True or a sampler (which "
                             "orders the examples itself), not both")
        self.dataset = dataset
        self.sampler = sampler
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self._rng = None if seed is None else xp.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        if self.sampler is not None:
            order = xp.asarray(list(self.sampler), dtype=xp.intp)
            n = len(order)
        elif self.shuffle:
            n = len(self.dataset)
            order = (self._rng or _random.generator(None)).permutation(n)
        else:
            n = len(self.dataset)
            order = xp.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            index = order[start:start + self.batch_size]
            batch = None if self.collate_fn is not None else _fetch(self.dataset, index)
            if batch is None:
                collate = self.collate_fn or default_collate
                batch = collate([self.dataset[int(i)] for i in index])
            yield batch

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.dataset)} examples, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
