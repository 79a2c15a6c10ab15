"""Pytrees: flatten and unflatten, and every transform on structured arguments and results."""

from collections import namedtuple

import numpy as np
import pytest

import chainrule as cr
from chainrule import pytree

Pair = namedtuple("Pair", "first second")


def test_flatten_unflatten_round_trip():
    tree = {"w": [np.ones(2), (3.0, None)], "b": Pair(1.0, {"z": 2.0})}
    leaves, structure = pytree.flatten(tree)
    assert len(leaves) == structure.num_leaves == 4
    assert leaves[:2] == [1.0, 2.0] and leaves[3] == 3.0  # keys sorted: b before w
    rebuilt = pytree.unflatten(structure, leaves)
    assert rebuilt["w"][1] == (3.0, None) and isinstance(rebuilt["b"], Pair)
    np.testing.assert_array_equal(rebuilt["w"][0], np.ones(2))
    assert pytree.flatten(rebuilt)[1] == structure


def test_dict_order_does_not_change_the_structure():
    a = pytree.flatten({"x": 1.0, "y": 2.0})
    b = pytree.flatten({"y": 2.0, "x": 1.0})
    assert a == b


def test_none_has_no_leaves_and_lists_differ_from_tuples():
    assert pytree.flatten(None)[0] == []
    assert pytree.flatten([1.0])[1] != pytree.flatten((1.0,))[1]
    assert repr(pytree.flatten({"a": [1.0, None]})[1]) == "TreeDef({'a': [*, None]})"


def test_tree_map_and_paths():
    doubled = pytree.tree_map(lambda v: 2 * v, {"a": (1.0, 2.0), "b": [3.0]})
    assert doubled == {"a": (2.0, 4.0), "b": [6.0]}
    assert pytree.leaf_paths(pytree.flatten({"a": (1.0, 2.0), "b": [3.0]})[1]) == [
        "['a'][0]", "['a'][1]", "['b'][0]"]


def test_structure_mismatch_names_the_place():
    structure = pytree.flatten({"w": (1.0, 2.0)})[1]
    with pytest.raises(ValueError, match=r"tangents\['w'\]: expected \(\*, \*\), got \[\*\]"):
        pytree.flatten_up_to(structure, {"w": [1.0]}, "tangents")
    with pytest.raises(ValueError, match=r"expected \{'w': \(\*, \*\)\}, got \{'v'"):
        pytree.flatten_up_to(structure, {"v": (1.0, 2.0)}, "tangents")
    with pytest.raises(ValueError, match="has 2 leaves, got 3"):
        pytree.unflatten(structure, [1.0, 2.0, 3.0])


PARAMS = {"w": np.array([1.0, -2.0, 0.5]), "b": np.array(0.3), "extra": [np.array([2.0])]}


def _loss(p):
    return cr.sum(cr.tanh(p["w"] * p["extra"][0]) + p["b"] * p["w"]) ** 2


def _numeric_grad(f, p, h=1e-6):
    leaves, structure = pytree.flatten(p)
    grads = []
    for i, leaf in enumerate(leaves):
        g = np.zeros_like(leaf)
        for k in range(leaf.size):
            step = np.zeros(leaf.size)
            step[k] = h
            plus = [v + step.reshape(v.shape) if j == i else v for j, v in enumerate(leaves)]
            minus = [v - step.reshape(v.shape) if j == i else v for j, v in enumerate(leaves)]
            g.reshape(-1)[k] = (f(pytree.unflatten(structure, plus)) -
                                f(pytree.unflatten(structure, minus))) / (2 * h)
        grads.append(g)
    return pytree.unflatten(structure, grads)


def _assert_trees_close(actual, expected, rtol=1e-6, atol=1e-8):
    a_leaves, a_tree = pytree.flatten(actual)
    e_leaves, e_tree = pytree.flatten(expected)
    assert a_tree == e_tree
    for a, e in zip(a_leaves, e_leaves):
        assert np.shape(a) == np.shape(e)
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def test_grad_of_a_dict_of_parameters_is_a_dict():
    g = cr.grad(_loss)(PARAMS)
    _assert_trees_close(g, _numeric_grad(_loss, PARAMS))
    value, g2 = cr.value_and_grad(_loss)(PARAMS)
    assert float(value) == pytest.approx(float(_loss(PARAMS)))
    _assert_trees_close(g2, g)


def test_grad_with_several_structured_arguments():
    def f(pair, scale):
        return cr.sum(pair[0] * pair[1]) * scale

    gp, gs = cr.grad(f, argnums=(0, 1))((np.array([1.0, 2.0]), np.array([3.0, 4.0])), 2.0)
    assert isinstance(gp, tuple)
    np.testing.assert_allclose(gp[0], [6.0, 8.0])
    np.testing.assert_allclose(gp[1], [2.0, 4.0])
    assert float(gs) == 11.0


def test_grad_names_an_integer_leaf():
    with pytest.raises(TypeError, match=r"argument 0\['n'\] has dtype int"):
        cr.grad(lambda p: p["x"] * 2.0)({"x": 1.0, "n": 3})


def test_vjp_with_structured_inputs_and_outputs():
    def f(p):
        return {"s": cr.sum(p["a"] * p["b"]), "v": [p["a"] * 2.0]}

    p = {"a": np.array([1.0, 2.0]), "b": np.array([3.0, 5.0])}
    out, vjp_fn = cr.vjp(f, p)
    assert float(out["s"]) == 13.0
    np.testing.assert_allclose(out["v"][0], [2.0, 4.0])
    (g,) = vjp_fn({"s": 1.0, "v": [np.array([1.0, 10.0])]})
    np.testing.assert_allclose(g["a"], [3.0 + 2.0, 5.0 + 20.0])
    np.testing.assert_allclose(g["b"], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"cotangent\['v'\]\[0\] has shape \(3,\), expected"):
        vjp_fn({"s": 1.0, "v": [np.ones(3)]})
    with pytest.raises(ValueError, match=r"vjp: the cotangent: expected \{'s': \*, 'v': \[\*\]\}"):
        vjp_fn({"s": 1.0})


def test_jvp_with_a_dict_of_primals():
    p = {"a": np.array([1.0, 2.0]), "b": 3.0}
    t = {"a": np.array([1.0, 0.0]), "b": 1.0}
    out, dout = cr.jvp(lambda q: {"y": q["a"] * q["b"]}, (p,), (t,))
    np.testing.assert_allclose(out["y"], [3.0, 6.0])
    np.testing.assert_allclose(dout["y"], [1.0 * 3.0 + 1.0 * 1.0, 0.0 + 2.0])


def test_jacobians_and_hessian_of_structured_arguments():
    p = {"w": np.array([0.5, -1.0]), "b": np.array([2.0])}

    def f(q):
        return {"out": cr.sin(q["w"]) * q["b"], "total": cr.sum(q["w"] ** 2) * q["b"][0]}

    jf, jr = cr.jacfwd(f)(p), cr.jacrev(f)(p)
    _assert_trees_close(jf, jr, rtol=1e-12, atol=1e-14)
    assert np.shape(jf["out"]["w"]) == (2, 2) and np.shape(jf["total"]["b"]) == (1,)
    np.testing.assert_allclose(jf["out"]["w"], np.diag(np.cos(p["w"]) * 2.0))
    h = cr.hessian(lambda q: f(q)["total"])(p)
    np.testing.assert_allclose(h["w"]["w"], 2.0 * np.eye(2) * 2.0)
    np.testing.assert_allclose(h["w"]["b"], (2 * p["w"]).reshape(2, 1))
    np.testing.assert_allclose(h["b"]["b"], [[0.0]])
