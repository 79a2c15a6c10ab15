"""Two whole training workloads, side by side with PyTorch eager in one process.

Run with one thread (``make bench`` runs it after bench_engine.py):

    OMP_NUM_THREADS=1 python benchmarks/bench_steps.py [--quick]

(e) a digits MLP training step: 64-128-128-10, tanh, batch 64, float32,
    log-softmax cross-entropy with integer labels, plain SGD, written with
    tensors and operators (no nn.Module): forward, backward and the update;
(f) a two-layer convolution, forward plus backward: batch 32, 1 -> 8 -> 16
    channels, 3x3 kernels with biases (padding 1), 28x28 float32 images, relu,
    the mean of the squares as the loss.
Inputs are seeded random numbers of the digits' shapes (the timing does not
depend on the values). Figures are the best of interleaved rounds (both
contenders take turns, so they see the same load); ratio is chainrule / torch.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import interleaved_best, row  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - optional peer
    torch = None

MLP_SIZES = (64, 128, 128, 10)
LR = 0.01


def mlp_data(rng: np.random.Generator):
    x = rng.standard_normal((64, MLP_SIZES[0])).astype(np.float32)
    labels = rng.integers(0, MLP_SIZES[-1], 64)
    weights = []
    for fan_in, fan_out in zip(MLP_SIZES, MLP_SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        weights.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return x, labels, weights


def mlp_loss(x, rows, labels, params, tanh, log_softmax):
    w1, b1, w2, b2, w3, b3 = params
    h = tanh(x @ w1 + b1)
    h = tanh(h @ w2 + b2)
    logp = log_softmax(h @ w3 + b3)
    return -logp[rows, labels].mean()


def mlp_step_chainrule(x, labels, weights) -> Callable[[], object]:
    params = [cr.tensor(w, requires_grad=True) for w in weights]
    xt, rows = cr.tensor(x), np.arange(len(labels))

    def step():
        for p in params:
            p.grad = None
        loss = mlp_loss(xt, rows, labels, params, cr.tanh, cr.log_softmax)
        loss.backward()
        with cr.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss
    return step


def _torch_log_softmax(z):
    return torch.log_softmax(z, -1)


def mlp_step_torch(x, labels, weights) -> Callable[[], object]:
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    xt, rows, labels = torch.tensor(x), torch.arange(len(labels)), torch.tensor(labels)

    def step():
        for p in params:
            p.grad = None
        loss = mlp_loss(xt, rows, labels, params, torch.tanh, _torch_log_softmax)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss
    return step


def conv_data(rng: np.random.Generator):
    x = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
    weights = []
    for c_in, c_out in ((1, 8), (8, 16)):
        bound = 1 / np.sqrt(9 * c_in)
        weights.append(rng.uniform(-bound, bound, (c_out, c_in, 3, 3)).astype(np.float32))
        weights.append(rng.uniform(-bound, bound, c_out).astype(np.float32))
    return x, weights


def conv_loss(x, params, conv2d, relu):
    w1, b1, w2, b2 = params
    h = relu(conv2d(x, w1, b1, padding=1))
    h = relu(conv2d(h, w2, b2, padding=1))
    return (h * h).mean()


def conv_chainrule(x, weights) -> Callable[[], object]:
    params = [cr.tensor(w, requires_grad=True) for w in weights]
    xt = cr.tensor(x)

    def run():
        for p in params:
            p.grad = None
        loss = conv_loss(xt, params, cr.conv2d, cr.relu)
        loss.backward()
        assert params[0].grad.dtype == np.float32, "backward left float32"
        return loss
    return run


def conv_torch(x, weights) -> Callable[[], object]:
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    xt = torch.tensor(x)

    def run():
        for p in params:
            p.grad = None
        loss = conv_loss(xt, params, torch.nn.functional.conv2d, torch.relu)
        loss.backward()
        return loss
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    rounds = 9 if args.quick else 21

    print("(e) digits MLP training step 64-128-128-10, tanh, batch 64, float32, SGD")
    x, labels, weights = mlp_data(np.random.default_rng(0))
    best = interleaved_best({
        "chainrule": mlp_step_chainrule(x, labels, weights),
        "torch": mlp_step_torch(x, labels, weights) if torch else None,
    }, rounds, 20)
    print(row("", best.pop("chainrule"), best, "us", 1e6))

    print("(f) two-layer convolution 1->8->16, 3x3, batch 32, 28x28, float32, "
          "forward+backward")
    x, weights = conv_data(np.random.default_rng(0))
    best = interleaved_best({
        "chainrule": conv_chainrule(x, weights),
        "torch": conv_torch(x, weights) if torch else None,
    }, rounds, 5)
    print(row("", best.pop("chainrule"), best, "ms", 1e3))


if __name__ == "__main__":
    main()
