"""Repeated derivatives stay polynomial-sized: simplify distributes products over
sums (within a budget) so like terms meet, and the 15th derivative of exp(sin(x))
is as small as SymPy's after CSE; every higher derivative still equals SymPy's."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from chainrule import ops
from chainrule import symbolic as sym
from chainrule.symbolic import parse, simplify
from chainrule.symbolic.swell import operations, sympy_operations
from tests.symbolic.corpus import assert_close, sympy_value

X = sympy.Symbol("x", real=True)


def test_the_15th_derivative_of_exp_sin_is_as_small_as_sympys_cse():
    ours = sym.diff("exp(sin(x))", "x", 15)
    theirs = sympy.diff(sympy.exp(sympy.sin(X)), X, 15)
    # the same count for both: SymPy's count_ops over SymPy's cse of each expression
    assert sympy_operations(sym.to_sympy(ours)) <= 2 * sympy_operations(theirs)
    # and our DAG's own operations (one per node that is not a leaf)
    assert operations(ours) <= 2 * sympy_operations(theirs)
    terms = 0
    node = ours
    while node.prim in (ops.add, ops.subtract):
        terms += 1
        node = node.args[0]
    assert terms + 1 == 36  # like terms collected: c * cos^a * sin^b * exp(sin(x))


def test_growth_with_the_order_is_polynomial():
    sizes = [sym.dag_size(sym.diff("exp(sin(x))", "x", n)) for n in (5, 10, 15)]
    assert sizes[2] < 250 and sizes[2] < 3 * sizes[1]  # doubling per order: 37,282 nodes


@pytest.mark.parametrize("text, order", [
    ("exp(sin(x))", 9), ("sin(x)*cos(x)*exp(x)", 7), ("x**3*log(x)", 6), ("tanh(x)", 6),
    ("sigmoid(x)", 5), ("exp(-x**2/2)", 8), ("sqrt(1 + x**2)", 6), ("1/(1 + x**2)", 6),
    ("(x + 1)**5*(x - 2)**3", 9), ("arctan(x)*exp(x)", 6), ("log(cosh(x))", 6),
])
def test_higher_derivatives_equal_sympys(text, order):
    theirs = sym.to_sympy(parse(text))
    rng = np.random.default_rng(order)
    d = parse(text)
    for n in range(1, order + 1):
        d = sym.diff(d, "x")
        expected = sympy.diff(theirs, X, n)
        for point in rng.uniform(0.3, 1.7, size=2):
            assert_close(sym.evaluate(d, x=point), sympy_value(expected, ["x"], (point,)),
                         f"d^{n}/dx^{n} {text} at {point}", rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("text, expected", [
    ("x*(y + 1) - x*y - x", "0"),
    ("exp(x)*(sin(x) + cos(x)) - exp(x)*sin(x)", "cos(x)*exp(x)"),
    ("2*x*(x + 1)*(x - 1) - 2*x**3", "-2*x"),
    ("sin(x)*(cos(x)**2 - sin(x)) + sin(x)**2", "cos(x)**2*sin(x)"),
])
def test_products_of_sums_are_distributed_inside_sums(text, expected):
    assert simplify(parse(text)) is parse(expected)


def test_a_product_alone_is_not_expanded():
    assert str(simplify(parse("x*(y + 1)"))) == "x*(y + 1)"
    assert str(simplify(parse("(x + 1)**2 + 1"))) == "(x + 1)**2 + 1"  # powers of sums stay


def test_distributing_is_bounded():
    # v_i*s + w_i*s, 40 times: 2**40 terms written out, a DAG of 200 nodes
    s = parse("x + 1")
    for i in range(40):
        v, w = sym.symbols(f"v{i} w{i}")
        s = v * s + w * s
    r = simplify(s)
    assert sym.dag_size(r) < 20_000
    values = {name: 1.0 + 0.01 * k for k, name in enumerate(sorted(s.free_symbols))}
    assert_close(sym.evaluate(r, values), sym.evaluate(s, values), "bounded", rtol=1e-12)


def test_large_dags_keep_their_sharing():
    # a shared sum distributed into each of its users would copy it many times over
    from chainrule.symbolic.swell import random_dag

    f = random_dag(2000)
    d = sym.diff(f, "x")
    assert sym.dag_size(d) < 15_000  # 10,654; an unbounded budget gave 49,518
    assert_close(sym.evaluate(d, x=0.3, y=0.7),
                 sym.evaluate(sym.diff(f, "x", simplify=False), x=0.3, y=0.7),
                 "random DAG", rtol=1e-9)
