"""The expression DAG: hash-consing, immutability, sizes, expression swell, CSE,
and traversals that never recurse."""

from __future__ import annotations

import copy
import gc
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import symbolic as sym
from chainrule.symbolic import expr as expr_module
from chainrule.symbolic import parse
from tests.symbolic.corpus import run_with_ops

x, y = sym.symbols("x y")


def test_equal_expressions_are_one_node():
    a = parse("sin(x)*cos(x) + sin(x)")
    assert a.args[0].args[0] is a.args[1]
    assert parse("sin(x)") is cr.sin(x) is np.sin(x)
    assert sym.constant(2) is parse("2") and sym.constant(2.0) is not sym.constant(2)
    assert sym.constant(0.0) is not sym.constant(-0.0)
    assert sym.constant(float("nan")) is sym.constant(float("nan"))


def test_truth_is_structural_equality():
    assert x == x and not (x == y) and x != y
    assert parse("x + 1") == x + 1
    assert x in [y, x] and [y, x].index(x) == 1
    assert {x: 1, y: 2}[x] == 1
    assert sym.constant(2) == 2 and bool(sym.constant(0)) is False
    with pytest.raises(TypeError, match="truth value"):
        bool(x > 0)
    with pytest.raises(TypeError, match="truth value"):
        sorted([x, y])  # use walk.sort_key for a structural order
    assert (x == None) is False  # noqa: E711 - a non-number compares unequal


def test_expressions_are_immutable_and_copy_to_themselves():
    e = x + 1
    with pytest.raises(AttributeError, match="immutable"):
        e.args = ()
    with pytest.raises(TypeError, match="create expressions"):
        sym.Expr()
    assert copy.copy(e) is e and copy.deepcopy([e])[0] is e
    assert pickle.loads(pickle.dumps(e)) is e


def test_unused_nodes_are_freed():
    gc.collect()
    before = len(expr_module._table)
    e = x
    for i in range(1000):
        e = cr.sin(e) + i
    assert len(expr_module._table) >= before + 2000
    del e
    gc.collect()
    assert len(expr_module._table) <= before + 5


def test_sizes():
    e = parse("sin(x)*sin(x) + sin(x)")
    assert sym.tree_size(e) == 8 and sym.dag_size(e) == 4 and sym.depth(e) == 3
    assert sym.tree_size(x) == 1 and sym.dag_size([x, y, x]) == 2
    assert e.free_symbols == {"x"} and parse("x*y + 2").free_symbols == {"x", "y"}


def test_expression_swell_tree_explodes_dag_stays_small():
    f = parse("exp(sin(x))")
    sizes = []
    for n in range(1, 11):
        d = sym.diff(f, "x", n, simplify=False)
        sizes.append((sym.tree_size(d), sym.dag_size(d)))
    trees = [t for t, _ in sizes]
    dags = [d for _, d in sizes]
    assert all(b / a > 3 for a, b in zip(trees[4:], trees[5:]))  # grows by >3x per order
    assert trees[-1] > 1_000_000
    assert dags[-1] < 200 and all(b - a < 40 for a, b in zip(dags, dags[1:]))
    # CSE turns the 10th derivative into straight-line code as long as its DAG
    assignments, reduced = sym.cse(d, min_uses=1)
    assert len(assignments) < sym.dag_size(d)


def test_cse():
    e = parse("sin(x)**2 + sin(x)*cos(x)")
    assignments, reduced = sym.cse(e)
    assert [(str(t), str(v)) for t, v in assignments] == [("t0", "sin(x)")]
    assert str(reduced) == "t0**2 + t0*cos(x)"
    # substituting the assignments back gives the expression
    back = reduced
    for temp, value in reversed(assignments):
        back = sym.subs(back, {temp: value})
    assert back is e
    # temporaries avoid the expression's own names; several outputs share temporaries
    assignments, reduced = sym.cse([parse("exp(t0)*exp(t0)"), parse("exp(t0) + 1")])
    assert str(assignments[0][0]) == "t1" and len(reduced) == 2
    with pytest.raises(sym.SymbolicError, match="min_uses"):
        sym.cse(e, min_uses=0)


def test_cse_of_a_derivative_evaluates_like_it():
    d = sym.diff(parse("sigmoid(tanh(x)*x)"), "x", 3, simplify=False)
    assignments, reduced = sym.cse(d)
    values = {"x": 0.3}
    for temp, value in assignments:
        values[temp.name] = sym.evaluate(value, values)
    assert sym.evaluate(reduced, values) == pytest.approx(sym.evaluate(d, x=0.3), rel=1e-12)


def test_deep_expressions_never_recurse():
    e = x
    for _ in range(10_000):  # ten times Python's recursion limit
        e = cr.sin(e)
    assert sym.depth(e) == 10_000
    d = sym.diff(e, "x", simplify=False)
    assert sym.dag_size(d) < 4 * 10_000
    assert 0 < sym.evaluate(d, x=0.1) < 1
    shallower = e
    for _ in range(7_000):
        shallower = shallower.args[0]
    s = sym.simplify(sym.diff(shallower, "x", simplify=False))
    assert sym.depth(s) >= 3_000 and 0 < sym.evaluate(s, x=0.1) < 1
    assert len(str(e)) == 10_000 * 5 + 1
    with pytest.raises(sym.SymbolicError, match="levels deep"):
        sym.tree_text(e)
    assert sym.tree_text(cr.sin(cr.sin(x)), max_depth=2).count("\n") == 2
    long_sum = sym.parse("+".join(["x"] * 20_000))
    assert long_sum.args[1] is x and sym.simplify(long_sum) is 20_000 * x


def test_a_ten_thousand_node_dag_is_differentiated():
    rng = np.random.default_rng(0)
    nodes = [x, y, sym.constant(0.5)]
    # operations that keep values in [-1, 1], so the oracle below is well conditioned
    ops = [lambda a, b: cr.tanh(a + b), lambda a, b: a * b, lambda a, b: cr.sin(a) * b,
           lambda a, b: cr.cos(a - b)]
    while len(nodes) < 10_000:
        a = nodes[-1 - rng.integers(0, min(30, len(nodes)))]
        b = nodes[rng.integers(0, len(nodes))]
        nodes.append(ops[rng.integers(0, len(ops))](a, b))
    e = nodes[-1]
    assert sym.dag_size(e) > 5_000 and sym.tree_size(e) > 10 ** 15
    d = sym.diff(e, "x", simplify=False)
    reverse = cr.grad(lambda a: run_with_ops(e, {"x": a, "y": 0.2}))(0.3)
    assert sym.evaluate(d, x=0.3, y=0.2) == pytest.approx(float(reverse), rel=1e-9, abs=1e-12)


def test_subs():
    e = parse("x**2 + y")
    assert str(sym.subs(e, x=3)) == "9 + y"
    assert sym.subs(e, {"y": "sin(x)"}) is x ** 2 + cr.sin(x)
    assert sym.subs(e, {x ** 2: y}) is y + y
    assert sym.subs("x + 1", x=sym.constant(1)) is sym.constant(2)
