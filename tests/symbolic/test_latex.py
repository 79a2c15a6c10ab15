"""LaTeX that a real TeX parser reads: matplotlib's mathtext parses the LaTeX of
random expressions over every primitive and of their derivatives."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from chainrule import symbolic as sym
from chainrule.symbolic import parse
from tests.symbolic.test_round_trip import any_expression

mathtext = pytest.importorskip("matplotlib.mathtext")
_PARSER = mathtext.MathTextParser("path")


def assert_tex(expr: sym.Expr) -> str:
    text = sym.latex(expr)
    try:
        _PARSER.parse(f"${text}$")
    except ValueError as err:  # mathtext's parse errors are ValueErrors
        raise AssertionError(f"invalid TeX for {expr}: {text}\n{err}") from None
    return text


@settings(max_examples=150)
@given(any_expression)
def test_latex_of_random_expressions_and_derivatives_parses(e):
    assert_tex(e)
    for make in (lambda: sym.diff(e, "x"), lambda: sym.diff(e, "x", 2, simplify=False),
                 lambda: e ** 2, lambda: e ** e):
        try:
            d = make()
        except sym.SymbolicError:
            continue
        if sym.tree_size(d) <= 5_000:
            assert_tex(d)


@pytest.mark.parametrize("text, tex", [
    ("exp(x)**2", "\\left(e^{x}\\right)^{2}"),
    ("exp(x)**exp(y)", "\\left(e^{x}\\right)^{e^{y}}"),
    ("exp(2)", "e^{2}"),
    ("1e-05**x", "\\left(10^{-5}\\right)^{x}"),
    ("2.5e-300**x", "\\left(2.5 \\cdot 10^{-300}\\right)^{x}"),
    ("(1/2)**x", "\\left(\\frac{1}{2}\\right)^{x}"),
    ("where(x > 0, x, 2)", "\\left(x \\text{ if } x > 0 \\text{ else } 2\\right)"),
    ("(x > 0) & (y > 0) | logical_not(x)",
     "x > 0 \\wedge y > 0 \\vee \\neg\\left(x\\right)"),
    ("theta_max + x_1_2 + _z + alpha_beta",
     "\\theta_{\\mathit{max}} + x_{\\mathit{1\\_2}} + \\mathit{\\_z} + \\alpha_{\\beta}"),
])
def test_latex_forms(text, tex):
    e = parse(text)
    assert assert_tex(e) == tex


def test_pi_is_written_as_pi():
    assert sym.latex(sym.constant(math.pi) * sym.symbol("x")) == "\\pi x"
