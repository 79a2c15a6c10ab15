"""Collectives on arrays and models: all-reduce in buckets, broadcast, model checks.

Arrays travel as raw buffers (mpi4py's upper-case calls), never pickled.
Many small arrays are packed into contiguous buckets of a few MB, one
``Allreduce`` per bucket: each collective costs a latency (alpha) however
small it is, so fewer, larger messages are faster (see docs/distributed.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from chainrule.backend import xp
from chainrule.distributed.runtime import comm, mpi, wait
from chainrule.tensor import Tensor, changing

__all__ = ["all_reduce", "broadcast_parameters", "check_same_model", "plan_buckets",
           "BUCKET_BYTES", "OPS"]

BUCKET_BYTES = 4 << 20  # 4 MiB: large enough to amortize latency, small enough to overlap
OPS = ("sum", "mean", "max", "min")


def plan_buckets(arrays: Sequence[Any], bucket_bytes: int = BUCKET_BYTES) -> list[list[int]]:
    """Indices of ``arrays`` grouped into buckets, in order: one dtype per bucket, at most
    ``bucket_bytes`` each unless a single array is larger. Empty arrays are left out.

    The plan depends only on the shapes and dtypes, so every rank makes the same one.
    """
    if not (isinstance(bucket_bytes, int) and bucket_bytes > 0):
        raise ValueError(f"bucket_bytes must be a positive integer, got {bucket_bytes!r}")
    buckets: list[list[int]] = []
    current: list[int] = []
    size, dtype = 0, None
    for i, a in enumerate(arrays):
        if a.size == 0:
            continue
        if current and (a.dtype != dtype or size + a.nbytes > bucket_bytes):
            buckets.append(current)
            current, size = [], 0
        current.append(i)
        size += a.nbytes
        dtype = a.dtype
    if current:
        buckets.append(current)
    return buckets


def _mpi_op(op: str) -> Any:
    MPI = mpi()
    table = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}
    if op not in table:
        raise ValueError(f"all_reduce: op must be one of {', '.join(OPS)}, got {op!r}")
    return table[op]


def _arrays(tensors: Iterable[Any], where: str) -> list[Any]:
    out = []
    for i, t in enumerate(tensors):
        a = t.data if isinstance(t, Tensor) else t
        if not isinstance(a, xp.ndarray):
            raise TypeError(f"{where}: item {i} is a {type(t).__name__}; expected a Tensor or "
                            f"a NumPy array (reduced in place, so it must own its memory)")
        if not a.flags.writeable and not isinstance(t, Tensor):  # tensors: tensor.changing
            raise ValueError(f"{where}: item {i} is a read-only array; pass a writable copy")
        out.append(a)
    return out


def all_reduce(tensors: Sequence[Any], op: str = "mean",
               bucket_bytes: int = BUCKET_BYTES) -> list[Any]:
    """Reduce every array (or Tensor's array) over all ranks, in place, and return them.

    ``op``: "mean" (the sum divided by the number of ranks), "sum", "max" or
    "min". Arrays may have any shapes and dtypes (one bucket holds one dtype);
    every rank must pass arrays of the same shapes and dtypes in the same
    order. "mean" of integer arrays is refused (it would truncate).
    """
    arrays = _arrays(tensors, "all_reduce")
    mpi_op = _mpi_op(op)
    if op == "mean":
        for i, a in enumerate(arrays):
            if a.dtype.kind not in "fc":
                raise TypeError(f"all_reduce: op='mean' of the {a.dtype} array at position "
                                f"{i} would truncate; use op='sum' and divide yourself")
    c = comm()
    MPI = mpi()
    n = c.Get_size()
    items = list(tensors)
    for bucket in plan_buckets(arrays, bucket_bytes):
        # a lone contiguous array is reduced where it lies; a tensor's array changes only
        # through tensor.changing (its version then tells recorded graphs it changed)
        direct = (len(bucket) == 1 and arrays[bucket[0]].flags.c_contiguous
                  and not isinstance(items[bucket[0]], Tensor))
        buffer = (arrays[bucket[0]].reshape(-1) if direct
                  else xp.concatenate([arrays[i].reshape(-1) for i in bucket]))
        request = c.Iallreduce(MPI.IN_PLACE, buffer, op=mpi_op)
        wait(request, f"all_reduce of {buffer.nbytes} bytes")
        if op == "mean":
            buffer /= n
        if not direct:
            start = 0
            for i in bucket:
                size = arrays[i].size
                part = buffer[start:start + size].reshape(arrays[i].shape)
                if isinstance(items[i], Tensor):
                    with changing(items[i]) as a:
                        a[...] = part
                else:
                    arrays[i][...] = part
                start += size
    return items


def _signature(model: Any) -> list[str]:
    return [f"{name}: {tuple(t.shape)} {t.dtype}" for name, t in model.state_dict().items()]


def check_same_model(model: Any, where: str = "check_same_model") -> None:
    """Raise the same ValueError on every rank unless every rank's model has the same
    parameter and buffer names, shapes and dtypes (compared by a 32-byte digest)."""
    c = comm()
    lines = _signature(model)
    digest = xp.frombuffer(hashlib.sha256("\n".join(lines).encode()).digest(), dtype=xp.uint8)
    every = xp.empty((c.Get_size(), digest.size), dtype=xp.uint8)
    request = c.Iallgather(digest, every)
    wait(request, f"{where} (comparing models)")
    if (every == every[0]).all():
        return
    # the rare path: gather the descriptions (short strings) to say what differs
    listings = c.allgather(lines)
    mine, others = listings[0], listings[1:]
    for r, theirs in enumerate(others, start=1):
        if theirs != mine:
            extra = sorted(set(theirs) - set(mine))[:3]
            missing = sorted(set(mine) - set(theirs))[:3]
            raise ValueError(
                f"{where}: the models differ across ranks: rank {r} has "
                f"{extra or 'nothing more'} where rank 0 has {missing or 'nothing more'}; "
                f"build the same model on every rank (same layers, sizes and dtypes)")


def broadcast_parameters(model: Any, root: int = 0, bucket_bytes: int = BUCKET_BYTES) -> None:
    """Copy ``root``'s parameters and buffers into every rank's model, in place.

    The models are first checked to match (names, shapes, dtypes); a mismatch
    raises the same ValueError on every rank instead of mixing up arrays.
    """
    c = comm()
    if not (isinstance(root, int) and 0 <= root < c.Get_size()):
        raise ValueError(f"broadcast_parameters: root must be a rank in 0..{c.Get_size() - 1}, "
                         f"got {root!r}")
    check_same_model(model, "broadcast_parameters")
    tensors = list(model.state_dict(keep_vars=True).values())  # the tensors themselves
    arrays = [t.data for t in tensors]
    for bucket in plan_buckets(arrays, bucket_bytes):
        # a fresh buffer: parameters that require grad are read-only and change
        # only through tensor.changing, which keeps recorded graphs honest
        buffer = xp.concatenate([arrays[i].reshape(-1) for i in bucket])
        request = c.Ibcast(buffer, root=root)
        wait(request, f"broadcast_parameters of {buffer.nbytes} bytes")
        start = 0
        for i in bucket:
            size = arrays[i].size
            with changing(tensors[i]) as a:
                a[...] = buffer[start:start + size].reshape(a.shape)
            start += size
