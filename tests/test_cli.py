"""The command line, run as a user runs it: a subprocess, output and exit status."""

import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True,
                          text=True, timeout=120)


def test_demo_is_the_tour(tmp_path):
    result = run("demo", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "f(3) = -2" in out
    assert "reverse mode     f'(3) = 3" in out
    assert "grad of grad     f''(3) = 2" in out
    assert "= square(v1)" in out
    for method in ("numerical (central)", "symbolic", "forward mode", "reverse mode"):
        assert method in out
    assert "x_bar += v1_bar * dv1/dx = 1 * 6 = 6" in out
    assert "What each method costs" in out
    for name in ("costs.png", "swell.png", "step_error.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    assert "test accuracy:" in out
    accuracy = float(out.split("test accuracy:")[1].split("%")[0])
    assert accuracy >= 90.0


def test_unknown_command_fails():
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


@pytest.mark.parametrize("flag", ["--help", "demo --help"])
def test_help(flag):
    result = run(*flag.split())
    assert result.returncode == 0 and "usage" in result.stdout


def _rows(stdout):
    """method -> (gradient text, rel error text) from the diff table."""
    rows = {}
    for line in stdout.splitlines():
        for method in ("numerical (central)", "numerical (Richardson)", "symbolic",
                       "forward mode", "reverse mode"):
            if line.strip().startswith(method):
                rows[method] = line.strip()[len(method):].split()
    return rows


def test_diff_seed_example_all_four_methods_give_three():
    result = run("diff", "x**2 - 3*x - 2", "--at", "x=3")
    assert result.returncode == 0, result.stderr
    assert "symbolic d/dx: 2*x - 3" in result.stdout
    rows = _rows(result.stdout)
    assert set(rows) == {"numerical (central)", "numerical (Richardson)", "symbolic",
                         "forward mode", "reverse mode"}
    for method in ("symbolic", "forward mode", "reverse mode"):
        assert rows[method][0] == "3" and float(rows[method][1]) == 0.0, rows[method]
    for method in ("numerical (central)", "numerical (Richardson)"):
        assert float(rows[method][0]) == 3.0
        assert float(rows[method][2]) < 1e-9  # relative error, within the estimate's order
    assert "disagrees" not in result.stdout


def test_diff_two_variables_and_a_kink():
    result = run("diff", "sin(x*y) + x/y", "--at", "x=1", "--at", "y=2")
    assert result.returncode == 0 and "symbolic d/dy: x*cos(x*y) - x/y**2" in result.stdout
    kink = run("diff", "abs(x)", "--at", "x=0")
    assert kink.returncode == 0
    assert "kink: v1 = abs" in kink.stdout and "subdifferential [-1, 1]" in kink.stdout


def test_explain_reverse_lists_adjoints_and_draws_the_graph(tmp_path):
    svg = tmp_path / "seed.svg"
    result = run("explain", "x**2 - 3*x - 2", "--at", "x=3", "--graph", str(svg))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in ("v1 = x**2 = 9", "v2 = 3 * x = 9", "v4 = v3 - 2 = -2",
                 "x_bar += v2_bar * dv2/dx = -1 * 3 = -3", "dv4/dx = 3"):
        assert line in out
    if "graph written" in out:
        data = svg.read_bytes()
        assert b"<svg" in data and b"subtract" in data
    else:  # Graphviz missing: the DOT text is written instead, and said so
        assert (tmp_path / "seed.dot").read_text().startswith("digraph")


def test_explain_forward_markdown_and_latex():
    forward = run("explain", "x*y + sin(x)", "--at", "x=0", "--at", "y=2", "--mode", "forward")
    assert forward.returncode == 0 and "sweep for d/dy: y' = 1" in forward.stdout
    latex = run("explain", "x^2", "--at", "x=3", "--format", "latex")
    assert latex.returncode == 0 and "\\begin{aligned}" in latex.stdout
    markdown = run("explain", "x^2", "--at", "x=3", "--format", "markdown")
    assert markdown.returncode == 0 and "| value | definition |" in markdown.stdout


@pytest.mark.parametrize("args, message", [
    (["diff", "x**2 - 3*x - ", "--at", "x=3"], "position 13"),
    (["diff", "log(x*y)", "--at", "x=1"], "no value for y"),
    (["diff", "log(x)", "--at", "x=-1"], "outside the domain of log"),
    (["diff", "x", "--at", "x=abc"], "is not a number"),
    (["diff", "x", "--at", "x=1", "--at", "z=2"], "does not use"),
    (["explain", "x", "--at", "x=1", "--graph", "/proc/nope/g.svg"], "cannot write"),
    (["explain", "x*x", "--at", "x=1", "--graph", "g.jpg"], "unsupported output"),
])
def test_bad_input_exits_2_with_a_clear_message(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["diff", "explain"])
@pytest.mark.parametrize("expression, at, words", [
    ("x^x", "x=0", "base 0 and exponent 0"),
    ("sqrt(x)", "x=0", "not usable"),
])
def test_unusable_results_exit_1_and_say_why(command, expression, at, words):
    result = run(command, expression, "--at", at)
    assert result.returncode == 1, result.stdout
    assert "PROBLEM" in result.stdout and "not usable" in result.stderr
    assert words in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_explain_reports_a_kink_and_exits_0():
    result = run("explain", "abs(x) + relu(x)", "--at", "x=0")
    assert result.returncode == 0
    assert "Kinks" in result.stdout and "subdifferential [-1, 1]" in result.stdout


@pytest.mark.parametrize("args", [
    ["demo", "--out", "{blocker}/out"],
    ["explain", "x*x", "--at", "x=1", "--graph", "{blocker}/g.svg"],
    ["compare-costs", "--out", "{blocker}/plots", "--max-n", "2"],
])
def test_output_under_a_regular_file_exits_2_before_work(tmp_path, args):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run(*[a.format(blocker=blocker) for a in args])
    assert result.returncode == 2, result.stdout
    assert "cannot write" in result.stderr and "a-file" in result.stderr
    assert "Evaluation trace" not in result.stdout and "f(3)" not in result.stdout
