"""Datasets that need no download: bundled digits and generated toy problems.

Inputs are float32 (the layers' default dtype), class labels int64, and
every generator takes a ``seed``, so a dataset is the same on every run.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
from typing import Any, NamedTuple

from chainrule.backend import xp
from chainrule.data.dataset import TensorDataset

__all__ = ["DataSplit", "load_digits", "make_spiral", "make_moons", "sine_sequences"]

DIGITS_LAYOUTS = {"flat": (64,), "image": (1, 8, 8), "rows": (8, 8)}


class DataSplit(NamedTuple):
    """A training set and a test set."""

    train: TensorDataset
    test: TensorDataset


@functools.lru_cache(maxsize=1)
def _digits_table() -> Any:
    """The 1,797 x 65 table (64 pixels, then the label) that scikit-learn ships.

    The file is read straight from the installed package, without importing
    scikit-learn (which takes seconds), so nothing is downloaded and the
    split below does not depend on scikit-learn's version.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("load_digits reads the digits that scikit-learn ships: "
                          "pip install 'chainrule[data]'")
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_digits: scikit-learn is installed but {path} is missing")
    table = xp.loadtxt(path, delimiter=",", dtype=xp.float64)
    table.flags.writeable = False  # cached: every caller gets copies
    return table


def _stratified_split(y: Any, test_size: float, seed: int) -> tuple[Any, Any]:
    """Train and test indices with each class split in the same proportion.

    The test set has ceil(test_size * n) examples (as scikit-learn's split);
    each class gives the floor of its share, and the examples still missing
    come from the classes with the largest remainders.
    """
    rng = xp.random.default_rng(seed)
    labels, counts = xp.unique(y, return_counts=True)
    shares = test_size * counts
    n_test = xp.floor(shares).astype(int)
    missing = int(math.ceil(test_size * len(y))) - int(n_test.sum())
    n_test[xp.argsort(-(shares - n_test), kind="stable")[:missing]] += 1
    train, test = [], []
    for label, k in zip(labels, n_test):
        members = rng.permutation(xp.flatnonzero(y == label))
        test.append(members[:k])
        train.append(members[k:])
    return rng.permutation(xp.concatenate(train)), rng.permutation(xp.concatenate(test))


def load_digits(layout: str = "flat", test_size: float = 0.2, seed: int = 0) -> DataSplit:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes).

    Pixels are scaled from 0..16 to [0, 1] float32. ``layout`` shapes each
    image: ``"flat"`` (64,) for an MLP, ``"image"`` (1, 8, 8) for a CNN,
    ``"rows"`` (8, 8) for a recurrent net reading it row by row. The split is
    stratified (each digit keeps its share in both parts) and fixed by
    ``seed``: with the defaults, 1,437 training and 360 test images.

    >>> import chainrule as cr
    >>> train, test = cr.data.load_digits(layout="image")
    >>> len(train), len(test), train.tensors[0].shape[1:], train.tensors[0].dtype
    (1437, 360, (1, 8, 8), dtype('float32'))
    """
    if layout not in DIGITS_LAYOUTS:
        raise ValueError(f"load_digits: layout must be one of {sorted(DIGITS_LAYOUTS)}, "
                         f"got {layout!r}")
    if not 0 < test_size < 1:
        raise ValueError(f"load_digits: test_size must be a fraction in (0, 1), got {test_size}")
    table = _digits_table()
    x = (table[:, :64] / 16.0).astype(xp.float32).reshape((-1, *DIGITS_LAYOUTS[layout]))
    y = table[:, 64].astype(xp.int64)
    train, test = _stratified_split(y, test_size, seed)
    return DataSplit(TensorDataset(x[train], y[train]), TensorDataset(x[test], y[test]))


def make_spiral(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
                seed: int = 0) -> TensorDataset:
    """Interleaved spiral arms, one class per arm: not linearly separable.

    Arm k has points at radius r in [0, 1] and angle 4k + 4r (+ normal noise
    of scale ``noise``), the classic exercise for a network with one hidden layer.

    >>> import chainrule as cr
    >>> x, y = cr.data.make_spiral(n_samples=6, n_classes=3).tensors
    >>> x.shape, y.tolist()
    ((6, 2), [0, 0, 1, 1, 2, 2])
    """
    if n_classes < 1 or n_samples < n_classes:
        raise ValueError(f"make_spiral: need n_classes >= 1 and n_samples >= n_classes, got "
                         f"{n_samples} samples, {n_classes} classes")
    rng = xp.random.default_rng(seed)
    counts = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    xs, ys = [], []
    for k, count in enumerate(counts):
        r = xp.linspace(0.0, 1.0, count)
        theta = xp.linspace(4.0 * k, 4.0 * (k + 1), count) + noise * rng.standard_normal(count)
        xs.append(xp.stack([r * xp.sin(theta), r * xp.cos(theta)], axis=1))
        ys.append(xp.full(count, k, dtype=xp.int64))
    return TensorDataset(xp.concatenate(xs).astype(xp.float32), xp.concatenate(ys))


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> TensorDataset:
    """Two interleaving half circles (as scikit-learn's ``make_moons``), shuffled.

    Class 0 is the upper unit half circle, class 1 the lower one shifted to
    (1, 0.5); ``noise`` is the standard deviation of normal noise on each point.

    >>> import chainrule as cr
    >>> x, y = cr.data.make_moons(n_samples=10).tensors
    >>> x.shape, int(y.sum())
    ((10, 2), 5)
    """
    if n_samples < 2:
        raise ValueError(f"make_moons: need n_samples >= 2, got {n_samples}")
    rng = xp.random.default_rng(seed)
    n_upper = n_samples // 2
    t_upper = xp.linspace(0.0, xp.pi, n_upper)
    t_lower = xp.linspace(0.0, xp.pi, n_samples - n_upper)
    x = xp.concatenate([xp.stack([xp.cos(t_upper), xp.sin(t_upper)], axis=1),
                        xp.stack([1.0 - xp.cos(t_lower), 0.5 - xp.sin(t_lower)], axis=1)])
    y = xp.concatenate([xp.zeros(n_upper, xp.int64), xp.ones(n_samples - n_upper, xp.int64)])
    order = rng.permutation(n_samples)
    x = x[order] + noise * rng.standard_normal((n_samples, 2))
    return TensorDataset(x.astype(xp.float32), y[order])


def sine_sequences(n_sequences: int = 1000, length: int = 20, seed: int = 0,
                   frequency: tuple[float, float] = (0.2, 0.6), noise: float = 0.0
                   ) -> TensorDataset:
    """Windows of sine waves, each paired with the value that comes next.

    Sequence i is ``sin(w_i * t + phase_i)`` at t = 0, 1, ..., ``length``,
    with w_i drawn from ``frequency`` (radians per step) and a random phase;
    the input is the first ``length`` values, shape (length, 1), the target
    the last one, shape (1,). ``noise`` adds normal noise to the inputs only.

    >>> import chainrule as cr
    >>> x, y = cr.data.sine_sequences(n_sequences=4, length=5).tensors
    >>> x.shape, y.shape
    ((4, 5, 1), (4, 1))
    """
    if length < 1 or n_sequences < 1:
        raise ValueError(f"sine_sequences: need length >= 1 and n_sequences >= 1, got "
                         f"{length} and {n_sequences}")
    rng = xp.random.default_rng(seed)
    omega = rng.uniform(frequency[0], frequency[1], size=(n_sequences, 1))
    phase = rng.uniform(0.0, 2.0 * xp.pi, size=(n_sequences, 1))
    wave = xp.sin(omega * xp.arange(length + 1) + phase)
    inputs = wave[:, :length] + noise * rng.standard_normal((n_sequences, length))
    return TensorDataset(inputs[:, :, None].astype(xp.float32),
                         wave[:, length:].astype(xp.float32))
