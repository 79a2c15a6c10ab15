"""Datasets and mini-batches for training.

>>> import chainrule as cr
>>> train, test = cr.data.load_digits()
>>> loader = cr.data.DataLoader(train, batch_size=64, shuffle=True, seed=0)
>>> x, y = next(iter(loader))
>>> x.shape, y.shape, x.dtype, y.dtype
((64, 64), (64,), dtype('float32'), dtype('int64'))
"""

from chainrule.data.dataset import Dataset, Subset, TensorDataset, random_split
from chainrule.data.datasets import (
    DataSplit,
    load_digits,
    make_moons,
    make_spiral,
    sine_sequences,
)
from chainrule.data.loader import DataLoader, default_collate
from chainrule.data.sampler import DistributedSampler

__all__ = [
    "Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "default_collate",
    "DistributedSampler",
    "DataSplit", "load_digits", "make_spiral", "make_moons", "sine_sequences",
]
