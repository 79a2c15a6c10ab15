"""Kinks, NaN/inf and the edge of the domain are reported; printed equations are true."""

import ast
import operator

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.explainer import compare, explain

OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
       ast.Div: operator.truediv, ast.USub: operator.neg}


def _number(text):
    """Evaluate a printed chain of numbers (+ - * / and brackets only)."""
    def walk(node):
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.BinOp):
            return OPS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp):
            return OPS[type(node.op)](walk(node.operand))
        raise ValueError(text)
    return walk(ast.parse(text, mode="eval").body)


FUNCTIONS = [
    (lambda x, y: x * y - 2 * x + x * x, (3.0, -1.5)),
    (lambda x, y: cr.sin(x * y) + x / y - y * (-2.0), (0.7, -2.0)),
    (lambda x, y: cr.exp(-x) * y**3 - 1.0 / (x + y), (0.3, 1.2)),
]


@pytest.mark.parametrize("f, point", FUNCTIONS)
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_every_printed_sweep_equation_is_true(f, point, mode):
    e = explain(f, *point, mode=mode)
    checked = 0
    for line in e.sweep:
        body = line.split("(now")[0]
        parts = body.split(" = ")
        numeric = [p for p in parts[1:] if not any(c.isalpha() for c in p)]
        if len(numeric) < 2:
            continue
        values = [_number(p) for p in numeric]
        assert values == pytest.approx([values[-1]] * len(values), rel=1e-9, abs=1e-12), line
        assert "* -" not in line and "+ -" not in line, line  # negatives bracketed
        checked += 1
    assert checked >= 4
    grads = torch.func.grad(lambda a, b: _torch(f, a, b), argnums=(0, 1))(
        *[torch.tensor(v, dtype=torch.float64) for v in point])
    for name, g in zip(e.derivatives, grads):
        assert float(e.derivatives[name]) == pytest.approx(float(g), rel=1e-12)


def _torch(f, a, b):
    import chainrule  # noqa: F401 - f calls cr.sin etc.: rebuilt with torch ops below
    src = {FUNCTIONS[0][0]: lambda a, b: a * b - 2 * a + a * a,
           FUNCTIONS[1][0]: lambda a, b: torch.sin(a * b) + a / b - b * (-2.0),
           FUNCTIONS[2][0]: lambda a, b: torch.exp(-a) * b**3 - 1.0 / (a + b)}
    return src[f](a, b)


def test_negative_constants_are_bracketed_in_the_trace():
    e = explain(lambda x: x * -2.0 + x**-1.0, 3.0)
    formulas = [s.formula() for s in e.steps]
    assert "x * (-2)" in formulas and "x**(-1)" in formulas


def test_latex_has_every_partial_and_adjoint_and_balanced_braces():
    e = explain(lambda x, y: x * y - cr.sin(x), 1.0, 2.0)
    tex = e.latex()
    assert tex.count("{") == tex.count("}") and tex.count(r"\left") == tex.count(r"\right")
    assert tex.startswith(r"\begin{aligned}") and tex.endswith(r"\end{aligned}")
    def name(n):
        return f"{n[0]}_{{{n[1:]}}}" if n[1:].isdigit() else n

    for s in e.steps:
        for operand in s.partials:
            assert rf"\frac{{\partial {name(s.name)}}}{{\partial {name(operand)}}}" in tex
    for name in e.adjoints:
        tex_name = f"{name[0]}_{{{name[1:]}}}" if name[1:].isdigit() else name
        assert rf"\bar{{{tex_name}}}" in tex
    forward = explain(lambda x, y: x * y - cr.sin(x), 1.0, 2.0, mode="forward").latex()
    assert r"\dot{v_{3}}" in forward and forward.count("{") == forward.count("}")


def test_kinks_are_reported_with_the_subgradient_taken():
    e = explain(lambda x: cr.abs(x) + cr.relu(x) + cr.maximum(x, 0.0), 0.0)
    assert e.usable and float(e.derivatives["x"]) == 0.0
    assert len(e.kinks) == 3
    assert "abs" in e.kinks[0] and "subdifferential [-1, 1]" in e.kinks[0]
    assert "relu" in e.kinks[1] and "[0, 1]" in e.kinks[1]
    assert "maximum" in e.kinks[2] and "chainrule takes 0 " in e.kinks[2]
    assert "Kinks" in e.text() and "Kinks" in e.latex() and "Kinks" in e.markdown()
    assert explain(lambda x: cr.abs(x), 1.0).kinks == []


def test_max_tie_in_explain_matches_the_engine():
    f = lambda x: cr.max(cr.stack([x, x * 1.0, 2.0 - x]))  # noqa: E731 - three-way at 1
    e = explain(f, 1.0)
    assert float(e.derivatives["x"]) == pytest.approx(float(cr.grad(f)(1.0)))
    assert any("max" in k for k in e.kinks)


@pytest.mark.parametrize("f, x, words", [
    (lambda x: x**x, 0.0, "base 0 and exponent 0"),
    (lambda x: cr.sqrt(x), 0.0, "no finite derivative"),
    (lambda x: cr.log(x), -1.0, "outside the domain"),
])
def test_nan_inf_and_edge_of_domain_are_problems(f, x, words):
    e = explain(f, x)
    assert not e.usable and any(words in p for p in e.problems), e.problems
    assert "PROBLEM" in e.text()
    table = compare(f, x)
    assert not table.usable and "PROBLEM" in str(table)


def test_smooth_point_has_no_problems():
    e = explain(lambda x: x**x, 2.0)
    assert e.usable and e.problems == []
    assert compare(lambda x: x**x, 2.0).usable


def test_compare_array_inputs_per_element():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(2, 3)), 1.5
    table = compare(lambda w, b: cr.sum(cr.tanh(w) * b), w, b)
    assert table.names[:2] == ["w[0, 0]", "w[0, 1]"] and table.names[-1] == "b"
    expected = np.append((1 - np.tanh(w) ** 2).ravel() * b, np.tanh(w).sum())
    for row in table.rows:
        if row.method == "symbolic":
            assert not row.available and "scalar arguments" in row.note
            continue
        np.testing.assert_allclose(row.value, expected, rtol=1e-7)
        assert not row.flagged
    text = str(table)
    assert "by element" in text and "w[1, 2]" in text and "7 inputs" in text


def test_compare_vector_sum_of_squares():
    table = compare(lambda x: cr.sum(x**2), np.array([1.0, 2.0]))
    assert table.usable
    np.testing.assert_array_equal(table.rows[-1].value, [2.0, 4.0])


def test_compare_flags_a_nan_gradient():
    table = compare(lambda x: cr.sum(cr.sqrt(x)), np.array([0.0, 1.0]))
    assert not table.usable
    assert any("not finite" in p for p in table.problems)
    assert table.rows[-1].flagged


def test_to_dot_after_backward_says_what_to_do():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = cr.sum(w * w)
    loss.backward()
    with pytest.raises(RuntimeError, match="to_dot: .*freed.*before backward.*retain_graph"):
        cr.to_dot(loss)
