"""Programs the distributed tests run under ``mpirun`` (one subcommand each).

Imported by the tests too (for the one-process reference), so nothing runs on import.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import chainrule as cr
from chainrule import nn

N, FEATURES, LOCAL_BATCH, STEPS = 90, 5, 6, 20


def data() -> cr.data.TensorDataset:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(N, FEATURES))
    x[::9, 0] = 0.0  # exact zeros: sqrt's infinite slope there (see model)
    y = np.sin(x.sum(axis=1, keepdims=True))
    return cr.data.TensorDataset(x, y)


class Net(nn.Module):
    """Three linear layers, and twice where(z > 0, sqrt(z), ...) at exact zeros: the
    plain backward sweep makes 0 * inf = NaN there, the masked sweep 0. The ``gate``
    (one element held at 0) is used last, so its bucket's all-reduce starts during
    the first, unmasked sweep and must be sent again."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.linspace(0.5, 1.5, FEATURES))
        self.body = nn.Sequential(nn.Linear(FEATURES, 16), nn.Tanh(), nn.Linear(16, 16),
                                  nn.Tanh(), nn.Linear(16, 1))
        self.gate = nn.Parameter(np.array([0.0, 0.25]))

    def forward(self, x):
        z = x * self.scale
        z = cr.where(z > 0, cr.sqrt(z), z)
        g = self.gate
        return self.body(z) * (1 + cr.where(g > 0, cr.sqrt(g), 0.0).sum())


def train(rank: int, size: int, ddp_options: dict | None = None) -> tuple[nn.Module, dict]:
    """STEPS steps of Adam on this rank's shard (global batch LOCAL_BATCH * size).

    With ``ddp_options`` None: one process, no MPI, batch LOCAL_BATCH * size."""
    cr.random.seed(rank * 1000 + 3)  # different initial weights on each rank:
    model = Net().double()          # DistributedDataParallel must broadcast rank 0's
    if ddp_options is None:
        cr.random.seed(3)
        model = Net().double()
        net = model
    else:
        from chainrule.distributed import DistributedDataParallel
        net = DistributedDataParallel(model, **ddp_options)
    dataset = data()
    sampler = cr.data.DistributedSampler(dataset, size if ddp_options is not None else 1,
                                         rank if ddp_options is not None else 0, seed=5)
    batch = LOCAL_BATCH if ddp_options is not None else LOCAL_BATCH * size
    loader = cr.data.DataLoader(dataset, batch_size=batch, sampler=sampler)
    optimizer = cr.optim.Adam(model.parameters(), lr=1e-2)
    steps, epoch, early = 0, 0, 0
    while steps < STEPS:
        sampler.set_epoch(epoch)
        for x, y in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(net(x), y)
            loss.backward()
            if ddp_options is not None:
                early += net.overlapped
            optimizer.step()
            steps += 1
            if steps == STEPS:
                break
        epoch += 1
    return model, {"early": early}


def conv_net() -> nn.Module:
    """Convolution, batch norm and dropout: layers that see the whole batch at once."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(16, 3)).double()


def train_conv(rank: int, size: int, distributed: bool) -> nn.Module:
    """STEPS steps of SGD with momentum; the global batch is 12 images of 4x4, and with
    ``distributed`` this rank takes its rows of each through GlobalBatch."""
    rng = np.random.default_rng(11)
    images, labels = rng.normal(size=(N, 1, 4, 4)), rng.integers(0, 3, N)
    cr.random.seed(rank * 1000 + 2 if distributed else 2)
    model = conv_net()
    cr.random.seed(2)  # the stream dropout draws from: the same on every rank
    net = model
    if distributed:
        from chainrule.distributed import DistributedDataParallel, GlobalBatch
        shard = GlobalBatch(model)
        net = DistributedDataParallel(model, bucket_bytes=256)
    loader = cr.data.DataLoader(cr.data.TensorDataset(images, labels), batch_size=12,
                                shuffle=True, seed=4)
    optimizer = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    steps = 0
    while steps < STEPS:
        for x, y in loader:
            optimizer.zero_grad()
            if distributed:
                x, y = shard.split(x, y)
                loss = nn.functional.cross_entropy(net(x), y, reduction="sum") * shard.scale
            else:
                loss = nn.functional.cross_entropy(net(x), y)
            loss.backward()
            optimizer.step()
            steps += 1
            if steps == STEPS:
                break
    return model


def main_train_conv(out: str) -> None:
    import chainrule.distributed as dist

    dist.init()
    model = train_conv(dist.rank(), dist.world_size(), True)
    if dist.rank() == 0:
        np.savez(out, **_params(model))


def _params(model: nn.Module) -> dict:
    return {k: v.numpy() for k, v in model.state_dict().items()}


def main_train(out: str, bucket_bytes: str) -> None:
    """Train twice: with overlap (to OUT-overlap.npz) and without (OUT-after.npz)."""
    import chainrule.distributed as dist

    dist.init()
    for overlap in ("overlap", "after"):
        options = {"overlap": overlap == "overlap", "bucket_bytes": int(bucket_bytes)}
        model, info = train(dist.rank(), dist.world_size(), options)
        if dist.rank() == 0:
            np.savez(f"{out}-{overlap}.npz", **_params(model))
            print(f"{overlap}: early={info['early']}")


def main_all_reduce() -> None:
    import chainrule.distributed as dist

    dist.init()
    r, p = dist.rank(), dist.world_size()
    total = p * (p + 1) // 2  # the sum of (rank + 1) over ranks
    shapes = [(0,), (1,), (7,), (3, 0), (13, 17), (), (1001,), (2, 3)]
    dtypes = [np.float64, np.float32, np.float64, np.float32, np.float64, np.float32,
              np.complex128, np.float64]
    base = [np.arange(int(np.prod(s)), dtype=d).reshape(s) + 1 for s, d in zip(shapes, dtypes)]
    for op, bucket_bytes in (("mean", 64), ("sum", 64), ("mean", 1 << 20), ("sum", 1)):
        arrays = [b * (r + 1) for b in base]
        arrays[2] = np.asfortranarray(np.arange(14.0).reshape(2, 7) * (r + 1))[:, ::2].T
        expected_2 = np.arange(14.0).reshape(2, 7)[:, ::2].T * total
        # tensors that require grad hold read-only arrays: all_reduce changes them through
        # tensor.changing, as an optimizer step does
        tensors = [cr.tensor(a, requires_grad=a.dtype.kind == "f" and i % 4 == 1) if i % 2
                   else a for i, a in enumerate(arrays)]
        back = dist.all_reduce(tensors, op=op, bucket_bytes=bucket_bytes)
        assert back[0] is tensors[0]
        for i, (t, b) in enumerate(zip(tensors, base)):
            got = t.data if isinstance(t, cr.Tensor) else t
            want = expected_2 if i == 2 else b * total
            want = want / p if op == "mean" else want
            assert got.dtype == b.dtype and got.shape == want.shape, (i, got.dtype, got.shape)
            np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=f"{op} item {i}")
    ints = [np.arange(5, dtype=np.int64) * (r + 1), np.full(3, r, dtype=np.int32)]
    dist.all_reduce(ints, op="sum")
    assert ints[0].tolist() == [k * total for k in range(5)]
    assert ints[1].tolist() == [p * (p - 1) // 2] * 3
    dist.all_reduce(ints, op="max")
    assert ints[0].tolist() == [k * total for k in range(5)]
    dist.all_reduce([], op="mean")  # nothing to do, on every rank
    try:
        dist.all_reduce([np.arange(3)], op="mean")
    except TypeError as err:
        assert "would truncate" in str(err)
    else:
        raise AssertionError("mean of integers was not refused")
    print(f"rank {r}: all_reduce ok")
    main_mismatch()


def main_fail() -> None:
    import chainrule.distributed as dist

    dist.init(timeout=0)  # no watchdog: the failing rank's abort alone must stop the run
    if dist.rank() == 1:
        time.sleep(0.5)
        raise ValueError("a deliberate failure on rank 1")
    dist.all_reduce([np.ones(3)])  # rank 0 waits here for a partner that never comes
    print("rank 0 was not stopped")


def main_hang() -> None:
    import chainrule.distributed as dist

    dist.init(timeout=2)
    if dist.rank() == 1:
        time.sleep(60)  # stuck without raising: only the watchdog can end the run
    dist.barrier()
    print(f"rank {dist.rank()} passed the barrier")


def main_mismatch() -> None:
    import chainrule.distributed as dist

    dist.init()
    cr.random.seed(0)
    model = nn.Sequential(nn.Linear(4, 3 if dist.rank() == 0 else 2))
    try:
        dist.DistributedDataParallel(model)
    except ValueError as err:
        print(f"rank {dist.rank()} refused: {err}")
        sys.stdout.flush()


if __name__ == "__main__":
    {"train": main_train, "train_conv": main_train_conv, "all_reduce": main_all_reduce,
     "fail": main_fail, "hang": main_hang, "mismatch": main_mismatch}[sys.argv[1]](*sys.argv[2:])
