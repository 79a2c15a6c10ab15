"""``chainrule train --jit``: the training step runs as a compiled program and the run
is the eager run's, loss for loss (dropout masks drawn from the same generator)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli_train
from chainrule.cli import main


def _run(name, jit, epochs=2, seed=3):
    task = cli_train.TASKS[name]
    split = task.data()
    cr.random.seed(seed)
    model = task.model()
    history = cli_train.fit(model, split, task, epochs, task.lr, seed, progress=False,
                            jit=jit)
    return history, model


@pytest.mark.parametrize("name", ["mlp", "rnn"])  # dropout and label smoothing; regression
def test_jitted_training_equals_eager_loss_for_loss(name):
    eager, eager_model = _run(name, jit=False)
    jitted, jit_model = _run(name, jit=True)
    np.testing.assert_array_equal(jitted.train_loss, eager.train_loss)
    np.testing.assert_array_equal(jitted.train_metric, eager.train_metric)
    np.testing.assert_array_equal(jitted.test_loss, eager.test_loss)
    for (n, a), (_, b) in zip(jit_model.named_parameters(), eager_model.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=n)


def test_the_step_is_compiled_once_per_batch_shape():
    task = cli_train.TASKS["mlp"]
    cr.random.seed(0)
    model = task.model()
    step = cli_train.jitted_step(model, task)
    params = {n: p.data for n, p in model.named_parameters()}
    x = np.ones((32, 64), np.float32)
    y = np.eye(10, dtype=np.float32)[np.arange(32) % 10]
    step(params, x, y)
    step(params, 2 * x, y)
    assert step.traces == 1
    assert "matmul" in str(step.lower(params, x, y))


def test_cli_flag_runs_and_refuses_models_with_buffers(capsys):
    assert main(["train", "shallow", "--epochs", "2", "--quiet", "--jit"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert main(["train", "cnn", "--epochs", "1", "--quiet", "--jit"]) == 2
    err = capsys.readouterr().err
    assert "--jit: the model's BatchNorm2d" in err and "without --jit" in err
