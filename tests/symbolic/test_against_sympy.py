"""Symbolic derivatives against SymPy: by value at seeded random points for the
textbook corpus, one case per primitive and hypothesis-generated expressions
(first and second derivatives), and symbolically where SymPy can decide it."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import symbolic as sym
from chainrule.symbolic.names import PRIMITIVES
from tests.symbolic.corpus import (
    ALL_CASES,
    PRIMITIVE_CASES,
    TEXTBOOK,
    assert_close,
    central_difference,
    expressions,
    sympy_value,
)


def test_every_parser_primitive_has_a_case():
    assert set(PRIMITIVE_CASES) == set(PRIMITIVES), "add a case to PRIMITIVE_CASES"
    for name, case in PRIMITIVE_CASES.items():
        used = {n.prim.name for n in sym.walk.postorder([case.expr]) if n.prim is not None}
        assert name in used, f"the case for {name} does not use it: {case.text}"


def test_corpus_is_large_enough():
    assert len(ALL_CASES) >= 120  # with the hypothesis examples below, over 200


@pytest.mark.parametrize("index", range(len(ALL_CASES)),
                         ids=[c.text for c in ALL_CASES])
def test_derivatives_match_sympy_at_points(index):
    case = ALL_CASES[index]
    expr = case.expr
    names = case.variables
    theirs = sym.to_sympy(expr)
    rng = np.random.default_rng(index)
    for var in names:
        s_var = sympy.Symbol(var, real=True)
        first, second = sym.diff(expr, var), sym.diff(expr, var, 2)
        raw = sym.diff(expr, var, simplify=False)
        d1, d2 = sympy.diff(theirs, s_var), sympy.diff(theirs, s_var, 2)
        for point in case.sample(rng):
            at = dict(zip(names, point))
            assert_close(sym.evaluate(expr, at), sympy_value(theirs, names, point),
                         f"value of {case.text} at {at}")
            expected = sympy_value(d1, names, point)
            assert_close(sym.evaluate(first, at), expected, f"d/d{var} {case.text} at {at}")
            assert_close(sym.evaluate(raw, at), expected, f"raw d/d{var} {case.text} at {at}")
            assert_close(sym.evaluate(second, at), sympy_value(d2, names, point),
                         f"d2/d{var}2 {case.text} at {at}", rtol=1e-7)


@pytest.mark.parametrize("text", ["x^2*y + y^3", "sin(x*y)", "x*exp(-x**2 - y**2)",
                                  "log(x**2 + y**2)", "x**y"])
def test_hessian_matches_sympy(text):
    expr = sym.parse(text)
    names = ["x", "y"]
    theirs = sympy.hessian(sym.to_sympy(expr), [sympy.Symbol(n, real=True) for n in names])
    ours = sym.hessian(expr, names)
    for point in [(0.7, 1.3), (1.9, 0.4)]:
        at = dict(zip(names, point))
        for i in range(2):
            for j in range(2):
                assert_close(sym.evaluate(ours[i][j], at), sympy_value(theirs[i, j], names, point),
                             f"H[{i}][{j}] of {text}", rtol=1e-7)


# smooth textbook cases whose difference with SymPy's derivative SymPy simplifies to 0
# (erf's rule holds the float 2/sqrt(pi), which SymPy cannot identify)
_DECIDABLE = [c.text for c in TEXTBOOK[:40] if "log(log" not in c.text and "**x" not in c.text
              and "**sin" not in c.text and "erf" not in c.text]


@pytest.mark.parametrize("text", _DECIDABLE)
def test_derivative_equals_sympys_symbolically(text):
    expr = sym.parse(text)
    ours = sym.to_sympy(sym.diff(expr, "x"))
    theirs = sympy.diff(sym.to_sympy(expr), sympy.Symbol("x", real=True))
    assert sympy.simplify(ours - theirs) == 0


@settings(max_examples=120)
@given(expressions, st.integers(0, 2**32 - 1))
def test_random_expressions_match_sympy_and_differences(expr, seed):
    # a point drawn from a seed, not by hypothesis: hypothesis likes x == y == 1.0,
    # a tie of maximum(x, y), where SymPy's Heaviside(0) = 1/2 is not our convention
    x, y = np.random.default_rng(seed).uniform(0.5, 1.5, size=2)
    names = ["x", "y"]
    point = (x, y)
    at = {"x": x, "y": y}
    theirs = sym.to_sympy(expr)
    f = sym.lambdify(expr, names)
    for i, var in enumerate(names):
        first = sym.diff(expr, var)
        expected = sympy_value(sympy.diff(theirs, sympy.Symbol(var, real=True)), names, point)
        assert_close(sym.evaluate(first, at), expected, f"d/d{var} of {expr} at {at}", rtol=1e-7)
        numeric = central_difference(f, point, i)
        assert_close(sym.evaluate(first, at), numeric, f"d/d{var} of {expr} vs differences",
                     rtol=1e-5, atol=1e-6)
    second = sym.diff(expr, "x", 2)
    expected = sympy_value(sympy.diff(theirs, sympy.Symbol("x", real=True), 2), names, point)
    assert_close(sym.evaluate(second, at), expected, f"d2/dx2 of {expr} at {at}", rtol=1e-6)
