"""A shallow network (one hidden layer) learns to tell three spiral arms apart.

No straight line separates the arms, so a linear classifier is stuck near
chance; one hidden layer of 100 ReLU units bends the decision boundary
around them. Training is the loop every example here shares:

    forward   logits = model(x); loss = cross_entropy(logits, y)
    backward  loss.backward()      # the chain rule, node by node, into each .grad
    update    optimizer.step()     # w -= step computed from w.grad

Run it: ``python examples/shallow_spiral.py [--epochs N] [--quick]``.
The test points are a second draw of the spiral, not seen in training.
"""

from __future__ import annotations

import argparse

import chainrule as cr
from chainrule import nn


def accuracy(model: nn.Module, dataset: cr.data.TensorDataset) -> float:
    x, y = dataset.tensors
    with cr.no_grad():
        predicted = model(x).numpy().argmax(axis=1)
    return float((predicted == y.numpy()).mean())


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a few epochs (for tests)")
    args = parser.parse_args(argv)
    epochs = 15 if args.quick else args.epochs

    train = cr.data.make_spiral(n_samples=300, n_classes=3, seed=0)
    test = cr.data.make_spiral(n_samples=300, n_classes=3, seed=1)
    cr.random.seed(args.seed)  # the initial weights
    model = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3))
    optimizer = cr.optim.Adam(model.parameters(), lr=1e-2)
    loader = cr.data.DataLoader(train, batch_size=32, shuffle=True, seed=args.seed)

    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        if (epoch + 1) % max(1, epochs // 5) == 0:
            print(f"epoch {epoch + 1:4d}  loss {loss.item():.4f}  "
                  f"train accuracy {accuracy(model, train):.3f}")

    test_accuracy = accuracy(model, test)
    print(f"test accuracy: {100 * test_accuracy:.2f}%")
    return test_accuracy


if __name__ == "__main__":
    main()
