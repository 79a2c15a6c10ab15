"""Graph drawings: DOT text always; SVG and PNG through Graphviz where installed."""

import re
import shutil

import pytest

import chainrule as cr
from chainrule.explainer import render_dot


def seed(x):
    return x**2 - 3 * x - 2


def test_dot_of_function_names_operations_values_and_adjoints():
    dot = cr.to_dot(seed, 3.0)
    assert dot.startswith("digraph chainrule {") and dot.rstrip().endswith("}")
    assert 'v1 = square\\n= 9\\nscalar\\nadjoint 1' in dot
    assert "x\\n= 3\\nscalar\\ngrad 3" in dot
    assert dot.count("->") == 7  # x->v1, 3->v2, x->v2, v1->v3, v2->v3, v3->v4, 2->v4


def test_dot_of_tensor_shows_leaf_gradients_after_backward():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = cr.sum(w * w)
    loss.backward(retain_graph=True)  # a freed graph cannot be drawn
    dot = cr.to_dot(loss)
    assert "sum" in dot and "multiply" in dot and "grad [2., 4.]" in dot


def test_render_dot_text(tmp_path):
    path = render_dot(cr.to_dot(seed, 3.0), tmp_path / "g.dot")
    assert path.read_text().startswith("digraph")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<svg"), (".png", b"\x89PNG")])
def test_render_images(tmp_path, suffix, magic):
    path = render_dot(cr.to_dot(seed, 3.0), tmp_path / f"g{suffix}")
    data = path.read_bytes()
    assert magic in data[:400] and len(data) > 1000


def test_render_errors(tmp_path):
    with pytest.raises(ValueError, match="unsupported output"):
        render_dot("digraph {}", tmp_path / "g.jpg")
    with pytest.raises(TypeError, match="expected a tensor or a function"):
        cr.to_dot(3.0)


def _edges(dot):
    """(name of the source leaf or node, target node, edge label) for every edge."""
    names = dict(re.findall(r'^\s*((?:leaf|const_)\w+) \[label="([^"\\]+)', dot, re.M))
    return [(names.get(a, a), b, label) for a, b, label in
            re.findall(r'^\s*(\w+) -> (\w+)(?: \[label="(\w*)"\])?;', dot, re.M)]


@pytest.mark.parametrize("op", [lambda a, b: a - b, lambda a, b: a / b, cr.power, cr.arctan2])
def test_edges_say_which_operand_they_are(op):
    xy = cr.to_dot(lambda x, y: op(x, y), 1.5, 2.5)
    yx = cr.to_dot(lambda x, y: op(y, x), 1.5, 2.5)
    assert sorted(_edges(xy)) == [("x", "v1", "a"), ("y", "v1", "b")]
    assert sorted(_edges(yx)) == [("x", "v1", "b"), ("y", "v1", "a")]
    assert "(a, b)" in xy  # the box names its operands in order
    assert xy != yx


def test_operand_labels_on_constants_and_repeated_inputs():
    dot = cr.to_dot(lambda x: 2.0 - x * x, 3.0)
    edges = _edges(dot)
    assert edges.count(("x", "v1", "a")) == 1 and edges.count(("x", "v1", "b")) == 1
    assert ("2", "v2", "a") in edges and ("v1", "v2", "b") in edges
    unary = _edges(cr.to_dot(lambda x: cr.sin(x), 1.0))
    assert unary == [("x", "v1", "")]  # one operand: nothing to tell apart


def test_tensor_graph_labels_operands_too():
    x = cr.tensor(1.0, requires_grad=True)
    y = cr.tensor(2.0, requires_grad=True)
    dot = cr.to_dot(y / x)
    assert [label for _, _, label in _edges(dot)] == ["a", "b"]
    assert "divide(a, b)" in dot
