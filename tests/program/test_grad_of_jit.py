"""grad(jit(f)): the compiled program runs as one primitive whose reverse rule is the
jitted VJP program; the same numbers as grad(f), to any order, without running f."""

from __future__ import annotations

import numpy as np

import chainrule as cr

X = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
W = np.linspace(0.2, 1.1, 12).reshape(3, 4)


def _counted():
    calls = []

    def f(x, w):
        calls.append(1)
        return cr.sum(cr.tanh(x @ w) ** 2)

    return f, calls


def test_gradient_equals_eager_and_does_not_rerun_the_function():
    f, calls = _counted()
    jf = cr.jit(f)
    expected = cr.grad(f, argnums=(0, 1))(X, W)
    got = cr.grad(jf, argnums=(0, 1))(X, W)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    calls.clear()
    again = cr.grad(jf, argnums=(0, 1))(2 * X, W)
    assert calls == []  # the forward and VJP programs ran, not f
    for a, b in zip(again, cr.grad(f, argnums=(0, 1))(2 * X, W)):
        np.testing.assert_array_equal(a, b)


def test_second_order_and_backward_on_tensors():
    f, _ = _counted()
    jf = cr.jit(f)
    np.testing.assert_array_equal(cr.hessian(lambda w: jf(X, w))(W),
                                  cr.hessian(lambda w: f(X, w))(W))
    hvp = cr.grad(lambda w: cr.sum(cr.grad(lambda v: jf(X, v))(w) * W))(W)
    np.testing.assert_array_equal(hvp, cr.grad(lambda w: cr.sum(
        cr.grad(lambda v: f(X, v))(w) * W))(W))
    t = cr.tensor(W, requires_grad=True)
    jf(X, t).backward()
    np.testing.assert_array_equal(np.asarray(t.grad), cr.grad(f, argnums=1)(X, W))


def test_pytree_parameters_and_other_transforms():
    def loss(p, x):
        return cr.sum(cr.sin(x @ p["w"]) * p["b"])

    params = {"w": W, "b": np.linspace(0.1, 0.4, 4)}
    jl = cr.jit(loss)
    got, expected = cr.grad(jl)(params, X), cr.grad(loss)(params, X)
    for k in params:
        np.testing.assert_array_equal(got[k], expected[k])
    # forward mode runs f inline on its duals: the same tangent
    tangent = cr.jvp(lambda w: jl({"w": w, "b": params["b"]}, X), (W,), (np.ones_like(W),))
    expected_t = cr.jvp(lambda w: loss({"w": w, "b": params["b"]}, X), (W,),
                        (np.ones_like(W),))
    assert tangent[1] == expected_t[1]


def test_several_outputs_run_inline():
    jf = cr.jit(lambda x: (cr.sin(x), cr.cos(x)))
    g = cr.grad(lambda x: cr.sum(jf(x)[0] * jf(x)[1]))(X)
    np.testing.assert_array_equal(g, cr.grad(lambda x: cr.sum(cr.sin(x) * cr.cos(x)))(X))
    assert jf.traces == 1  # traced once to learn its outputs (a tuple): then inline


def test_random_draws_run_inline_so_the_gradient_sees_the_forward_mask():
    drop = cr.jit(lambda w: cr.sum(cr.nn.functional.dropout(w, 0.5) * w))
    cr.random.seed(4)
    got = cr.grad(drop)(W)
    cr.random.seed(4)
    expected = cr.grad(lambda w: cr.sum(cr.nn.functional.dropout(w, 0.5) * w))(W)
    np.testing.assert_array_equal(got, expected)
