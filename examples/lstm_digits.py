"""An LSTM reads each handwritten digit row by row, as a sequence of 8 steps.

Each step feeds one image row (8 pixels) to the LSTM; after the last row its
output summarizes the whole image, and a linear layer names the digit. The
gradient flows back through all 8 steps (backpropagation through time: the
chain rule along the unrolled recurrence); the LSTM's gates keep it from
vanishing. About 96.5% test accuracy in 30 epochs.

Run it: ``python examples/lstm_digits.py [--epochs N] [--quick]``.
"""

from __future__ import annotations

import argparse

import chainrule as cr
from chainrule import nn


class RowReader(nn.Module):
    """LSTM over the rows, then a linear layer on its output after the last row."""

    def __init__(self, hidden_size: int = 64) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_size=8, hidden_size=hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 10)

    def forward(self, images):
        out, (h, c) = self.lstm(images)   # images: (batch, 8 rows, 8 pixels)
        return self.head(out[:, -1])      # (batch, 10) logits


def evaluate(model: nn.Module, dataset: cr.data.TensorDataset) -> float:
    x, y = dataset.tensors
    with cr.no_grad():
        predicted = model(x).numpy().argmax(axis=1)
    return float((predicted == y.numpy()).mean())


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="three epochs (for tests)")
    args = parser.parse_args(argv)
    epochs = 3 if args.quick else args.epochs

    train, test = cr.data.load_digits(layout="rows")   # each image as (8, 8): rows x pixels
    cr.random.seed(args.seed)
    model = RowReader()
    optimizer = cr.optim.Adam(model.parameters(), lr=3e-3)
    schedule = cr.optim.CosineAnnealingLR(optimizer, T_max=epochs)
    loader = cr.data.DataLoader(train, batch_size=32, shuffle=True, seed=args.seed)

    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            # label smoothing: aim at 0.91 for the right digit and 0.01 for each other one,
            # so the network is not pushed to ever more confident logits
            loss = nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
            loss.backward()
            optimizer.step()
        schedule.step()
        if (epoch + 1) % max(1, epochs // 6) == 0:
            print(f"epoch {epoch + 1:3d}  loss {loss.item():.4f}  "
                  f"test accuracy {evaluate(model, test):.4f}")

    accuracy = evaluate(model, test)
    print(f"test accuracy: {100 * accuracy:.2f}%")
    return accuracy


if __name__ == "__main__":
    main()
