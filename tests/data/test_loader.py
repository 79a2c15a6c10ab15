"""Dataset, TensorDataset, Subset, random_split and DataLoader."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, Dataset, Subset, TensorDataset, random_split


def dataset(n=10):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


class Squares(Dataset):
    """A dataset computed per item, to exercise the generic collate path."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], dtype=np.float64), "y": i % 2}


def test_tensor_dataset_items():
    ds = dataset()
    x, y = ds[3]
    assert isinstance(x, cr.Tensor) and x.tolist() == [6.0, 7.0] and y.item() == 3
    assert len(ds) == 10 and not x.requires_grad
    assert "10 examples" in repr(ds)


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"same first dimension.*\[3, 4\]"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="scalar"):
        TensorDataset(np.float64(3.0))
    with pytest.raises(TypeError, match="must hold numbers"):
        TensorDataset(np.array([object(), object()]))


def test_batches_cover_everything_in_order():
    batches = list(DataLoader(dataset(), batch_size=4))
    assert [x.shape for x, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    assert np.concatenate([y.numpy() for _, y in batches]).tolist() == list(range(10))
    assert all(isinstance(t, cr.Tensor) for batch in batches for t in batch)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_drop_last():
    loader = DataLoader(dataset(), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [y.shape for _, y in loader] == [(4,), (4,)]
    assert len(DataLoader(dataset(), batch_size=4)) == 3


def test_shuffle_is_seeded_and_changes_each_epoch():
    def epochs(seed):
        loader = DataLoader(dataset(), batch_size=3, shuffle=True, seed=seed)
        return [np.concatenate([y.numpy() for _, y in loader]).tolist() for _ in range(2)]

    first, second = epochs(0)
    assert sorted(first) == list(range(10)) and first != list(range(10))
    assert first != second  # a new order every epoch
    assert epochs(0) == [first, second]  # the same run again
    assert epochs(1)[0] != first


def test_shuffle_without_seed_follows_cr_random():
    def order():
        cr.random.seed(5)
        return [y.item() for _, y in DataLoader(dataset(), shuffle=True)]

    assert order() == order()


def test_generic_dataset_uses_collate():
    batches = list(DataLoader(Squares(), batch_size=3))
    assert [b["x"].shape for b in batches] == [(3, 2), (3, 2), (1, 2)]
    assert batches[1]["y"].tolist() == [1, 0, 1]
    custom = list(DataLoader(Squares(), batch_size=7, collate_fn=lambda items: len(items)))
    assert custom == [7]


def test_collate_refuses_ragged_examples():
    class Ragged(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.zeros(i + 1)

    with pytest.raises(ValueError, match="different shapes"):
        next(iter(DataLoader(Ragged(), batch_size=2)))


def test_subset_and_random_split():
    ds = dataset()
    sub = Subset(ds, [7, 2, 5])
    ys = np.concatenate([y.numpy() for _, y in DataLoader(sub, batch_size=2)])
    assert ys.tolist() == [7, 2, 5] and sub[1][1].item() == 2
    train, test = random_split(ds, [0.7, 0.3], seed=0)
    assert len(train) == 7 and len(test) == 3
    assert sorted(train.indices.tolist() + test.indices.tolist()) == list(range(10))
    again, _ = random_split(ds, [7, 3], seed=0)
    assert again.indices.tolist() == train.indices.tolist()
    with pytest.raises(ValueError, match="summing to 10"):
        random_split(ds, [5, 4])
    with pytest.raises(IndexError, match="dataset of 10"):
        Subset(ds, [10])


@pytest.mark.parametrize("kwargs,match", [
    (dict(batch_size=0), "batch_size must be a positive integer"),
    (dict(batch_size=2.5), "batch_size"),
])
def test_bad_loader_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(dataset(), **kwargs)
    with pytest.raises(TypeError, match="expected a dataset"):
        DataLoader(42)
