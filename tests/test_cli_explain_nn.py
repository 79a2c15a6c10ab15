"""``chainrule explain-nn``: its output and exit status. The main paths run as a user
runs them (a subprocess); the variations call the same entry point in-process."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from chainrule.cli import main
from chainrule.explainer.nn_gradients import make_batch


def run(*args):
    return subprocess.run([sys.executable, "-m", "chainrule", "explain-nn", *args],
                          capture_output=True, text=True, timeout=120)


def run_here(capsys, *args):
    """``main`` in this process: (exit status, stdout, stderr)."""
    try:
        status = main(["explain-nn", *args])
    except SystemExit as exit_:  # argparse rejects an option
        status = exit_.code
    out = capsys.readouterr()
    return status, out.out, out.err


def checks(stdout):
    """parameter -> (reverse error, numerical error, verdict) from the printed table."""
    rows = {}
    for line in stdout.splitlines():
        cells = line.split()
        if cells and cells[0] in ("W1", "b1", "W2", "b2") and cells[-1] in ("pass", "FAIL"):
            rows[cells[0]] = (float(cells[-4]), float(cells[-3]), cells[-1])
    return rows


def test_default_network_formulas_match_reverse_mode():
    result = run("--hidden", "3", "--batch", "4", "--seed", "7")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in ("Z1 = X W1 + b1", "A1 = tanh(Z1)", "dL/dW2 = A1^T dL/dZ2",
                 "dL/dZ1 = dL/dA1 * tanh'(Z1) = dL/dA1 * (1 - A1**2)", "dL/dW1 = X^T dL/dZ1"):
        assert line in out
    rows = checks(out)
    assert sorted(rows) == ["W1", "W2", "b1", "b2"]
    for reverse_error, numerical_error, verdict in rows.values():
        assert reverse_error <= 1e-10 and numerical_error <= 1e-6 and verdict == "pass"
    # the printed loss is the network's, computed here independently with PyTorch
    params, x, y = make_batch(4, 3, 3, 2, "mse", 7)
    t = {k: torch.tensor(v) for k, v in params.items()}
    z2 = torch.tanh(torch.tensor(x) @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    expected = float(torch.nn.functional.mse_loss(z2, torch.tensor(y)))
    printed = float(out.split("  L = ")[-1].split()[0])
    assert printed == pytest.approx(expected, rel=1e-5)
    assert "All four gradients agree" in out


def test_cross_entropy_relu_markdown(capsys):
    status, out, err = run_here(capsys, "--loss", "cross-entropy", "--activation", "relu",
                                "--outputs", "3", "--format", "markdown")
    assert status == 0, err
    assert "| dL/dZ2 | `(softmax(Z2) - onehot(Y)) / B` | (5, 3) |" in out
    rows = [line for line in out.splitlines() if line.endswith("| pass |")]
    assert len(rows) == 4
    assert all(float(r.split("|")[4]) <= 1e-10 for r in rows)  # vs reverse mode


def test_a_failed_check_exits_1(capsys):
    status, out, _ = run_here(capsys, "--activation", "sigmoid", "--tolerance", "1e-30")
    assert status == 1
    assert "CHECK FAILED" in out
    assert {v[2] for v in checks(out).values()} == {"FAIL"}
    assert all(np.isfinite(v[1]) for v in checks(out).values())


def test_bad_option_exits_2_from_the_command_line():
    result = run("--hidden", "0")
    assert result.returncode == 2
    assert "chainrule explain-nn: error: argument --hidden: expected an integer >= 1, got 0" \
        in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--batch", "x"], "argument --batch: 'x' is not an integer"),
    (["--loss", "hinge"], "argument --loss: invalid choice: 'hinge'"),
    (["--seed", "-1"], "a seed is an integer >= 0"),
    (["--loss", "cross-entropy", "--outputs", "1"], "outputs must be an integer >= 2"),
])
def test_bad_input_exits_2(capsys, args, message):
    status, _, err = run_here(capsys, *args)
    assert status == 2
    assert message in err
    assert "explain-nn" in err
