"""A multilayer perceptron reads handwritten digits (8x8 pixels, flattened to 64).

scikit-learn's bundled digits (1,797 images) are split once, stratified,
into 1,437 training and 360 test images. The network is 64-256-10 with a
ReLU hidden layer and dropout; Adam with a cosine learning-rate schedule
and label smoothing reaches about 98% test accuracy in 40 epochs (seconds).

Run it: ``python examples/mlp_digits.py [--epochs N] [--save mlp.safetensors] [--quick]``.
"""

from __future__ import annotations

import argparse

import chainrule as cr
from chainrule import nn


def evaluate(model: nn.Module, dataset: cr.data.TensorDataset) -> float:
    """Test accuracy, with dropout switched off (eval mode) and no graph recorded."""
    x, y = dataset.tensors
    model.eval()
    with cr.no_grad():
        predicted = model(x).numpy().argmax(axis=1)
    model.train()
    return float((predicted == y.numpy()).mean())


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH", help="write the trained weights")
    parser.add_argument("--quick", action="store_true", help="two epochs (for tests)")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else args.epochs

    train, test = cr.data.load_digits(layout="flat")
    cr.random.seed(args.seed)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))
    optimizer = cr.optim.Adam(model.parameters(), lr=3e-3)
    schedule = cr.optim.CosineAnnealingLR(optimizer, T_max=epochs)
    loader = cr.data.DataLoader(train, batch_size=32, shuffle=True, seed=args.seed)

    for epoch in range(epochs):
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            # label smoothing: aim at 0.91 for the right digit and 0.01 for each other one,
            # so the network is not pushed to ever more confident logits
            loss = nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        schedule.step()
        if (epoch + 1) % max(1, epochs // 8) == 0:
            print(f"epoch {epoch + 1:3d}  loss {total / len(train):.4f}  "
                  f"test accuracy {evaluate(model, test):.4f}")

    accuracy = evaluate(model, test)
    print(f"test accuracy: {100 * accuracy:.2f}%")
    if args.save:
        cr.save(model, args.save)
        print(f"saved to {args.save}; reload with model.load_state_dict(cr.load(path))")
    return accuracy


if __name__ == "__main__":
    main()
