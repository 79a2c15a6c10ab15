"""DistributedSampler: disjoint equal shards covering the dataset once per epoch."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.data import DataLoader, DistributedSampler, TensorDataset


@given(n=st.integers(0, 60), p=st.integers(1, 7), shuffle=st.booleans(),
       seed=st.integers(0, 2**31), epoch=st.integers(0, 5))
def test_shards_cover_the_dataset_exactly_once_per_epoch(n, p, shuffle, seed, epoch):
    shards = []
    for r in range(p):
        s = DistributedSampler(range(n), p, r, shuffle=shuffle, seed=seed)
        s.set_epoch(epoch)
        shards.append(s.indices())
        assert len(shards[-1]) == len(s) == -(-n // p)  # equal sizes: ceil(n / p)
    counts = Counter(i for shard in shards for i in shard)
    assert set(counts) == set(range(n))
    padding = p * -(-n // p) - n  # PyTorch's: the first indices of the order, repeated
    assert sum(counts.values()) == n + padding
    assert sum(c - 1 for c in counts.values()) == padding
    if padding <= n:  # each index at most twice
        assert max(counts.values(), default=1) <= 2


@given(n=st.integers(0, 60), p=st.integers(1, 7), seed=st.integers(0, 2**31))
def test_drop_last_gives_disjoint_equal_shards(n, p, seed):
    shards = [DistributedSampler(range(n), p, r, seed=seed, drop_last=True).indices()
              for r in range(p)]
    every = [i for shard in shards for i in shard]
    assert len(set(every)) == len(every) == p * (n // p)
    assert {len(shard) for shard in shards} <= {n // p}


def test_the_order_is_pytorchs_layout_and_changes_with_the_epoch():
    # indices[rank:total:replicas] of the padded order, as torch.utils.data.DistributedSampler
    assert DistributedSampler(range(7), 3, 0, shuffle=False).indices() == [0, 3, 6]
    assert DistributedSampler(range(7), 3, 2, shuffle=False).indices() == [2, 5, 1]
    s = DistributedSampler(range(50), 2, 1, seed=3)
    first = s.indices()
    assert s.indices() == first  # the same epoch repeats
    s.set_epoch(1)
    assert s.indices() != first
    other = DistributedSampler(range(50), 2, 0, seed=3)
    other.set_epoch(1)
    assert not set(other.indices()) & set(s.indices())


def test_a_data_loader_batches_this_ranks_shard():
    ds = TensorDataset(np.arange(10.0), np.arange(10))
    sampler = DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    batches = [y.numpy().tolist() for _, y in DataLoader(ds, batch_size=2, sampler=sampler)]
    assert batches == [[1, 3], [5, 7], [9]]
    assert len(DataLoader(ds, batch_size=2, sampler=sampler)) == 3
    with pytest.raises(ValueError, match="either shuffle=True or a sampler"):
        DataLoader(ds, batch_size=2, sampler=sampler, shuffle=True)


@pytest.mark.parametrize("kwargs, message", [
    ({"num_replicas": 0, "rank": 0}, "num_replicas must be an integer >= 1"),
    ({"num_replicas": 2, "rank": 2}, r"rank must be in 0..1, got 2"),
    ({"num_replicas": 2, "rank": -1}, "rank must be an integer >= 0"),
    ({"num_replicas": 2.0, "rank": 0}, "num_replicas must be an integer"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DistributedSampler(range(5), **kwargs)


def test_it_is_exported_from_chainrule_data():
    assert cr.data.DistributedSampler is DistributedSampler


@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_shards_equal_pytorchs(drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for n in [1, 2, 5, 10, 11, 12, 13]:
        for p in [1, 2, 3, 4, 6]:
            for r in range(p):
                theirs = torch_data.DistributedSampler(range(n), num_replicas=p, rank=r,
                                                       shuffle=False, drop_last=drop_last)
                ours = DistributedSampler(range(n), p, r, shuffle=False, drop_last=drop_last)
                assert ours.indices() == list(theirs), (n, p, r)
                assert len(ours) == len(theirs)
