"""A recurrent network predicts the next value of a sine wave.

Each training example is a window of 20 samples of sin(w t + phase), with a
random frequency w and phase; the target is the 21st sample. An Elman RNN
(h_t = tanh(W x_t + U h_{t-1} + b)) carries what it has seen in its hidden
state, and a linear layer turns the last state into the prediction. Trained
with the mean squared error, it reaches a test MSE of about 5e-4.

Run it: ``python examples/rnn_sine.py [--epochs N] [--quick]``.
"""

from __future__ import annotations

import argparse

import chainrule as cr
from chainrule import nn


class NextValue(nn.Module):
    def __init__(self, hidden_size: int = 32) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_size=1, hidden_size=hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, windows):
        out, h = self.rnn(windows)        # windows: (batch, 20 steps, 1)
        return self.head(out[:, -1])      # (batch, 1): the predicted next value


def mean_squared_error(model: nn.Module, dataset: cr.data.TensorDataset) -> float:
    x, y = dataset.tensors
    with cr.no_grad():
        return nn.functional.mse_loss(model(x), y).item()


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="three epochs (for tests)")
    args = parser.parse_args(argv)
    epochs = 3 if args.quick else args.epochs

    train = cr.data.sine_sequences(n_sequences=1000, length=20, seed=0)
    test = cr.data.sine_sequences(n_sequences=200, length=20, seed=1)
    cr.random.seed(args.seed)
    model = NextValue()
    optimizer = cr.optim.Adam(model.parameters(), lr=3e-3)
    schedule = cr.optim.CosineAnnealingLR(optimizer, T_max=epochs)
    loader = cr.data.DataLoader(train, batch_size=32, shuffle=True, seed=args.seed)

    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
        schedule.step()
        if (epoch + 1) % max(1, epochs // 6) == 0:
            print(f"epoch {epoch + 1:3d}  train loss {loss.item():.2e}  "
                  f"test MSE {mean_squared_error(model, test):.2e}")

    mse = mean_squared_error(model, test)
    print(f"test MSE: {mse:.2e}")
    return mse


if __name__ == "__main__":
    main()
