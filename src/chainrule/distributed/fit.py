"""``chainrule train MODEL --distributed``: the training loop of ``cli_train.fit`` over MPI.

Every rank loads the (small) data set and iterates over the same shuffled
global batches as one process would; ``GlobalBatch`` hands each rank its
rows, ``DistributedDataParallel`` averages the gradients, so the run takes
the steps the one-process run takes (up to rounding). Only rank 0 shows
progress and evaluates; the epoch's training figures are summed over ranks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import chainrule as cr
from chainrule.backend import xp
from chainrule.distributed.batch import GlobalBatch
from chainrule.distributed.collectives import all_reduce
from chainrule.distributed.ddp import DistributedDataParallel
from chainrule.distributed.runtime import init

__all__ = ["setup_problem", "fit_distributed"]


def setup_problem(n_examples: int, batch_size: int) -> str | None:
    """Join the MPI world; say why the run cannot be split over it (None: it can)."""
    try:
        c = init()
    except ImportError as err:
        return f"--distributed: {err}"
    size = c.Get_size()
    last = n_examples % batch_size
    if batch_size < size or 0 < last < size:
        return (f"--distributed: every batch must give each of the {size} ranks an example; "
                f"batches of {batch_size} from {n_examples} examples end with "
                f"{last or batch_size}; choose a --batch-size of at least {size} whose last "
                f"batch is not smaller")
    return None


def fit_distributed(model: Any, split: Any, task: Any, epochs: int, lr: float, seed: int,
                    progress: bool = True, batch_size: int | None = None, *,
                    history: Callable[[str], Any], progress_bar: Callable[[int, bool], Any],
                    evaluate: Callable[[Any, Any, Any], tuple[float, float]]) -> Any:
    """``cli_train.fit`` with each global batch split over the ranks; returns its History
    (test figures on rank 0 only, NaN elsewhere). ``cli_train`` passes its History
    class, progress bar and evaluation (passed, not imported: it imports this module)."""
    F = cr.nn.functional
    rank = init().Get_rank()
    shard = GlobalBatch(model)
    net = DistributedDataParallel(model)
    loader = cr.data.DataLoader(split.train, batch_size=batch_size or task.batch_size,
                                shuffle=True, seed=seed)
    optimizer = cr.optim.Adam(model.parameters(), lr=lr)
    schedule = cr.optim.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    history = history("mse" if task.regression else "acc")
    bar = progress_bar(epochs * len(loader), progress and rank == 0)
    model.train()
    for epoch in range(epochs):
        bar.set_description(f"epoch {epoch + 1}/{epochs}")
        totals = xp.zeros(3)  # summed loss, hits (or squared error), examples: this rank's
        for x, y in loader:
            optimizer.zero_grad()
            x, y = shard.split(x, y)
            out = net(x)
            if task.regression:
                summed = F.mse_loss(out, y, reduction="sum")
                loss = summed * (shard.scale * len(y) / out.size)  # mse means over elements
                hits = float(summed) * len(y) / out.size
            else:
                summed = F.cross_entropy(out, y, reduction="sum",
                                         label_smoothing=task.label_smoothing)
                loss = summed * shard.scale
                hits = float((out.numpy().argmax(axis=1) == y.numpy()).sum())
            loss.backward()
            optimizer.step()
            totals += (hits if task.regression else float(summed), hits, len(y))
            bar.update(1)
            bar.set_postfix({"loss": f"{totals[0] / totals[2]:.4f}",
                             history.metric: f"{totals[1] / totals[2]:.4f}"}, refresh=False)
        schedule.step()
        all_reduce([totals], op="sum")
        test_loss = test_metric = float("nan")
        if rank == 0:
            test_loss, test_metric = evaluate(model, split.test, task)
        history.train_loss.append(totals[0] / totals[2])
        history.train_metric.append(totals[1] / totals[2])
        history.test_loss.append(test_loss)
        history.test_metric.append(test_metric)
        bar.set_postfix({"loss": f"{totals[0] / totals[2]:.4f}",
                         history.metric: f"{totals[1] / totals[2]:.4f}",
                         f"test {history.metric}": f"{test_metric:.4f}"})
    bar.close()
    return history
