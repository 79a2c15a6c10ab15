"""Hand-derived gradients of a shallow network: against PyTorch, reverse mode and
central differences, and the report that prints them."""

import numpy as np
import pytest
import torch

from chainrule.explainer import explain_nn
from chainrule.explainer.nn_gradients import (
    PARAMETERS,
    backward_numpy,
    forward_numpy,
    make_batch,
)

COMBINATIONS = [(loss, act) for loss in ("mse", "cross-entropy")
                for act in ("sigmoid", "tanh", "relu")]


def torch_gradients(params, x, y, activation, loss):
    """The oracle: the same network and loss in PyTorch, float64."""
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    z2 = act(torch.tensor(x) @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    if loss == "mse":
        value = torch.nn.functional.mse_loss(z2, torch.tensor(y))
    else:
        value = torch.nn.functional.cross_entropy(z2, torch.tensor(y))
    value.backward()
    return float(value.detach()), {k: v.grad.numpy() for k, v in p.items()}


@pytest.mark.parametrize("loss, activation", COMBINATIONS)
def test_hand_formulas_match_pytorch(loss, activation):
    params, x, y = make_batch(6, 3, 5, 3, loss, seed=1)
    value, cache = forward_numpy(params, x, y, activation, loss)
    hand = backward_numpy(params, x, y, cache, activation, loss)
    expected_value, expected = torch_gradients(params, x, y, activation, loss)
    assert value == pytest.approx(expected_value, rel=1e-12)
    for p in PARAMETERS:
        assert hand[p].shape == params[p].shape
        np.testing.assert_allclose(hand[p], expected[p], rtol=0, atol=1e-12)


@pytest.mark.parametrize("loss, activation", COMBINATIONS)
def test_explain_nn_checks_pass_against_reverse_mode_and_differences(loss, activation):
    report = explain_nn(hidden=4, batch=5, outputs=3, loss=loss, activation=activation, seed=2)
    assert report.passed
    assert [c.parameter for c in report.checks] == list(PARAMETERS)
    for c in report.checks:
        assert c.reverse_error <= 1e-10
        assert c.numerical_error <= 1e-6
        assert c.numerical_evaluations == 2 * int(np.prod(c.shape))  # central: 2 per entry
        np.testing.assert_allclose(report.gradients[c.parameter], report.reverse[c.parameter],
                                   rtol=0, atol=1e-10)


def test_a_tolerance_too_tight_for_differences_fails_the_check():
    report = explain_nn(numerical_tolerance=1e-30)
    assert not report.passed
    assert all(c.reverse_error <= 1e-10 for c in report.checks)  # only the numerical side fails
    assert "CHECK FAILED for W1, b1, W2, b2" in report.render()


def test_text_names_the_variables_and_derives_layer_by_layer():
    text = explain_nn(activation="sigmoid").render("text")
    assert "with respect to the parameters" in text
    assert "W1 (3, 4), b1 (4,), W2 (4, 2), b2 (2,)" in text
    assert "X (B, D)" in text and "held fixed" in text
    for line in ("Z1 = X W1 + b1", "A1 = sigmoid(Z1)", "Z2 = A1 W2 + b2",
                 "dL/dZ2 = 2 (Z2 - Y) / (B*K)", "dL/dW2 = A1^T dL/dZ2",
                 "dL/dA1 = dL/dZ2 W2^T", "dL/dZ1 = dL/dA1 * sigmoid'(Z1) = dL/dA1 * A1 * (1 - A1)",
                 "dL/dW1 = X^T dL/dZ1", "dL/db1 = sum over the batch (rows) of dL/dZ1"):
        assert line in text
    # the backward formulas come in chain-rule order: each uses the one before
    order = [text.index(f"dL/d{v} =") for v in ("Z2", "W2", "b2", "A1", "Z1", "W1", "b1")]
    assert order == sorted(order)
    assert text.rstrip().endswith("times max(1, max |dL/dP|)).")


def test_markdown_tables_and_the_relu_kink_note():
    md = explain_nn(loss="cross-entropy", activation="relu").render("markdown")
    assert "| dL/dZ2 | `(softmax(Z2) - onehot(Y)) / B` | (5, 2) |" in md
    assert "| parameter | shape | max \\|dL/dP\\| |" in md
    assert md.count("| pass |") == 4
    assert "relu has a kink at 0" in md


@pytest.mark.parametrize("kwargs, message", [
    ({"loss": "hinge"}, "loss must be one of mse, cross-entropy"),
    ({"activation": "gelu"}, "activation must be one of sigmoid, tanh, relu"),
    ({"hidden": 0}, "hidden must be an integer >= 1"),
    ({"batch": 2.5}, "batch must be an integer >= 1"),
    ({"loss": "cross-entropy", "outputs": 1}, "outputs must be an integer >= 2"),
    ({"seed": -1}, "seed must be an integer >= 0"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("|", "\\|")):
        explain_nn(**kwargs)


def test_unknown_format():
    with pytest.raises(ValueError, match="format must be one of text, markdown"):
        explain_nn().render("latex")


def test_compare_is_public_and_agrees_on_the_seed_example():
    import chainrule as cr

    table = cr.compare(lambda x: x**2 - 3 * x - 2, 3.0)
    assert cr.compare is cr.explainer.compare
    assert "reverse mode" in str(table) and "symbolic" in str(table)
