"""Deep-learning benchmarks, side by side with PyTorch in one process, one thread each.

Run with one thread (the script sets it before NumPy and PyTorch load):

    python benchmarks/bench_nn.py [--quick] [--train]

Both libraries get the same model (PyTorch's copy loads chainrule's initial
weights through ``state_dict``; the script checks that the outputs agree),
the same float32 batch and the same optimizer:

(a) MLP training steps per second on digits: the ``chainrule train mlp``
    network (64-256-10, dropout) on a batch of 32 (and of 256), forward,
    cross-entropy, backward and an Adam step;
(b) Conv2d forward plus backward: the second convolution of ``chainrule
    train cnn`` (16->32 channels, 3x3, padding 1, 4x4 images, batch 32),
    and a larger one (3->16 channels on 32x32 images, batch 64);
(c) LSTM forward plus backward: ``chainrule train lstm``'s LSTM(8, 64) over
    8 steps, batch 32, and a larger LSTM(32, 128) over 50 steps;
(d) GRU forward plus backward, the same two shapes.

Ratios are chainrule's time / PyTorch's (below 1: chainrule is faster).
The two libraries are timed in alternation, round after round, and each
keeps its best round, so that a burst of load on a shared machine hits both
(or neither) rather than one; ``--clock cpu`` measures process CPU time
instead of wall time, which also discounts time spent waiting for a core.
``--train`` also runs every ``chainrule train`` model at full size and
prints its training time and test accuracy (or MSE).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule import cli_train, nn  # noqa: E402

torch.set_num_threads(1)


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def best_times(fns: tuple[Callable[[], object], ...], repeat: int, number: int,
               clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Best time of one call of each function, in seconds, after a warm-up call each;
    the functions take turns, round after round, so that noise falls on all alike."""
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            start = clock()
            for _ in range(number):
                fn()
            best[k] = min(best[k], (clock() - start) / number)
    return best


def torch_copy(model: nn.Module, torch_model: torch.nn.Module) -> torch.nn.Module:
    """``torch_model`` with chainrule ``model``'s weights (the names are PyTorch's)."""
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
    torch_model.load_state_dict(state)
    return torch_model


def check_same(ours: object, theirs: torch.Tensor, what: str) -> None:
    a = ours[0] if isinstance(ours, tuple) else ours
    b = theirs[0] if isinstance(theirs, tuple) else theirs
    if not np.allclose(a.numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5):
        raise AssertionError(f"{what}: chainrule and PyTorch disagree; not the same model")


# ----- (a) MLP training step -----

def mlp_step(batch_size: int) -> tuple[Callable[[], object], Callable[[], object]]:
    train, _ = cr.data.load_digits()
    x_np, y_np = (t.numpy()[:batch_size] for t in train.tensors)
    cr.random.seed(0)
    model = cli_train.TASKS["mlp"].model()
    torch_model = torch_copy(model, torch.nn.Sequential(
        torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Dropout(0.3),
        torch.nn.Linear(256, 10)))
    model.eval()
    torch_model.eval()
    check_same(model(cr.tensor(x_np)), torch_model(torch.from_numpy(x_np)), "MLP")
    model.train()
    torch_model.train()
    x, y = cr.tensor(x_np), cr.tensor(y_np)
    tx, ty = torch.from_numpy(x_np), torch.from_numpy(y_np)
    opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    topt = torch.optim.Adam(torch_model.parameters(), lr=1e-3, foreach=False)

    def ours():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
        loss.backward()
        opt.step()
        return loss

    def theirs():
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(torch_model(tx), ty, label_smoothing=0.1)
        loss.backward()
        topt.step()
        return loss
    return ours, theirs


# ----- (b), (c): forward plus backward of one layer -----

def forward_backward(layer: nn.Module, torch_layer: torch.nn.Module, x_np: np.ndarray,
                     what: str) -> tuple[Callable[[], object], Callable[[], object]]:
    torch_copy(layer, torch_layer)
    x = cr.tensor(x_np, requires_grad=True)
    tx = torch.from_numpy(x_np).requires_grad_(True)
    check_same(layer(x), torch_layer(tx), what)

    def first(out):
        return out[0] if isinstance(out, tuple) else out

    def ours():
        layer.zero_grad()
        x.grad = None
        out = first(layer(x))
        (out * out).sum().backward()
        return x.grad

    def theirs():
        torch_layer.zero_grad()
        tx.grad = None
        out = first(torch_layer(tx))
        (out * out).sum().backward()
        return tx.grad
    return ours, theirs


def conv_case(c_in: int, c_out: int, size: int, batch: int):
    rng = np.random.default_rng(0)
    cr.random.seed(0)
    layer = nn.Conv2d(c_in, c_out, 3, padding=1)
    return forward_backward(layer, torch.nn.Conv2d(c_in, c_out, 3, padding=1),
                            rng.standard_normal((batch, c_in, size, size)).astype(np.float32),
                            "Conv2d")


def recurrent_case(kind: str, n_in: int, hidden: int, steps: int, batch: int):
    rng = np.random.default_rng(0)
    cr.random.seed(0)
    layer = getattr(nn, kind)(n_in, hidden, batch_first=True)
    return forward_backward(layer, getattr(torch.nn, kind)(n_in, hidden, batch_first=True),
                            rng.standard_normal((batch, steps, n_in)).astype(np.float32),
                            kind)


def lstm_case(n_in: int, hidden: int, steps: int, batch: int):
    return recurrent_case("LSTM", n_in, hidden, steps, batch)


def gru_case(n_in: int, hidden: int, steps: int, batch: int):
    return recurrent_case("GRU", n_in, hidden, steps, batch)


CLOCK = time.perf_counter


def report(label: str, pair: tuple[Callable[[], object], Callable[[], object]], repeat: int,
           number: int, per_second: bool = False) -> None:
    ours, theirs = best_times(pair, repeat, number, CLOCK)
    if per_second:
        figures = f"chainrule {1 / ours:8.0f} steps/s   torch {1 / theirs:8.0f} steps/s"
    else:
        figures = f"chainrule {ours * 1e3:8.3f} ms   torch {theirs * 1e3:8.3f} ms"
    print(f"  {label:<46} {figures}   time ratio {ours / theirs:5.2f}", flush=True)


def train_all() -> None:
    print("(e) every `chainrule train` model at full size (time excludes loading the data)")
    for kind, task in cli_train.TASKS.items():
        split = task.data()
        cr.random.seed(0)
        model = task.model()
        start = time.perf_counter()
        cli_train.fit(model, split, task, task.epochs, task.lr, seed=0, progress=False)
        seconds = time.perf_counter() - start
        _, metric = cli_train.evaluate(model, split.test, task)
        result = f"test MSE {metric:.2e}" if task.regression else f"test accuracy {metric:.2%}"
        print(f"  {kind:<8} {task.epochs:3d} epochs  {seconds:6.1f} s   {result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--train", action="store_true", help="also time full training runs")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time (default) or process CPU time")
    args = parser.parse_args()
    global CLOCK
    CLOCK = CLOCKS[args.clock]
    repeat = 5 if args.quick else 15

    print("(a) MLP training step on digits (64-256-10, Adam), steps per second")
    report("batch 32", mlp_step(32), repeat, 50, per_second=True)
    report("batch 256", mlp_step(256), repeat, 20, per_second=True)
    print("(b) Conv2d 3x3 padding 1, forward + backward")
    report("16->32 channels, 4x4, batch 32 (train cnn)", conv_case(16, 32, 4, 32), repeat, 20)
    report("3->16 channels, 32x32, batch 64", conv_case(3, 16, 32, 64), repeat, 5)
    print("(c) LSTM, forward + backward")
    report("LSTM(8, 64), 8 steps, batch 32 (train lstm)", lstm_case(8, 64, 8, 32), repeat, 20)
    report("LSTM(32, 128), 50 steps, batch 32", lstm_case(32, 128, 50, 32), repeat, 3)
    print("(d) GRU, forward + backward")
    report("GRU(8, 64), 8 steps, batch 32", gru_case(8, 64, 8, 32), repeat, 20)
    report("GRU(32, 128), 50 steps, batch 32", gru_case(32, 128, 50, 32), repeat, 3)
    if args.train:
        train_all()


if __name__ == "__main__":
    main()
