"""Data-parallel training over MPI (mpi4py; ``pip install 'chainrule[mpi]'``).

Run the same script on every rank with ``mpirun -n 4 python train.py``::

    import chainrule.distributed as dist
    dist.init()
    model = dist.DistributedDataParallel(make_model())   # same weights everywhere
    sampler = cr.data.DistributedSampler(train, seed=0)    # this rank's shard
    ...
    loss.backward()        # gradients averaged over ranks, overlapped with the sweep
    optimizer.step()

mpi4py is imported on first use, so importing this package needs NumPy only;
see docs/distributed.md for running on several machines and a cost model.
"""

from chainrule.distributed.batch import (
    GlobalBatch,
    SyncBatchNorm,
    convert_sync_batchnorm,
    sum_over_ranks,
)
from chainrule.distributed.collectives import (
    BUCKET_BYTES,
    all_reduce,
    broadcast_parameters,
    check_same_model,
)
from chainrule.distributed.ddp import DistributedDataParallel
from chainrule.distributed.runtime import (
    abort,
    barrier,
    init,
    is_initialized,
    rank,
    world_size,
)

__all__ = [
    "init", "is_initialized", "rank", "world_size", "barrier", "abort", "all_reduce",
    "broadcast_parameters", "check_same_model", "DistributedDataParallel", "BUCKET_BYTES",
    "GlobalBatch", "SyncBatchNorm", "convert_sync_batchnorm", "sum_over_ranks",
]
