"""What a newcomer met on the command line: every option explained, ``--version``,
the point given once and used, overflow told apart from the domain, tables that
keep their columns, LaTeX that is LaTeX, and no long silent runs."""

import argparse
import importlib.metadata
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli_train
from chainrule.cli import build_parser, main
from chainrule.explainer.compare import compare


def _run(capsys, *argv):
    try:
        status = main(list(argv))
    except SystemExit as exit_:  # argparse: bad options, --help, --version
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _every_option():
    parser = build_parser()
    yield "chainrule", parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


@pytest.mark.parametrize("command, parser", list(_every_option()), ids=lambda v: str(v)[:20])
def test_every_option_has_help(command, parser):
    missing = [a.option_strings or a.dest for a in parser._actions if not a.help]
    assert not missing, f"{command}: options without help: {missing}"


def test_version_comes_from_the_package_metadata(capsys):
    status, out, _ = _run(capsys, "--version")
    assert status == 0
    assert out.strip() == f"chainrule {cr.__version__}"
    assert cr.__version__ == importlib.metadata.version("chainrule")


@pytest.mark.parametrize("argv, words", [
    # the same variable twice: refused, both values named (it used to take the last)
    (["diff", "x**2", "--at", "x=1", "--at", "x=3"], ["x twice", "x=1", "x=3"]),
    (["explain", "x*y", "--at", "y=1", "--at", "x=2", "--at", "y=1"], ["y twice"]),
    # a variable the expression does not use: refused, naming the ones it does use
    (["diff", "x**2", "--at", "x=1", "--at", "y=3"], ["does not use", "its variables: x"]),
    # a value no float can hold, or not a number at all
    (["diff", "x**2", "--at", "x=1e400"], ["1e400 overflows a float"]),
    (["diff", "x**2", "--at", "x=inf"], ["inf is not a finite number"]),
    (["diff", "x**2", "--at", "x=nan"], ["nan is not a finite number"]),
])
def test_the_point_is_given_once_and_used(capsys, argv, words):
    status, out, err = _run(capsys, *argv)
    assert status == 2 and out == ""
    for word in words:
        assert word in err


@pytest.mark.parametrize("expression, at, words", [
    ("exp(x)", ["x=1000"], ["overflows", "exp", "inside the function's domain"]),
    ("x*y", ["x=1e308", "y=10"], ["overflows", "multiply"]),
    ("cosh(x)", ["x=1000"], ["overflows", "cosh"]),
    ("x^y", ["x=10", "y=400"], ["overflows", "power"]),
    ("1/x", ["x=0"], ["division by zero", "divide"]),
    ("log(x)", ["x=0"], ["division by zero", "log"]),
    ("sqrt(x)", ["x=-1"], ["outside the domain of sqrt"]),
    ("log(x)", ["x=-1"], ["outside the domain of log"]),
])
@pytest.mark.parametrize("command", ["diff", "explain"])
def test_overflow_is_not_called_outside_the_domain(capsys, command, expression, at, words):
    argv = [command, expression] + [a for value in at for a in ("--at", value)]
    status, out, err = _run(capsys, *argv)
    assert status == 2, out
    for word in words:
        assert word in err
    if "overflows" in words:
        assert "outside" not in err


def _cells(line):
    return re.split(r"\s{2,}", line.strip())


@pytest.mark.parametrize("seconds", [3e-5, 0.25, 1.5, 1234.5])
def test_diff_table_keeps_its_columns_whatever_the_values(seconds):
    table = compare(lambda x, y: cr.sin(x * y) + x / y, 1.0, 2.0, names=["x", "y"])
    for row in table.rows:
        row.seconds = seconds  # a slow machine: long times used to run into the errors
    lines = str(table).splitlines()
    start = next(k for k, line in enumerate(lines) if line.strip().startswith("method"))
    header, rows = lines[start], lines[start + 1:start + 1 + len(table.rows)]
    time_end = header.index("time") + len("time")
    for line in rows:
        cells = _cells(line)
        assert len(cells) == 6, line  # method, gradient, abs, rel error, time, cost
        assert re.fullmatch(r"[\d.]+(us|ms|s)", cells[4]), line
        assert line[time_end - len(cells[4]):time_end] == cells[4], (header, line)
        assert line[time_end - len(cells[4]) - 2:time_end - len(cells[4])] == "  "


def test_explain_latex_is_pure_latex(capsys):
    status, out, _ = _run(capsys, "explain", "x^2 - 3*x - 2", "--at", "x=3", "--format",
                          "latex")
    assert status == 0
    lines = out.rstrip("\n").splitlines()
    assert lines[0] == "% f(x) = x**2 - 3*x - 2"
    body = [line for line in lines if not line.startswith("%")]
    assert body[0] == "\\begin{aligned}" and body[-1] == "\\end{aligned}"


def test_explain_latex_graph_line_is_a_comment(capsys, tmp_path):
    status, out, _ = _run(capsys, "explain", "x*y", "--at", "x=1", "--at", "y=2", "--format",
                          "latex", "--graph", str(tmp_path / "g.dot"))
    assert status == 0
    assert out.rstrip().splitlines()[-1] == f"% graph written to {tmp_path / 'g.dot'}"


def test_compare_costs_refuses_sizes_that_cannot_finish(capsys, tmp_path, monkeypatch):
    from chainrule.explainer import costs

    def never(*args, **kwargs):
        raise AssertionError("compare-costs started measuring a size it cannot finish")

    monkeypatch.setattr(costs, "measure_one", never)
    monkeypatch.setattr(costs, "measure_costs", never)
    status, out, err = _run(capsys, "compare-costs", "--max-n", "100000", "--out",
                            str(tmp_path / "plots"))
    assert status == 2 and out == ""
    assert "--max-n: 100000 is too large" in err and "2048 or less" in err


def test_compare_costs_says_what_it_measures(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    status, out, err = _run(capsys, "compare-costs", "--max-n", "4", "--repeat", "1",
                            "--out", str(tmp_path))
    assert status == 0
    progress = [line for line in err.splitlines() if line.startswith("compare-costs:")]
    assert progress[0].startswith("compare-costs: measuring n = 2, size 1 of 2 (")
    assert progress[1].startswith("compare-costs: measuring n = 4, size 2 of 2 (")
    assert "so far)" in progress[-1] and "plotting" in progress[-1]


@pytest.mark.parametrize("seed, message", [("-5", "a seed is an integer >= 0, got -5"),
                                           ("abc", "'abc' is not an integer")])
def test_train_refuses_a_bad_seed_clearly(capsys, seed, message):
    status, out, err = _run(capsys, "train", "shallow", "--seed", seed)
    assert status == 2 and "Traceback" not in err
    assert message in err


@pytest.mark.parametrize("model", ["mlp", "cnn", "lstm"])
def test_smoothed_loss_floor_is_the_lowest_cross_entropy(model):
    task = cli_train.TASKS[model]
    floor = cli_train.smoothed_loss_floor(task)
    # the loss is smallest where softmax(logits) equals the smoothed targets
    e, k = task.label_smoothing, 10
    targets = np.full(k, e / k)
    targets[3] += 1 - e
    best = cr.nn.functional.cross_entropy(cr.tensor(np.log(targets)[None]), cr.tensor([3]),
                                          label_smoothing=e)
    assert float(best) == pytest.approx(floor, rel=1e-12)
    assert floor == pytest.approx(0.5003, abs=1e-4)
    assert cli_train.smoothed_loss_floor(cli_train.TASKS["shallow"]) == 0.0


def test_train_says_the_loss_is_smoothed(capsys):
    status, out, err = _run(capsys, "train", "mlp", "--epochs", "1", "--batch-size", "256")
    assert status == 0
    assert ("loss: cross-entropy with label smoothing 0.1, so it cannot go below 0.5003"
            in out)
    assert "(smoothed loss " in out.splitlines()[-1]
    assert "smoothed loss=" in err  # the progress bar's figure too
    status, out, err = _run(capsys, "train", "shallow", "--epochs", "1")
    assert "smoothing" not in out and "smoothed" not in err


def test_default_epochs_reach_the_documented_figures(capsys):
    """README and docs/nn.md quote these runs (seed 0, the model's own epochs)."""
    status, out, _ = _run(capsys, "train", "shallow", "--quiet")
    assert status == 0
    accuracy = float(out.split("test accuracy: ")[1].split("%")[0])
    assert accuracy >= 95.0


def test_a_reader_that_leaves_early_gives_no_traceback():
    """`chainrule explain ... | head -1`: the pipe closes before the output is written."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "chainrule", "explain", "x^2 - 3*x - 2",
                             "--at", "x=3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # long before the command has imported anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
