"""Backpropagation through a shallow network, derived by hand and checked.

A network with one hidden layer (parameters W1, b1, W2, b2) and a named loss:
the gradient of the loss with respect to each parameter is written as a
formula, layer by layer from the loss back, in the names of the forward
pass (Z1 = X W1 + b1, A1 = act(Z1), Z2 = A1 W2 + b2). Those formulas are then
evaluated with plain NumPy and compared with chainrule's reverse mode (run on
the same loss written with chainrule's layers) and with central differences
of a NumPy forward pass: three independent routes to one set of numbers.

>>> from chainrule.explainer import explain_nn
>>> report = explain_nn(hidden=3, batch=4, loss="cross-entropy", activation="relu")
>>> report.passed, [c.parameter for c in report.checks]
(True, ['W1', 'b1', 'W2', 'b2'])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PARAMETERS = ("W1", "b1", "W2", "b2")


@dataclass(frozen=True)
class Activation:
    """An elementwise activation: its NumPy form, its derivative and how to write both."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    slope: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (Z1, A1) -> act'(Z1)
    slope_text: str  # act'(Z1) written with A1 or Z1


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", lambda z: 1.0 / (1.0 + np.exp(-z)),
                          lambda z, a: a * (1.0 - a), "A1 * (1 - A1)"),
    "tanh": Activation("tanh", np.tanh, lambda z, a: 1.0 - a**2, "(1 - A1**2)"),
    # relu'(0) = 0: chainrule's convention at the kink (see docs/subgradients.md)
    "relu": Activation("relu", lambda z: np.maximum(z, 0.0),
                       lambda z, a: (z > 0).astype(z.dtype), "[Z1 > 0]"),
}

LOSSES = {
    "mse": ("mean squared error", "L = sum((Z2 - Y)**2) / (B*K)",
            "2 (Z2 - Y) / (B*K)"),
    "cross-entropy": ("cross-entropy of softmax(Z2)",
                      "L = -sum_i log softmax(Z2)[i, y_i] / B",
                      "(softmax(Z2) - onehot(Y)) / B"),
}


@dataclass
class Formula:
    """One line of the derivation: ``name = formula``, its shape, and why it holds."""

    name: str
    formula: str
    shape: tuple[int, ...]
    why: str = ""


@dataclass
class GradientCheck:
    """The hand-derived gradient of one parameter against the two other routes."""

    parameter: str
    shape: tuple[int, ...]
    largest: float  # max |dL/dP|, the scale of the errors
    reverse_error: float  # max abs difference from chainrule reverse mode
    numerical_error: float  # max abs difference from central differences
    numerical_evaluations: int
    passed: bool


@dataclass
class NNGradients:
    """The derivation, the numbers and the verdict; ``render`` prints them."""

    activation: str
    loss: str
    sizes: dict[str, int]  # B (batch), D (inputs), H (hidden), K (outputs)
    seed: int
    loss_value: float
    forward: list[Formula]
    backward: list[Formula]
    gradients: dict[str, np.ndarray]  # the hand-derived formulas, evaluated
    reverse: dict[str, np.ndarray]
    numerical: dict[str, np.ndarray]
    checks: list[GradientCheck]
    reverse_tolerance: float
    numerical_tolerance: float
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def render(self, format: str = "text") -> str:
        from chainrule.explainer.nn_report import render

        return render(self, format)

    def __str__(self) -> str:
        return self.render("text")


# ----- the network in NumPy: data, forward pass, hand-derived backward pass -----

def make_batch(batch: int, inputs: int, hidden: int, outputs: int, loss: str, seed: int
               ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Random parameters (scaled like a fresh layer), inputs X and targets Y."""
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(size=(inputs, hidden)) / np.sqrt(inputs),
              "b1": 0.1 * rng.normal(size=hidden),
              "W2": rng.normal(size=(hidden, outputs)) / np.sqrt(hidden),
              "b2": 0.1 * rng.normal(size=outputs)}
    x = rng.normal(size=(batch, inputs))
    if loss == "mse":
        y = rng.normal(size=(batch, outputs))
    else:
        y = rng.integers(0, outputs, size=batch)
    return params, x, y


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward_numpy(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                  activation: str, loss: str) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and the intermediates Z1, A1, Z2, in plain NumPy."""
    act = ACTIVATIONS[activation]
    z1 = x @ params["W1"] + params["b1"]
    a1 = act.forward(z1)
    z2 = a1 @ params["W2"] + params["b2"]
    if loss == "mse":
        value = float(np.mean((z2 - y) ** 2))
    else:
        shifted = z2 - z2.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        value = float(-np.mean(logp[np.arange(len(y)), y]))
    return value, {"Z1": z1, "A1": a1, "Z2": z2}


def backward_numpy(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                   cache: dict[str, np.ndarray], activation: str, loss: str
                   ) -> dict[str, np.ndarray]:
    """The hand-derived formulas, evaluated: every adjoint, parameters and intermediates."""
    z1, a1, z2 = cache["Z1"], cache["A1"], cache["Z2"]
    b, k = z2.shape
    if loss == "mse":
        dz2 = 2.0 * (z2 - y) / (b * k)
    else:
        onehot = np.zeros_like(z2)
        onehot[np.arange(b), y] = 1.0
        dz2 = (_softmax(z2) - onehot) / b
    da1 = dz2 @ params["W2"].T
    dz1 = da1 * ACTIVATIONS[activation].slope(z1, a1)
    return {"Z2": dz2, "W2": a1.T @ dz2, "b2": dz2.sum(axis=0), "A1": da1, "Z1": dz1,
            "W1": x.T @ dz1, "b1": dz1.sum(axis=0)}


def derivation(activation: str, loss: str, sizes: dict[str, int]
               ) -> tuple[list[Formula], list[Formula]]:
    """The forward pass and the backward formulas, as text with their shapes."""
    b, d, h, k = sizes["B"], sizes["D"], sizes["H"], sizes["K"]
    name = ACTIVATIONS[activation].name
    forward = [Formula("Z1", "X W1 + b1", (b, h), "b1 is added to every row"),
               Formula("A1", f"{name}(Z1)", (b, h), "elementwise"),
               Formula("Z2", "A1 W2 + b2", (b, k), "b2 is added to every row"),
               Formula("L", LOSSES[loss][1].removeprefix("L = "), (), LOSSES[loss][0])]
    backward = [
        Formula("dL/dZ2", LOSSES[loss][2], (b, k), "the loss, differentiated"),
        Formula("dL/dW2", "A1^T dL/dZ2", (h, k), "Z2 = A1 W2 + b2 is linear in W2"),
        Formula("dL/db2", "sum over the batch (rows) of dL/dZ2", (k,),
                "b2 reaches every row of Z2"),
        Formula("dL/dA1", "dL/dZ2 W2^T", (b, h), "Z2 = A1 W2 + b2 is linear in A1"),
        Formula("dL/dZ1", f"dL/dA1 * {name}'(Z1) = dL/dA1 * "
                          f"{ACTIVATIONS[activation].slope_text}", (b, h),
                f"A1 = {name}(Z1) elementwise; * is elementwise"),
        Formula("dL/dW1", "X^T dL/dZ1", (d, h), "Z1 = X W1 + b1 is linear in W1"),
        Formula("dL/db1", "sum over the batch (rows) of dL/dZ1", (h,),
                "b1 reaches every row of Z1"),
    ]
    return forward, backward


# ----- the two other routes -----

def reverse_gradients(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                      activation: str, loss: str) -> dict[str, np.ndarray]:
    """dL/dP by chainrule's reverse mode, the loss written with its layers."""
    from chainrule import ops
    from chainrule.nn import functional as F
    from chainrule.transforms import grad

    act = {"sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu}[activation]

    def network_loss(w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
        z2 = ops.matmul(act(ops.matmul(x, w1) + b1), w2) + b2
        return F.mse_loss(z2, y) if loss == "mse" else F.cross_entropy(z2, y)

    values = grad(network_loss, argnums=(0, 1, 2, 3))(*(params[p] for p in PARAMETERS))
    return {p: np.asarray(v, dtype=np.float64) for p, v in zip(PARAMETERS, values)}


def numerical_gradients(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                        activation: str, loss: str) -> dict[str, tuple[np.ndarray, int]]:
    """dL/dP by central differences of the NumPy forward pass, with the call counts."""
    from chainrule import numerical

    out = {}
    for p in PARAMETERS:
        def loss_of(value: np.ndarray, p: str = p) -> float:
            return forward_numpy({**params, p: value}, x, y, activation, loss)[0]
        result = numerical.gradient(loss_of, params[p], method="central", measure_error=False)
        out[p] = (np.asarray(result.value, dtype=np.float64), int(result.evaluations))
    return out


def _positive(name: str, value: int, smallest: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < smallest:
        raise ValueError(f"explain_nn: {name} must be an integer >= {smallest}, got {value!r}")
    return int(value)


def explain_nn(*, hidden: int = 4, batch: int = 5, inputs: int = 3, outputs: int = 2,
               loss: str = "mse", activation: str = "tanh", seed: int = 0,
               reverse_tolerance: float = 1e-10, numerical_tolerance: float = 1e-6
               ) -> NNGradients:
    """Derive, evaluate and check dL/dW1, dL/db1, dL/dW2, dL/db2 of a shallow network.

    A parameter passes when the hand-derived gradient is within
    ``reverse_tolerance`` of reverse mode and ``numerical_tolerance`` of
    central differences (max abs error, relative to max(1, max |dL/dP|)).
    """
    if loss not in LOSSES:
        raise ValueError(f"explain_nn: loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"explain_nn: activation must be one of {', '.join(ACTIVATIONS)}, "
                         f"got {activation!r}")
    seed = _positive("seed", seed, 0)
    sizes = {"B": _positive("batch", batch), "D": _positive("inputs", inputs),
             "H": _positive("hidden", hidden),
             "K": _positive("outputs", outputs, 2 if loss == "cross-entropy" else 1)}
    params, x, y = make_batch(sizes["B"], sizes["D"], sizes["H"], sizes["K"], loss, seed)
    value, cache = forward_numpy(params, x, y, activation, loss)
    hand = backward_numpy(params, x, y, cache, activation, loss)
    reverse = reverse_gradients(params, x, y, activation, loss)
    numeric = numerical_gradients(params, x, y, activation, loss)
    checks = []
    for p in PARAMETERS:
        scale = max(1.0, float(np.max(np.abs(hand[p]))))
        rev = float(np.max(np.abs(hand[p] - reverse[p])))
        num = float(np.max(np.abs(hand[p] - numeric[p][0])))
        ok = rev <= reverse_tolerance * scale and num <= numerical_tolerance * scale
        checks.append(GradientCheck(p, params[p].shape, float(np.max(np.abs(hand[p]))),
                                    rev, num, numeric[p][1], bool(ok)))
    notes = []
    if activation == "relu":
        gap = float(np.min(np.abs(cache["Z1"])))
        notes.append(f"relu has a kink at 0; the closest hidden pre-activation is |Z1| = "
                     f"{gap:.2g} from it" + (" (central differences may straddle it)"
                                              if gap < 1e-4 else ""))
    forward, backward = derivation(activation, loss, sizes)
    return NNGradients(activation, loss, sizes, seed, value, forward, backward,
                       {p: hand[p] for p in PARAMETERS}, reverse,
                       {p: numeric[p][0] for p in PARAMETERS}, checks,
                       reverse_tolerance, numerical_tolerance, notes)
