"""The command line, run as a user runs it: a subprocess, output and exit status."""

import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True,
                          text=True, timeout=120)


def test_demo_prints_the_seed_example():
    result = run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "f(3)  = -2" in out
    assert "reverse mode     f'(3) = 3" in out
    assert "grad of grad     f''(3) = 2" in out
    assert "square(v1)" in out or "= square" in out


def test_unknown_command_fails():
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


@pytest.mark.parametrize("flag", ["--help", "demo --help"])
def test_help(flag):
    result = run(*flag.split())
    assert result.returncode == 0 and "usage" in result.stdout
