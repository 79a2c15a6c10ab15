"""to_sympy / from_sympy: values survive both directions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

from chainrule import symbolic as sym
from chainrule.symbolic import parse
from tests.symbolic.corpus import ALL_CASES, assert_close, sympy_value

X, Y = sympy.symbols("x y", real=True)


def test_to_sympy_forms():
    assert sym.to_sympy(parse("x**2 - 3*x - 2")) == X ** 2 - 3 * X - 2
    assert sym.to_sympy(parse("1/2*x")) == X / 2
    assert sym.to_sympy(parse("relu(x)")) == sympy.Max(X, 0)
    assert sym.to_sympy(parse("where(x > 0, x, -x)")) == sympy.Piecewise((X, X > 0), (-X, True))
    assert sym.to_sympy(parse("(x > y)*2")) == 2 * sympy.Piecewise((1, X > Y), (0, True))
    assert sym.to_sympy(parse("sin(x)")) == sympy.sin(X)


@pytest.mark.parametrize("index", range(0, len(ALL_CASES), 3), ids=lambda i: ALL_CASES[i].text)
def test_round_trip_through_sympy_keeps_the_value(index):
    case = ALL_CASES[index]
    back = sym.from_sympy(sym.to_sympy(case.expr))
    names = case.variables
    for point in case.sample(np.random.default_rng(index)):
        at = dict(zip(names, point))
        assert_close(sym.evaluate(back, at), sym.evaluate(case.expr, at), case.text, rtol=1e-12)


def test_from_sympy_forms():
    assert str(sym.from_sympy(sympy.Max(X, Y, 0))) == "maximum(maximum(0, x), y)"
    assert sym.from_sympy(sympy.sqrt(X)) is parse("sqrt(x)")
    assert sym.from_sympy(sympy.Rational(3, 4) * X).evaluate(x=2.0) == 1.5
    assert sym.from_sympy(sympy.log(X, 2)).evaluate(x=8.0) == pytest.approx(3.0)
    assert sym.from_sympy(sympy.pi).value == math.pi
    assert sym.from_sympy(sympy.E * X).evaluate(x=1.0) == pytest.approx(math.e)
    assert sym.from_sympy(sympy.oo).value == math.inf
    pw = sym.from_sympy(sympy.Piecewise((X, X > 1), (X ** 2, X > 0), (0, True)))
    assert [pw.evaluate(x=v) for v in (2.0, 0.5, -1.0)] == [2.0, 0.25, 0.0]
    assert sym.from_sympy(sympy.And(X > 0, Y < 1)).evaluate(x=1.0, y=0.0) == 1.0
    assert sym.from_sympy(2) is sym.constant(2)


def test_from_sympy_errors():
    with pytest.raises(sym.SymbolicError, match="no chainrule primitive for SymPy's gamma"):
        sym.from_sympy(sympy.gamma(X))
    with pytest.raises(sym.SymbolicError, match="not real"):
        sym.from_sympy(sympy.I * X)
    with pytest.raises(sympy.SympifyError):
        sym.from_sympy("x + 1")  # text goes through parse, not SymPy's parser


def test_derivative_of_a_sympy_expression():
    f = sympy.exp(-X ** 2 / 2) * sympy.sin(X)
    ours = sym.diff(sym.from_sympy(f), "x")
    for v in (0.3, 1.7):
        assert_close(sym.evaluate(ours, x=v), sympy_value(sympy.diff(f, X), ["x"], (v,)), "d/dx")
