"""DistributedDataParallel: every rank trains a replica; gradients are averaged.

Each rank runs the model on its own share of the batch; after ``backward()``
every parameter's ``.grad`` holds the mean over ranks of the ranks' gradients,
so with the per-rank loss a mean over the rank's examples (equal shares), one
optimizer step is the step one process would take on the whole batch.

Overlap: the parameters are grouped into buckets of a few MB, last layers
first (the backward sweep reaches them first). The backward sweep visits
nodes newest first, so a parameter's gradient is final once the sweep has
passed the oldest node that used it; from that point its bucket's all-reduce
is started with MPI's non-blocking ``Iallreduce`` while the sweep carries on
through earlier layers. Buckets start in a fixed order (MPI requires every
rank to issue collectives in the same order), and ``end`` waits for them
and writes the averages in place of the local gradients.
"""

from __future__ import annotations

from typing import Any

from chainrule import reverse
from chainrule.backend import xp
from chainrule.core.config import state
from chainrule.distributed.collectives import (
    BUCKET_BYTES,
    broadcast_parameters,
    check_same_model,
    plan_buckets,
)
from chainrule.distributed.runtime import comm, mpi, wait
from chainrule.nn.module import Module

__all__ = ["DistributedDataParallel"]

_NEVER = float("inf")  # the readiness of a bucket none of whose parameters were used


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over MPI.

    At construction the replicas are checked to match (names, shapes, dtypes;
    a mismatch raises the same error on every rank) and, with ``broadcast``,
    rank ``root``'s parameters and buffers are copied to every rank. Each
    ``forward`` in grad mode arms the next ``backward()`` that reaches the
    parameters to average their gradients; ``overlap=False`` does all the
    communication after the sweep instead of during it.

    A parameter that no rank used gets a zero gradient (not None), as every
    rank must take part in every bucket's all-reduce. ``backward`` with
    ``create_graph=True`` is refused.
    """

    def __init__(self, module: Module, bucket_bytes: int = BUCKET_BYTES, overlap: bool = True,
                 broadcast: bool = True, root: int = 0) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        if broadcast:
            broadcast_parameters(module, root)
        else:
            check_same_model(module, "DistributedDataParallel")
        unique: dict[int, Any] = {}
        for p in module.parameters():
            if p.requires_grad:
                unique.setdefault(id(p), p)
        self._params = list(unique.values())
        self._bucket_bytes = bucket_bytes
        # a first guess (output layers are usually registered last, and the sweep reaches
        # them first), replaced at the first backward by the order the sweep really takes
        self._plan(self._params[::-1])
        self._ordered = False
        self.overlap = bool(overlap)
        self.on_node = None
        self._ready: list[float] = []
        self._next = 0
        self._pending: dict[int, tuple[Any, Any]] = {}
        self.overlapped = 0  # buckets the last backward started during its sweep

    def _plan(self, order: list[Any]) -> None:
        plan = plan_buckets([p.data for p in order], self._bucket_bytes)
        self._buckets = [[order[i] for i in b] for b in plan]
        self._where = {id(p): k for k, b in enumerate(self._buckets) for p in b}

    def _reorder(self, first: dict[int, int]) -> None:
        """Buckets in the order this sweep finishes the gradients: the last parameter used
        first. Rank 0's order is broadcast, so every rank makes the same buckets."""
        rank_of = sorted(range(len(self._params)),
                         key=lambda i: -first.get(id(self._params[i]), -1))
        order = xp.array(rank_of, dtype=xp.int64)
        request = comm().Ibcast(order, root=0)
        wait(request, "DistributedDataParallel: agreeing on the gradient buckets")
        self._plan([self._params[i] for i in order.tolist()])
        self._ordered = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if state.grad_enabled and self._buckets and self not in reverse.sweep_observers:
            reverse.sweep_observers.append(self)
        return self.module(*args, **kwargs)

    # ----- the sweep observer (see chainrule.reverse.sweep_observers) -----
    def begin(self, root: Any, create_graph: bool) -> bool:
        first = self._first_uses(root)
        if not first:
            return False  # this backward does not reach the model: stay armed
        if create_graph:
            reverse.sweep_observers.remove(self)
            raise RuntimeError("DistributedDataParallel: backward(create_graph=True) is not "
                               "supported; average higher-order gradients with all_reduce")
        if not self._ordered:
            self._reorder(first)
        self._ready = [min((first.get(id(p), _NEVER) for p in b), default=_NEVER)
                       for b in self._buckets]
        self._next = 0
        self._pending = {}
        self.on_node = self._on_node if self.overlap else None
        return True

    def _first_uses(self, root: Any) -> dict[int, int]:
        """For each parameter reached from ``root``, the creation number of the oldest node
        that uses it: its gradient is complete once the sweep has passed that node."""
        where = self._where
        first: dict[int, int] = {}
        seen = {root}
        stack = [root]
        while stack:
            node = stack.pop()
            inputs = node.inputs
            if inputs is None:
                continue  # freed: the sweep itself raises the clear error
            for i in node.needs:
                x = inputs[i]
                xnode = x._node
                if xnode is None:
                    key = id(x)
                    if key in where and first.get(key, _NEVER) > node.seq:
                        first[key] = node.seq
                elif xnode not in seen:
                    seen.add(xnode)
                    stack.append(xnode)
        return first

    def _on_node(self, node: Any, found: dict) -> None:
        k = self._next
        ready = self._ready
        while k < len(ready) and node.seq < ready[k]:
            self._start(k, found)
            k += 1
        self._next = k

    def _start(self, k: int, found: dict) -> None:
        bucket = self._buckets[k]
        buffer = xp.empty(sum(p.data.size for p in bucket), dtype=bucket[0].data.dtype)
        start = 0
        for p in bucket:
            n = p.data.size
            entry = found.get(id(p))
            if entry is None:
                buffer[start:start + n] = 0
            else:
                buffer[start:start + n] = xp.reshape(entry[1], -1)
            start += n
        self._pending[k] = (buffer, comm().Iallreduce(mpi().IN_PLACE, buffer, op=mpi().SUM))

    def end(self, found: dict) -> None:
        reverse.sweep_observers.remove(self)
        self.on_node = None
        self.overlapped = self._next
        for k in range(self._next, len(self._buckets)):
            self._start(k, found)
        buffers = [self._pending[k][0] for k in range(len(self._buckets))]
        wait([self._pending[k][1] for k in range(len(self._buckets))],
             "DistributedDataParallel: the all-reduce of the gradients")
        # A NaN in a sum means some rank sent one: if it came from the sweep's first,
        # unmasked pass (replaced since by the masked pass), that bucket is sent again.
        # Every rank sees the same sums, so every rank makes the same decision.
        for k, buffer in enumerate(buffers):
            if xp.isnan(buffer).any():
                self._start(k, found)
                buffers[k], request = self._pending[k]
                wait(request, "DistributedDataParallel: the all-reduce of the gradients")
        self._pending = {}
        n = comm().Get_size()
        for bucket, buffer in zip(self._buckets, buffers):
            if n > 1:
                buffer /= n
            start = 0
            for p in bucket:
                size = p.data.size
                found[id(p)] = (p, buffer[start:start + size].reshape(p.data.shape))
                start += size
