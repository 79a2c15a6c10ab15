"""``chainrule train``: short runs that learn, save a loadable model and draw curves."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli_train
from chainrule.cli import build_parser, main


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Small matrices multiply fastest on one BLAS thread; more only contend."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_shallow_run_saves_weights_and_plot(tmp_path, capsys):
    model_path, plot_path = tmp_path / "m.safetensors", tmp_path / "curves.png"
    code = main(["train", "shallow", "--epochs", "8", "--seed", "1", "--quiet",
                 "--save", str(model_path), "--plot", str(plot_path)])
    out = capsys.readouterr().out
    assert code == 0
    accuracy = float(out.split("test accuracy: ")[1].split("%")[0])
    assert accuracy > 60.0  # three classes: chance is 33%
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the saved weights reproduce the reported accuracy in a fresh model
    model = cli_train.TASKS["shallow"].model()
    cr.load(model_path, model=model)
    _, reloaded = cli_train.evaluate(model, cli_train.TASKS["shallow"].data().test,
                                     cli_train.TASKS["shallow"])
    assert round(100 * reloaded, 2) == accuracy


def test_progress_bar_shows_loss_and_accuracy(capsys):
    main(["train", "shallow", "--epochs", "2", "--batch-size", "100"])
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss=" in err and "acc=" in err and "test acc=" in err


def test_same_seed_same_result(capsys):
    results = []
    for _ in range(2):
        main(["train", "shallow", "--epochs", "2", "--seed", "3", "--quiet"])
        results.append(capsys.readouterr().out.splitlines()[1].split(" after")[0])
    assert results[0] == results[1]


def test_regression_task_reports_mse():
    task = cli_train.TASKS["rnn"]
    split = cli_train.DataSplit(*(cr.data.TensorDataset(*(t.numpy()[:200] for t in part.tensors))
                                  for part in task.data()))
    cr.random.seed(0)
    model = task.model()
    history = cli_train.fit(model, split, task, epochs=3, lr=1e-2, seed=0, progress=False)
    assert history.metric == "mse" and len(history.test_metric) == 3
    variance = float(np.var(split.test.tensors[1].numpy()))
    assert history.test_metric[-1] < 0.2 * variance  # far better than predicting the mean


@pytest.mark.parametrize("kind", ["mlp", "cnn", "lstm"])
def test_every_digits_model_takes_a_training_step(kind):
    task = cli_train.TASKS[kind]
    train, test = task.data()
    small = cli_train.DataSplit(cr.data.TensorDataset(*(t.numpy()[:64] for t in train.tensors)),
                                cr.data.TensorDataset(*(t.numpy()[:32] for t in test.tensors)))
    cr.random.seed(0)
    model = task.model()
    before = [p.numpy().copy() for p in model.parameters()]
    history = cli_train.fit(model, small, task, epochs=1, lr=task.lr, seed=0, progress=False)
    assert np.isfinite(history.train_loss[0])
    assert all(not np.array_equal(a, p.numpy()) for a, p in zip(before, model.parameters()))


@pytest.mark.parametrize("argv,match", [
    (["train", "transformer"], "invalid choice"),
    (["train", "mlp", "--epochs", "0"], "must be a positive number"),
    (["train", "mlp", "--lr", "-1"], "must be a positive number"),
    (["train", "mlp", "--lr", "nan"], "must be a positive number"),
])
def test_bad_arguments(argv, match, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
    assert match in capsys.readouterr().err


def test_help_lists_the_models(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for kind in ["mlp", "cnn", "lstm", "rnn", "shallow", "--save", "--plot"]:
        assert kind in out


def test_without_tqdm_it_prints_a_line_per_epoch(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if the data extra were missing
    assert main(["train", "shallow", "--epochs", "2"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("epoch 1/2: loss=") and err[1].startswith("epoch 2/2: loss=")
    assert "test acc=" in err[1]


def test_threads_option(capsys):
    assert main(["train", "shallow", "--epochs", "1", "--threads", "2", "--quiet"]) == 0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "mlp", "--threads", "0"])


def _run_cli(*args):
    """``chainrule`` as a user runs it; the child imports the same chainrule (PYTHONPATH)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = str(Path(cr.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_unwritable_output_fails_before_training(tmp_path, option):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a regular file")
    target = blocker / ("m.safetensors" if option == "--save" else "curves.png")
    result = _run_cli("train", "shallow", "--epochs", "50", "--quiet", option, str(target))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"chainrule train: error: {option} {target}: "
                                     f"{str(blocker)!r} is a file, not a folder")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing trained: not even the model's summary line
    assert blocker.read_text() == "a regular file"


@pytest.mark.parametrize("option,name,message", [
    ("--save", "missing/m.safetensors", "the folder '{tmp}/missing' does not exist"),
    ("--plot", "missing/deeper/c.png", "the folder '{tmp}/missing/deeper' does not exist"),
    ("--save", ".", "that is a folder; give a file name"),
    ("--plot", "curves.xyz", "matplotlib cannot write 'xyz' files; end the name with one of"),
    ("--save", "", "give a file name"),
])
def test_output_problems_are_reported_without_training(tmp_path, monkeypatch, capsys, option,
                                                       name, message):
    monkeypatch.chdir(tmp_path)
    ran = []
    monkeypatch.setattr(cli_train, "_train", lambda args: ran.append(args) or 0)
    assert main(["train", "shallow", option, name]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule train: error: ") and message.format(tmp=tmp_path) in err
    assert ran == [] and list(tmp_path.iterdir()) == []  # no probe file left behind


def test_writable_outputs_pass_the_check_and_leave_no_trace(tmp_path):
    existing = tmp_path / "old.png"
    existing.write_bytes(b"old")
    for option, path in [("--save", tmp_path / "m.safetensors"), ("--plot", existing),
                         ("--plot", tmp_path / "curves.svg")]:
        assert cli_train.output_problem(str(path), option) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.png"]
    assert existing.read_bytes() == b"old"


def test_read_only_folder_is_reported(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli_train.tempfile, "mkstemp", refuse)  # as for a non-root user
    problem = cli_train.output_problem(str(tmp_path / "m.safetensors"), "--save")
    assert problem == (f"--save {tmp_path / 'm.safetensors'}: cannot create files in "
                       f"{str(tmp_path)!r}: Permission denied")
