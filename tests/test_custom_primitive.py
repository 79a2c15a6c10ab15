"""User-defined primitives (cr.primitive + defvjp/defjvp) and the example that shows them."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import chainrule as cr

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "custom_primitive.py"
example = runpy.run_path(str(EXAMPLE))  # its primitives, without running main()
log1pexp = example["log1pexp"]
round_ste = example["round_ste"]


def test_the_example_runs():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"),
                                                        os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                            env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "second derivative at 0 = 0.25" in result.stdout
    assert "straight-through d/dw = [1. 2. 3.]" in result.stdout


def test_log1pexp_is_stable_where_the_formula_is_not():
    x = np.array([-40.0, 0.0, 800.0])
    np.testing.assert_allclose(log1pexp(x), [np.exp(-40.0), np.log(2.0), 800.0], rtol=1e-15)
    assert isinstance(log1pexp(x), np.ndarray)  # plain arrays in, plain arrays out


def test_log1pexp_with_backward_matches_torch_softplus():
    a = np.array([-30.0, -1.0, 0.0, 0.5, 40.0])
    x = cr.tensor(a, requires_grad=True)
    y = log1pexp(x)
    assert y.requires_grad and "log1pexp" in repr(y)
    (y * np.arange(5.0)).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    (torch.nn.functional.softplus(tx) * torch.arange(5.0, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(y.data, torch.nn.functional.softplus(tx).detach().numpy(),
                               rtol=1e-14)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("x0", [-3.0, 0.0, 1.5])
def test_log1pexp_grad_and_grad_of_grad(x0):
    s = 1 / (1 + np.exp(-x0))
    assert cr.grad(log1pexp)(x0) == pytest.approx(s, rel=1e-14)
    assert cr.grad(cr.grad(log1pexp))(x0) == pytest.approx(s * (1 - s), rel=1e-12)
    third = cr.grad(cr.grad(cr.grad(log1pexp)))(x0)
    assert third == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-10, abs=1e-15)


def test_log1pexp_second_order_through_create_graph():
    x = cr.tensor([0.3, -0.7], requires_grad=True)
    cr.sum(log1pexp(x)).backward(create_graph=True)
    g = x.grad
    x.grad = None
    cr.sum(g).backward()
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(x.grad.data, s * (1 - s), rtol=1e-13)


def test_jvp_rule_agrees_with_central_differences_and_the_vjp():
    prim = log1pexp
    x = np.array([-2.0, 0.1, 3.0])
    dx = np.array([0.5, -1.0, 2.0])
    g = np.array([1.0, 2.0, -0.5])
    out = prim(x)
    jvp = prim.jvps[0](dx, out, x)
    h = 1e-6
    np.testing.assert_allclose(jvp, (prim(x + h * dx) - prim(x - h * dx)) / (2 * h), rtol=1e-8)
    vjp = prim.vjps[0](g, out, x)
    assert np.dot(g, jvp) == pytest.approx(np.dot(vjp, dx), rel=1e-14)


def test_straight_through_estimator():
    w = cr.tensor([0.4, 1.6, -2.3], requires_grad=True)
    q = round_ste(w)
    np.testing.assert_array_equal(q.data, [0.0, 2.0, -2.0])
    (q * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0, 3.0])  # not round's true 0
    assert cr.grad(lambda w: cr.sum(round_ste(w) ** 2))(np.array([0.4, 1.6])).tolist() == [
        0.0, 4.0]


def test_two_arguments_one_without_a_derivative_and_keyword_params():
    def impl(x, table, power=1):
        return table[np.clip(np.round(x).astype(int), 0, len(table) - 1)] * x**power

    lookup = cr.primitive(impl, name="scaled_lookup")
    # d/dx is table[k] * power * x**(power-1) (the index is piecewise constant);
    # None: no derivative with respect to the table
    lookup.defvjp(lambda g, out, x, table, power=1: g * out * power / x, None)
    table = np.array([10.0, 20.0, 30.0])
    x = cr.tensor([0.9, 2.2], requires_grad=True)
    y = lookup(x, table, power=2)
    np.testing.assert_allclose(y.data, [20.0 * 0.81, 30.0 * 4.84])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [20.0 * 2 * 0.9, 30.0 * 2 * 2.2])
    assert cr.grad(lambda x: lookup(x, table, power=3))(1.0) == pytest.approx(60.0)


def test_a_primitive_made_from_a_named_function_takes_its_name():
    def cube(x):
        return x**3

    prim = cr.primitive(cube)
    prim.defvjp(lambda g, out, x: g * 3.0 * x**2)
    assert prim.name == "cube"
    assert cr.grad(cr.grad(prim))(2.0) == 12.0  # the rule is differentiated again


def test_a_primitive_without_rules_refuses_to_be_differentiated():
    twice = cr.primitive(lambda x: 2.0 * x, name="twice_no_rules")
    np.testing.assert_array_equal(twice(np.array([1.0, 2.0])), [2.0, 4.0])  # values work
    with pytest.raises(TypeError, match="'twice_no_rules' has no VJP rule.*defvjp"):
        cr.grad(lambda x: twice(x) + x)(1.0)  # never a silent zero
    x = cr.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="twice_no_rules"):
        twice(x).backward()
    twice.defvjp(None)  # stated: no derivative
    assert cr.grad(lambda x: twice(x) + x)(1.0) == 1.0


def test_fewer_rules_than_arguments_is_named():
    mul = cr.primitive(lambda x, y: x * y, name="mul_one_rule")
    mul.defvjp(lambda g, out, x, y: g * y)
    x, y = cr.tensor(2.0, requires_grad=True), cr.tensor(3.0, requires_grad=True)
    with pytest.raises(TypeError, match="mul_one_rule: no reverse rule for argument 1"):
        mul(x, y).backward()


def test_gradcheck_catches_a_wrong_rule_and_names_the_element():
    wrong = cr.primitive(lambda x: x**3, name="wrong_cube")
    wrong.defvjp(lambda g, out, x: g * 2.0 * x**2)  # should be 3 x^2
    assert cr.gradcheck(log1pexp, np.array([-1.0, 0.5]))
    with pytest.raises(cr.GradcheckError,
                       match=r"input 0, output index \(1,\), input index \(1,\): reverse "
                             r"mode gives 8, central differences give 12"):
        cr.gradcheck(wrong, np.array([1.0, 2.0]))
