"""The step-by-step explanation: the seed example's trace, partials, adjoints, tangents."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.explainer import explain


def seed(x):
    return x**2 - 3 * x - 2


def test_seed_reverse_trace_lists_every_intermediate_with_its_adjoint():
    e = explain(seed, 3.0)
    assert [s.formula() for s in e.steps] == ["x**2", "3 * x", "v1 - v2", "v3 - 2"]
    assert [float(s.value) for s in e.steps] == [9.0, 9.0, 0.0, -2.0]
    adjoints = {k: float(v) for k, v in e.adjoints.items()}
    assert adjoints == {"v4": 1.0, "v3": 1.0, "v1": 1.0, "v2": -1.0, "x": 3.0}
    assert float(e.derivatives["x"]) == 3.0
    text = e.text()
    assert "x_bar += v1_bar * dv1/dx = 1 * 6 = 6" in text
    assert "dv4/dx = 3" in text


def test_seed_local_partials_come_from_the_rules():
    e = explain(seed, 3.0)
    partials = {(s.name, k): float(v) for s in e.steps for k, v in s.partials.items()}
    assert partials == {("v1", "x"): 6.0, ("v2", "x"): 3.0, ("v3", "v1"): 1.0,
                        ("v3", "v2"): -1.0, ("v4", "v3"): 1.0}


def test_forward_mode_gives_one_sweep_per_input_and_agrees_with_reverse():
    def f(x, y):
        return cr.sin(x * y) + x / y

    fwd = explain(f, 1.0, 2.0, mode="forward")
    rev = explain(f, 1.0, 2.0, mode="reverse")
    assert fwd.sweep.count("sweep for d/dx: x' = 1, other inputs' = 0") == 1
    for name in ("x", "y"):
        assert float(fwd.derivatives[name]) == pytest.approx(float(rev.derivatives[name]),
                                                             rel=1e-14)
    expected = cr.grad(f, argnums=(0, 1))(1.0, 2.0)
    assert float(rev.derivatives["x"]) == pytest.approx(float(expected[0]), rel=1e-14)
    assert float(rev.derivatives["y"]) == pytest.approx(float(expected[1]), rel=1e-14)


def test_fan_out_accumulates_adjoints():
    e = explain(lambda x: x * x * x, 2.0)
    assert float(e.derivatives["x"]) == 12.0
    # x * x is one step with d/dx = 2x (both operands are x); its product with x adds
    # a second line: x reaches the output along two paths
    assert sum("x_bar +=" in line for line in e.sweep) == 2


def test_formats():
    e = explain(seed, 3.0)
    assert "\\begin{aligned}" in e.render("latex") and "x^{2}" in e.latex()
    assert e.render("markdown").startswith("| value |")
    with pytest.raises(ValueError, match="unknown format 'html'"):
        e.render("html")


def test_array_inputs_in_reverse_mode():
    e = explain(lambda w: cr.sum(w * w), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(e.derivatives["w"], [2.0, 4.0])


def test_bad_input():
    with pytest.raises(ValueError, match="mode must be"):
        explain(seed, 3.0, mode="sideways")
    with pytest.raises(ValueError, match="give the point"):
        explain(seed)
    with pytest.raises(ValueError, match="must return a scalar"):
        explain(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match="does not depend"):
        explain(lambda x: cr.tensor(1.0), 3.0)
    with pytest.raises(ValueError, match="scalar inputs"):
        explain(lambda w: cr.sum(w), np.ones(2), mode="forward")
