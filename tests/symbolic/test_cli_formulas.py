"""Formulas on the command line: the constants the parser knows, and numbers too
large for float64 refused with exit status 2 instead of a traceback."""

import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("formula", ["e^x", "E**x", "exp(x)*e/exp(1)"])
def test_e_is_eulers_number_on_the_command_line(formula):
    result = run("diff", formula, "--at", "x=1")
    assert result.returncode == 0, result.stderr
    assert "symbolic d/dx: exp(x)" in result.stdout
    assert "2.718281828" in result.stdout


def test_e_cannot_be_given_a_value():
    result = run("diff", "e^x", "--at", "x=1", "--at", "e=2")
    assert result.returncode == 2
    assert "does not use" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["diff", "explain"])
@pytest.mark.parametrize("formula", ["x*10**400", "x + 2**2000*2**2000"])
def test_a_number_too_large_for_float64_exits_2(command, formula):
    result = run(command, formula, "--at", "x=1")
    assert result.returncode == 2, result.stderr
    assert "too large for float64" in result.stderr
    assert "Traceback" not in result.stderr
