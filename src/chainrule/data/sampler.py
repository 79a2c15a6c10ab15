"""DistributedSampler: each rank's own shard of a dataset, reshuffled every epoch.

Every rank draws the same permutation (from ``seed + epoch``), makes its
length a multiple of the number of ranks (repeating its first indices, or
dropping its last ones with ``drop_last``), and keeps every
``num_replicas``-th index starting at its rank. The shards are disjoint,
equal in size, and cover the dataset once per epoch (plus the padding), as
PyTorch's sampler does. Call ``set_epoch`` before each epoch, or every epoch
repeats the first one's order.

>>> import chainrule as cr
>>> s = cr.data.DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
>>> list(s), len(s)
([1, 4, 7, 0], 4)
>>> cr.data.DistributedSampler(range(10), 3, 1, shuffle=False, drop_last=True).indices()
[1, 4, 7]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from chainrule.backend import xp

__all__ = ["DistributedSampler"]


def _count(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)) or value < low:
        raise ValueError(f"DistributedSampler: {name} must be an integer >= {low}, "
                         f"got {value!r}")
    return int(value)


class DistributedSampler:
    """Indices of this rank's shard of ``dataset``; pass it as a DataLoader's ``sampler``.

    ``num_replicas`` and ``rank`` default to the MPI world's
    (``chainrule.distributed``). With ``shuffle`` the order is a permutation
    drawn from ``seed + epoch``, the same on every rank.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from chainrule import distributed

            num_replicas = distributed.world_size() if num_replicas is None else num_replicas
            rank = distributed.rank() if rank is None else rank
        self.num_replicas = _count(num_replicas, "num_replicas", 1)
        self.rank = _count(rank, "rank", 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in 0..{self.num_replicas - 1}, "
                             f"got {rank}")
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.seed = _count(seed, "seed", 0)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        n, p = len(dataset), self.num_replicas
        if drop_last and n % p:
            self.num_samples = (n - p) // p + (1 if (n - p) % p else 0) if n >= p else 0
        else:
            self.num_samples = math.ceil(n / p)
        self.total_size = self.num_samples * p

    def set_epoch(self, epoch: int) -> None:
        """Pick the epoch whose order the next iteration yields (its seed is seed + epoch)."""
        self.epoch = _count(epoch, "epoch", 0)

    def indices(self) -> list[int]:
        """This rank's indices for the current epoch."""
        n = len(self.dataset)
        if self.shuffle:
            order = xp.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = xp.arange(n)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n and n:
            order = xp.resize(order, self.total_size)  # repeats from the start, as often as needed
        return order[self.rank:self.total_size:self.num_replicas].tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices())

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (f"DistributedSampler({len(self.dataset)} examples, rank {self.rank} of "
                f"{self.num_replicas}, {self.num_samples} each, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
