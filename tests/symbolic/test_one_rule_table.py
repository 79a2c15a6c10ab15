"""The symbolic engine reads the primitive table's rules: against chainrule's own
reverse and forward modes, kink conventions, and user-defined primitives."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import symbolic as sym
from tests.symbolic.corpus import ALL_CASES, assert_close, run_with_ops

x, y = sym.symbols("x y")


@pytest.mark.parametrize("index", range(0, len(ALL_CASES), 2), ids=lambda i: ALL_CASES[i].text)
def test_symbolic_gradient_matches_reverse_mode_at_points(index):
    case = ALL_CASES[index]
    expr, names = case.expr, case.variables

    def f(*values):
        return run_with_ops(expr, dict(zip(names, values)))

    grad_f = cr.grad(f, argnums=tuple(range(len(names))))
    ours = sym.gradient(expr, names)
    ours_reverse = sym.gradient(expr, names, mode="reverse")
    for point in case.sample(np.random.default_rng(100 + index), n=2):
        at = dict(zip(names, point))
        expected = grad_f(*point)
        for i, name in enumerate(names):
            assert_close(sym.evaluate(ours[i], at), float(expected[i]),
                         f"d/d{name} {case.text} at {at}")
            assert_close(sym.evaluate(ours_reverse[i], at), float(expected[i]),
                         f"reverse d/d{name} {case.text} at {at}")


@pytest.mark.parametrize("text", ["x**2 - 3*x - 2", "sin(x)*x**2", "exp(x)/(1 + x**2)",
                                  "x**3*y + y**2", "log(x**2 + 1)*y"])
def test_forward_and_reverse_sweeps_give_the_same_expression(text):
    forward = sym.gradient(text, "x y")
    reverse = sym.gradient(text, "x y", mode="reverse")
    assert all(f is r for f, r in zip(forward, reverse))


def test_reverse_mode_engine_runs_on_symbols():
    # cr.grad lifts a symbol into a tensor; its sweep runs the VJP rules on expressions
    g = cr.grad(lambda t: cr.sin(t) * t ** 2)(x)
    assert isinstance(g, sym.Expr)
    assert sym.simplify(g) is sym.diff("sin(x)*x**2", "x")
    h = cr.grad(cr.grad(lambda t: t ** 3 + cr.exp(t)))(x)
    assert str(sym.simplify(h)) == "6.0*x + exp(x)"  # tensors keep the exponent as 3.0
    assert sym.evaluate(h, x=0.7) == pytest.approx(sym.evaluate(sym.diff("x**3 + exp(x)",
                                                                         "x", 2), x=0.7))


def test_forward_mode_engine_runs_on_symbols():
    out, tangent = cr.jvp(lambda t: cr.tanh(t) * t, (x,), (1.0,))
    assert out is cr.tanh(x) * x
    assert sym.simplify(tangent) is sym.diff("tanh(x)*x", "x")


@pytest.mark.parametrize("text, at, policy", [
    ("relu(x)", 0.0, None), ("abs(x)", 0.0, None), ("maximum(x, 0)", 0.0, None),
    ("minimum(x, 1)", 1.0, None), ("clip(x, -1, 1)", 1.0, None), ("clip(x, -1, 1)", -1.0, None),
    ("abs(x)", 0.0, "jax"), ("relu(x)", 0.0, "pytorch"), ("clip(x, -1, 1)", 1.0, "pytorch"),
    ("maximum(x, 0)", 0.0, "pytorch"),
])
def test_kink_conventions_are_the_table_s(text, at, policy):
    expr = sym.parse(text)

    def derivatives():
        symbolic = sym.evaluate(sym.diff(expr, "x"), x=at)
        reverse = float(cr.grad(lambda t: run_with_ops(expr, {"x": t}))(at))
        return symbolic, reverse

    if policy is None:
        symbolic, reverse = derivatives()
    else:
        with cr.subgradient_policy(policy):
            symbolic, reverse = derivatives()
    assert symbolic == reverse


def test_kinked_derivatives_print_their_convention():
    assert str(sym.diff("relu(x)", "x")) == "x > 0"
    assert str(sym.diff("abs(x)", "x")) == "sign(x)"
    assert str(sym.diff("maximum(x, 0)", "x")) == "x > 0"  # y is a constant: no tie share
    both = sym.gradient("maximum(x, y)", "x y", mode="reverse")  # both differentiated
    assert [str(g) for g in both] == ["0.5*(x == y) + (x > y)", "0.5*(x == y) + (y > x)"]
    assert [sym.evaluate(g, x=1.0, y=1.0) for g in both] == [0.5, 0.5]
    with cr.subgradient_policy("jax"):
        assert str(sym.diff("abs(x)", "x")) == "(x == 0) + sign(x)"


def test_a_user_primitive_is_differentiated_by_its_own_rule():
    cube = cr.primitive(lambda v: v ** 3, name="cube_sym")
    cube.defjvp(lambda dx, out, v: dx * 3 * v ** 2)
    cube.defvjp(lambda g, out, v: g * 3 * v ** 2)
    e = cube(cr.sin(x))
    assert str(e) == "cube_sym(sin(x))"
    assert str(sym.diff(e, "x")) == "3*cos(x)*sin(x)**2"
    assert sym.gradient(e, "x", mode="reverse")[0] is sym.diff(e, "x")
    assert sym.evaluate(e, x=0.5) == pytest.approx(np.sin(0.5) ** 3)
    cube.defjvp(lambda dx, out, v: dx * 3 * out / v)  # a new rule: diff follows it
    assert str(sym.diff(e, "x")) == "3*cos(x)*cube_sym(sin(x))/sin(x)"


def test_missing_or_failing_rules_are_clear_errors():
    no_rules = cr.primitive(np.cbrt, name="no_rules_sym")
    with pytest.raises(TypeError, match="no JVP rule"):
        sym.diff(no_rules(x), "x")
    raw = cr.primitive(np.tan, name="math_rule_sym")
    raw.defjvp(lambda dx, out, v: dx / math.cos(v) ** 2)  # needs a number: not for expressions
    with pytest.raises(sym.SymbolicError, match="could not run on symbolic expressions"):
        sym.diff(raw(x), "x")


def test_non_scalar_operations_are_refused():
    with pytest.raises(TypeError, match="not a scalar elementwise operation"):
        cr.sum(x)
    with pytest.raises(TypeError, match="cannot mix a symbolic expression"):
        x + cr.tensor(1.0)
    with pytest.raises(TypeError):
        x + "y"


def test_bad_arguments_to_diff():
    with pytest.raises(sym.SymbolicError, match="with respect to a variable"):
        sym.diff("x**2", "sin(x)")
    with pytest.raises(sym.SymbolicError, match="non-negative integer"):
        sym.diff("x**2", "x", -1)
    with pytest.raises(sym.SymbolicError, match="non-negative integer"):
        sym.diff("x**2", "x", 1.5)
    with pytest.raises(sym.SymbolicError, match="mode must be"):
        sym.gradient("x", "x", mode="sideways")
    with pytest.raises(sym.SymbolicError, match="no variables"):
        sym.gradient("x", [])
    assert sym.diff("x**2", "x", 0) is sym.parse("x**2")
    assert sym.diff("y**2", "x") is sym.constant(0)
