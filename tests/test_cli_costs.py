"""``chainrule compare-costs``: tables, plots and exit status, run as a user runs it (a
subprocess); option errors call the same entry point in-process (argparse's path
through a subprocess is covered in test_cli_explain_nn)."""

import subprocess
import sys

import pytest

from chainrule.cli import main

image = pytest.importorskip("matplotlib.image")

PLOTS = ("costs.png", "swell.png", "step_error.png")


def run(*args):
    return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True,
                          text=True, timeout=120)


def assert_plots(folder):
    for name in PLOTS:
        path = folder / name
        assert path.exists(), name
        assert path.stat().st_size < 200_000
        pixels = image.imread(path)
        assert pixels.shape[0] > 300 and pixels.std() > 0.05  # an image, and not blank


def cost_rows(stdout):
    lines = stdout.split("Cost of the gradient")[1].split("\n\n")[0].splitlines()[2:]
    return [line.split() for line in lines if line.split() and line.split()[0].isdigit()]


def test_compare_costs_prints_tables_and_writes_plots(tmp_path):
    out = tmp_path / "new" / "folder"  # created with its parents
    result = run("compare-costs", "--out", str(out), "--max-n", "6", "--repeat", "1")
    assert result.returncode == 0, result.stderr
    rows = cost_rows(result.stdout)
    assert [r[0] for r in rows] == ["2", "4", "6"]
    for r in rows:
        n = int(r[0])
        assert (int(r[1]), int(r[3]), int(r[6])) == (2 * n, n, 1)  # central, forward, reverse
        assert (int(r[8]), int(r[9])) == (7 * n, 5 * n)  # symbolic tree and DAG sizes
        assert float(r[11]) < 1e-8  # every method's gradient agrees with reverse mode
    assert "Expression swell" in result.stdout and "Finite-difference error" in result.stdout
    central = [line for line in result.stdout.splitlines() if line.strip().startswith("central ")]
    assert float(central[0].split()[2]) < 1e-9  # the error at the best central step
    assert "plots written" in result.stdout
    assert_plots(out)


@pytest.mark.parametrize("args, message", [
    (["--max-n", "1"], "argument --max-n: expected an integer >= 2, got 1"),
    (["--max-n", "many"], "argument --max-n: 'many' is not an integer"),
    (["--repeat", "0"], "argument --repeat: expected an integer >= 1, got 0"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
])
def test_bad_options_exit_2(capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(["compare-costs", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_unwritable_out_path_exits_2_before_measuring(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run("compare-costs", "--out", str(blocker / "plots"), "--max-n", "2")
    assert result.returncode == 2
    assert "cannot write plots to" in result.stderr and "a-file" in result.stderr
    assert "Cost of the gradient" not in result.stdout
