"""Differentially private SGD on the digits: each example's gradient clipped alone.

DP-SGD (Abadi et al., 2016) bounds how much any one training example can move
the model: every example's gradient is clipped to norm at most C, the clipped
gradients are summed, Gaussian noise of scale sigma * C is added, and the sum
is divided by the batch size. That needs per-example gradients, which the
ordinary backward pass (the gradient of the batch's mean loss) never forms.
``cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))`` gives all of them in one
batched sweep: the model is called through ``cr.nn.functional_call`` with its
parameters as an argument. The first batch's per-example gradients are
checked against a Python loop over the examples.

Run it: ``python examples/dpsgd_digits.py [--epochs N] [--quick]``.
"""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr
from chainrule import nn


def make_loss(model: nn.Module):
    """The loss of ONE example (x: (64,), y: a class index) as a function of the parameters."""
    def loss(params, x, y):
        logits = nn.functional_call(model, params, (x[None],))  # a batch of one
        # y is mapped by vmap: each example picks its own class (a batched gather)
        return nn.functional.cross_entropy(logits, y[None])
    return loss


def clipped_noisy_gradient(per_example: dict, clip: float, sigma: float,
                           rng: np.random.Generator) -> dict:
    """DP-SGD's gradient: per-example gradients clipped to norm ``clip``, summed,
    noised with N(0, (sigma * clip)^2), averaged over the batch."""
    batch = next(iter(per_example.values())).shape[0]
    sq = sum((g.reshape(batch, -1).astype(np.float64) ** 2).sum(axis=1)
             for g in per_example.values())
    scale = np.minimum(1.0, clip / np.maximum(np.sqrt(sq), 1e-12))
    out = {}
    for name, g in per_example.items():
        total = np.tensordot(scale, g, axes=1)
        out[name] = ((total + rng.normal(0.0, sigma * clip, size=total.shape)) / batch
                     ).astype(g.dtype)
    return out


def check_against_loop(loss, params: dict, x: np.ndarray, y: np.ndarray) -> float:
    """The largest difference between vmap's per-example gradients and a loop's."""
    batched = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(params, x, y)
    worst = 0.0
    for k in range(len(y)):
        one = cr.grad(loss)(params, x[k], y[k])
        worst = max(worst, max(float(np.abs(batched[n][k] - one[n]).max()) for n in one))
    return worst


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--sigma", type=float, default=0.5, help="noise multiplier")
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--quick", action="store_true", help="one epoch (for tests)")
    args = parser.parse_args(argv)
    epochs = 1 if args.quick else args.epochs

    train, test = cr.data.load_digits(layout="flat")
    cr.random.seed(0)
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))
    params = {name: p.numpy() for name, p in model.named_parameters()}
    loss = make_loss(model)
    per_example_grads = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))
    x_all, y_all = (t.numpy() for t in train.tensors)

    worst = check_against_loop(loss, params, x_all[:16], y_all[:16])
    print(f"per-example gradients, vmap vs a loop over 16 examples: max difference {worst:.2e}")
    assert worst < 1e-5, worst

    for epoch in range(epochs):
        order = rng.permutation(len(y_all))
        for start in range(0, len(order) - 63, 64):
            idx = order[start:start + 64]
            grads = clipped_noisy_gradient(per_example_grads(params, x_all[idx], y_all[idx]),
                                           args.clip, args.sigma, rng)
            params = {n: params[n] - args.lr * grads[n] for n in params}
        x_test, y_test = (t.numpy() for t in test.tensors)
        logits = nn.functional_call(model, params, (x_test,))
        accuracy = float((np.asarray(logits).argmax(1) == y_test).mean())
        print(f"epoch {epoch + 1:3d}  test accuracy {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
