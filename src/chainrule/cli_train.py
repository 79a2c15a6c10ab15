"""``chainrule train``: train a small network on bundled data, end to end.

    chainrule train mlp|cnn|lstm|rnn|shallow [--epochs N --lr X --seed S --jit
                                              --save model.safetensors --plot curves.png]

Each model is trained with Adam and a cosine learning-rate schedule (the
digit classifiers with label smoothing 0.1) on data that needs no download,
with a tqdm progress bar showing the loss and the accuracy; at the end it
prints the test accuracy (test MSE for the sine regression), and can save
the weights (safetensors) and draw the loss and accuracy curves (a PNG,
matplotlib's Agg backend: no display needed). ``--jit`` runs each training
step as a program compiled by ``cr.jit`` (the same losses, faster steps).

=========  ==========================================  ==============================
model      network                                     data
=========  ==========================================  ==============================
shallow    2-100-3, one ReLU hidden layer              spiral, 3 classes (generated)
mlp        64-256-10, ReLU hidden layer, dropout 0.3   8x8 digits, flattened
cnn        2 x (conv, batch norm, ReLU, pool), linear  8x8 digits, as images
lstm       LSTM(8, 64) reading rows, linear head       8x8 digits, row by row
rnn        RNN(1, 32) over the window, linear head     sine windows -> next value
=========  ==========================================  ==============================
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import functools
import importlib.util
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import chainrule as cr
from chainrule import nn
from chainrule.backend import xp
from chainrule.cli_explain import seed_int
from chainrule.data import DataLoader, DataSplit, TensorDataset

F = nn.functional


class LastStep(nn.Module):
    """A recurrent layer read to the end, then a linear layer on its last output."""

    def __init__(self, recurrent: nn.Module, out_features: int) -> None:
        super().__init__()
        self.recurrent = recurrent
        self.head = nn.Linear(recurrent.hidden_size, out_features)

    def forward(self, x: Any) -> Any:
        out, _ = self.recurrent(x)  # (batch, steps, hidden) with batch_first
        return self.head(out[:, -1])


@dataclass(frozen=True)
class Task:
    """One ``chainrule train`` model: its data, network and training defaults."""

    help: str
    data: Callable[[], DataSplit]
    model: Callable[[], nn.Module]
    epochs: int
    lr: float
    batch_size: int = 32
    regression: bool = False  # mse and no accuracy, instead of cross-entropy
    label_smoothing: float = 0.0  # cross-entropy against (1 - e) one-hot + e uniform


def _spiral() -> DataSplit:
    # the test set is a second draw (other noise), not a subset of the training points
    return DataSplit(cr.data.make_spiral(300, seed=0), cr.data.make_spiral(300, seed=1))


def _sine() -> DataSplit:
    return DataSplit(cr.data.sine_sequences(1000, 20, seed=0),
                     cr.data.sine_sequences(200, 20, seed=1))


def _cnn() -> nn.Module:
    # batch normalization after each convolution: without it the same network
    # tops out near 97.5% on these small images, with it near 99%
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 2 * 2, 10))


TASKS: dict[str, Task] = {
    "shallow": Task("one hidden layer on a 3-arm spiral", _spiral,
                    lambda: nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3)),
                    epochs=100, lr=1e-2),
    "mlp": Task("multilayer perceptron on 8x8 digits", lambda: cr.data.load_digits("flat"),
                lambda: nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.3),
                                      nn.Linear(256, 10)),
                epochs=40, lr=3e-3, label_smoothing=0.1),
    "cnn": Task("convolutional network on 8x8 digits", lambda: cr.data.load_digits("image"),
                _cnn, epochs=25, lr=3e-3, label_smoothing=0.1),
    "lstm": Task("LSTM reading each digit row by row", lambda: cr.data.load_digits("rows"),
                 lambda: LastStep(nn.LSTM(8, 64, batch_first=True), 10), epochs=30, lr=3e-3,
                 label_smoothing=0.1),
    "rnn": Task("RNN predicting the next value of a sine wave", _sine,
                lambda: LastStep(nn.RNN(1, 32, batch_first=True), 1), epochs=30, lr=3e-3,
                regression=True),
}


@dataclass
class History:
    """Per-epoch figures: training loss and metric (running, over the epoch), test ones."""

    metric: str
    train_loss: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_metric: list[float] = field(default_factory=list)


def _loss_and_hits(task: Task, out: Any, y: Any) -> tuple[Any, float]:
    if task.regression:
        loss = F.mse_loss(out, y)
        return loss, float(loss) * len(y)  # "hits" = summed squared error
    loss = F.cross_entropy(out, y, label_smoothing=task.label_smoothing)
    return loss, float((out.numpy().argmax(axis=1) == y.numpy()).sum())


def evaluate(model: nn.Module, dataset: TensorDataset, task: Task) -> tuple[float, float]:
    """Loss and metric (accuracy, or MSE for regression) on a whole dataset."""
    model.eval()
    with cr.no_grad():
        x, y = dataset.tensors
        loss, hits = _loss_and_hits(task, model(x), y)
    model.train()
    return float(loss), hits / len(y)


class _EpochLines:
    """The progress bar's stand-in when tqdm is not installed: one line per epoch."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.description = enabled, ""

    def set_description(self, text: str) -> None:
        self.description = text

    def update(self, n: int) -> None:
        pass

    def set_postfix(self, values: dict[str, str], refresh: bool = True) -> None:
        if refresh and self.enabled:
            figures = ", ".join(f"{k}={v}" for k, v in values.items())
            print(f"{self.description}: {figures}", file=sys.stderr)

    def close(self) -> None:
        pass


def _progress_bar(total: int, enabled: bool) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # the data extra is not installed: plain lines instead
        return _EpochLines(enabled)
    return tqdm(total=total, disable=not enabled, unit="step", dynamic_ncols=True)


def jit_problem(model: nn.Module) -> str | None:
    """Why ``--jit`` cannot train ``model`` (None: it can): a compiled step is a pure
    function of the parameters and the batch, so no state may change inside it."""
    for name, module in model.named_modules():
        if any(True for _ in module.named_buffers(recurse=False)):
            what = type(module).__name__
            return (f"--jit: the model's {what} ({name}) updates its buffers (running "
                    f"statistics) during each training step, which a compiled step, a "
                    f"pure function of the parameters and the batch, cannot do; train "
                    f"this model without --jit")
    return None


def jitted_step(model: nn.Module, task: Task) -> Callable[..., Any]:
    """``step(params, x, y) -> ((loss, output), grads)``: value_and_grad of the task's
    loss over the model's parameters (a dict of arrays by dotted name), through
    ``nn.functional_call``, compiled once per batch shape by ``cr.jit``. Dropout
    masks are inputs of the compiled program, drawn at each call from the same
    generator as in eager mode."""

    def loss_fn(params: dict, x: Any, y: Any) -> Any:
        out = nn.functional_call(model, params, (x,))
        if task.regression:
            return F.mse_loss(out, y), out
        return _smoothed_cross_entropy(out, y, task.label_smoothing), out

    return cr.jit(cr.value_and_grad(loss_fn, has_aux=True))


def _smoothed_cross_entropy(logits: Any, one_hot: Any, smoothing: float) -> Any:
    """``F.cross_entropy(logits, labels, label_smoothing=e)`` with the labels given as
    one-hot rows: a traced program cannot index by label values, so the gather
    logp[i, label_i] is the row sum of logp * one_hot, which adds only exact zeros.
    The same operations in the same order otherwise: the same numbers, bit for bit
    (tests/test_cli_train_jit.py compares whole runs)."""
    logp = cr.log_softmax(logits, axis=1)
    loss = -cr.mean(cr.sum(logp * one_hot, axis=1))
    if smoothing == 0.0:
        return loss
    rows, classes = logits.shape
    smooth = cr.sum(-cr.sum(logp, axis=1)) / float(rows)
    return loss * (1.0 - smoothing) + smooth * (smoothing / classes)


def _train_step(model: nn.Module, optimizer: Any, task: Task, step: Any, x: Any,
                y: Any) -> tuple[float, float]:
    """One optimizer step on a batch; the batch's loss and hits."""
    optimizer.zero_grad()
    if step is None:
        loss, hits = _loss_and_hits(task, model(x), y)
        loss.backward()
        optimizer.step()
        return float(loss), hits
    params = {name: p.data for name, p in model.named_parameters()}
    target = y.data
    if not task.regression:  # class indices as one-hot rows (see _smoothed_cross_entropy)
        classes = params[list(params)[-1]].shape[0]  # the last layer's bias: one per class
        target = xp.eye(classes, dtype=x.data.dtype)[target]
    (loss, out), grads = step(params, x.data, target)
    for name, p in model.named_parameters():
        p.grad = cr.tensor(grads[name])
    optimizer.step()
    if task.regression:
        return float(loss), float(loss) * len(y)
    return float(loss), float((out.argmax(axis=1) == y.data).sum())


def fit(model: nn.Module, split: DataSplit, task: Task, epochs: int, lr: float, seed: int,
        progress: bool = True, batch_size: int | None = None, jit: bool = False) -> History:
    """Train ``model`` with Adam and cosine annealing; record a History per epoch.

    With ``jit``, each training step runs a compiled program (``jitted_step``).
    """
    loader = DataLoader(split.train, batch_size=batch_size or task.batch_size, shuffle=True,
                        seed=seed)
    optimizer = cr.optim.Adam(model.parameters(), lr=lr)
    schedule = cr.optim.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    history = History("mse" if task.regression else "acc")
    # say which loss the bar shows: with label smoothing its floor is not 0
    loss_key = "smoothed loss" if task.label_smoothing else "loss"
    bar = _progress_bar(epochs * len(loader), progress)
    model.train()
    step = jitted_step(model, task) if jit else None
    for epoch in range(epochs):
        bar.set_description(f"epoch {epoch + 1}/{epochs}")
        seen, loss_sum, hit_sum = 0, 0.0, 0.0
        for x, y in loader:
            loss, hits = _train_step(model, optimizer, task, step, x, y)
            seen += len(y)
            loss_sum += loss * len(y)
            hit_sum += hits
            bar.update(1)
            bar.set_postfix({loss_key: f"{loss_sum / seen:.4f}",
                             history.metric: f"{hit_sum / seen:.4f}"}, refresh=False)
        schedule.step()
        test_loss, test_metric = evaluate(model, split.test, task)
        history.train_loss.append(loss_sum / seen)
        history.train_metric.append(hit_sum / seen)
        history.test_loss.append(test_loss)
        history.test_metric.append(test_metric)
        bar.set_postfix({loss_key: f"{loss_sum / seen:.4f}",
                         history.metric: f"{hit_sum / seen:.4f}",
                         f"test {history.metric}": f"{test_metric:.4f}"})
    bar.close()
    return history


def plot_curves(history: History, path: str, title: str) -> None:
    """Loss and accuracy (or MSE) per epoch, training and test, as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # a bare Figure on the Agg canvas: no pyplot, so no display and no global state
    fig = Figure(figsize=(9, 3.5))
    FigureCanvasAgg(fig)
    epochs = range(1, len(history.train_loss) + 1)
    left, right = fig.subplots(1, 2)
    left.plot(epochs, history.train_loss, label="train")
    left.plot(epochs, history.test_loss, label="test")
    left.set(xlabel="epoch", ylabel="loss", title="loss")
    name = "MSE" if history.metric == "mse" else "accuracy"
    right.plot(epochs, history.train_metric, label="train")
    right.plot(epochs, history.test_metric, label="test")
    right.set(xlabel="epoch", ylabel=name, title=name)
    if history.metric == "mse":  # errors shrink by orders of magnitude
        left.set_yscale("log")
        right.set_yscale("log")
    for ax in (left, right):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
        return value
    return parse


def smoothed_loss_floor(task: Task, classes: int = 10) -> float:
    """The lowest cross-entropy reachable under label smoothing: the entropy of the
    smoothed targets (1 - e + e/K on the true class, e/K on each other one)."""
    e = task.label_smoothing
    if e <= 0:
        return 0.0
    hit, miss = 1 - e + e / classes, e / classes
    return -(hit * math.log(hit) + (classes - 1) * miss * math.log(miss))


def _blas_threads(n: int) -> Any:
    """Limit NumPy's BLAS to ``n`` threads while training, where threadpoolctl is
    installed (it comes with scikit-learn): matrices this small multiply fastest
    on one thread, and extra threads only contend with each other."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def _folder_problem(folder: str) -> str | None:
    """Why no file can be created in ``folder`` (None: one can)."""
    if not os.path.isdir(folder):
        existing = folder
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if os.path.isdir(existing):
            return f"the folder {folder!r} does not exist"
        return f"{existing!r} is a file, not a folder"
    try:  # the only test that also holds for root and read-only file systems
        fd, probe = tempfile.mkstemp(prefix=".chainrule-write-test-", dir=folder)
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        return f"cannot create files in {folder!r}: {err.strerror or type(err).__name__}"
    return None


def output_problem(path: str, option: str) -> str | None:
    """Why ``--save``/``--plot`` could not write ``path`` (None: it could), found before
    training starts, so that a typo in a path never throws a finished run away."""
    if not path:
        return f"{option}: give a file name"
    if option == "--save" and importlib.util.find_spec("safetensors") is None:
        return "--save needs safetensors: pip install 'chainrule[data]'"
    if option == "--plot":
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            return "--plot needs matplotlib: pip install 'chainrule[plot]'"
        kind = os.path.splitext(path)[1][1:].lower()
        formats = FigureCanvasAgg(Figure()).get_supported_filetypes()
        if kind and kind not in formats:
            return (f"--plot {path}: matplotlib cannot write {kind!r} files; end the name "
                    f"with one of {', '.join('.' + k for k in sorted(formats))}")
    if os.path.isdir(path):
        return f"{option} {path}: that is a folder; give a file name"
    problem = _folder_problem(os.path.dirname(os.path.abspath(path)))
    if problem is None and os.path.exists(path) and not os.access(path, os.W_OK):
        problem = f"{path!r} is read-only"
    return None if problem is None else f"{option} {path}: {problem}"


def run(args: argparse.Namespace) -> int:
    for option, path in (("--save", args.save), ("--plot", args.plot)):
        problem = None if path is None else output_problem(path, option)
        if problem is not None:
            print(f"chainrule train: error: {problem}", file=sys.stderr)
            return 2
    with _blas_threads(args.threads):
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    task = TASKS[args.model]
    epochs = task.epochs if args.epochs is None else args.epochs
    lr = task.lr if args.lr is None else args.lr
    split = task.data()
    train, print = fit, builtins.print  # with --distributed, ranks other than 0 are silent
    if getattr(args, "distributed", False):
        from chainrule.distributed import fit as over_mpi

        problem = over_mpi.setup_problem(len(split.train), args.batch_size or task.batch_size)
        if problem is not None:
            builtins.print(f"chainrule train: error: {problem}", file=sys.stderr)
            return 2
        train = functools.partial(over_mpi.fit_distributed, history=History,
                                  progress_bar=_progress_bar, evaluate=evaluate)
        if over_mpi.init().Get_rank() != 0:
            print = _silent
            args.save = args.plot = None
    cr.random.seed(args.seed)  # the initial weights
    model = task.model()
    if getattr(args, "jit", False):
        problem = jit_problem(model)
        if problem is None and getattr(args, "distributed", False):
            problem = "--jit and --distributed cannot be combined yet; choose one"
        if problem is not None:
            builtins.print(f"chainrule train: error: {problem}", file=sys.stderr)
            return 2
        train = functools.partial(train, jit=True)
    n_params = sum(p.size for p in model.parameters())
    print(f"{args.model}: {task.help}; {n_params:,} parameters, {len(split.train)} training "
          f"and {len(split.test)} test examples, {epochs} epoch{'' if epochs == 1 else 's'}, "
          f"Adam lr={lr:g}")
    floor = smoothed_loss_floor(task)
    if floor:
        print(f"loss: cross-entropy with label smoothing {task.label_smoothing:g}, so it "
              f"cannot go below {floor:.4f} (the entropy of the smoothed targets), not 0")
    start = time.perf_counter()
    history = train(model, split, task, epochs, lr, args.seed, progress=not args.quiet,
                    batch_size=args.batch_size)
    seconds = time.perf_counter() - start
    loss, metric = evaluate(model, split.test, task)
    if task.regression:
        print(f"test MSE: {metric:.3g} (loss {loss:.4g}) after {seconds:.1f} s")
    else:
        kind = "smoothed loss" if floor else "loss"
        print(f"test accuracy: {100 * metric:.2f}% ({kind} {loss:.4f}) after {seconds:.1f} s")
    if args.save:
        cr.save(model, args.save, metadata={"model": args.model, "epochs": str(epochs),
                                            "seed": str(args.seed)})
        print(f"saved the weights to {args.save}")
    if args.plot:
        plot_curves(history, args.plot, f"chainrule train {args.model}")
        print(f"saved the curves to {args.plot}")
    return 0


def _silent(*args: Any, **kwargs: Any) -> None:
    """print on ranks other than 0 of a --distributed run"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train", help="train a small network on bundled data",
        description="Train a network on data that needs no download, with a progress bar.")
    parser.add_argument("model", choices=sorted(TASKS),
                        help="; ".join(f"{k}: {t.help}" for k, t in TASKS.items()))
    defaults = ", ".join(f"{k} {t.epochs}" for k, t in TASKS.items())
    parser.add_argument("--epochs", type=_positive(int), default=None,
                        help=f"passes over the training set (default: the model's, the number "
                             f"that reaches its documented accuracy: {defaults})")
    parser.add_argument("--lr", type=_positive(float), default=None,
                        help="Adam's learning rate (default: the model's)")
    parser.add_argument("--batch-size", type=_positive(int), default=None, metavar="B",
                        help="examples per training step (default: the model's, "
                             f"{TASKS['mlp'].batch_size})")
    parser.add_argument("--seed", type=seed_int, default=0,
                        help="seed of the initial weights and the shuffling (default 0)")
    parser.add_argument("--save", metavar="PATH", help="write the weights (safetensors)")
    parser.add_argument("--plot", metavar="PNG", help="draw loss and accuracy curves")
    parser.add_argument("--threads", type=_positive(int), default=1,
                        help="BLAS threads (default 1: small models are fastest on one)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--jit", action="store_true",
                        help="run each training step as a compiled program (cr.jit of "
                             "value_and_grad of the loss over the parameters); the same "
                             "losses as without it (models without buffers: not cnn)")
    parser.add_argument("--distributed", action="store_true",
                        help="data-parallel over MPI: run as mpirun -n P chainrule train ... "
                             "--distributed; each rank takes 1/P of every batch, the result "
                             "is the one-process run's (needs chainrule[mpi])")
    parser.set_defaults(run=run)
