"""vmap of custom_vjp / custom_jvp functions and checkpointed segments: their rules run
once on the whole stack (batched), not once per example, and give a loop's numbers."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

CALLS = {"fwd": 0, "bwd": 0, "jvp": 0, "fun": 0, "segment": 0}


@cr.custom_vjp
def layer(x, p):
    return cr.tanh(x @ p["w"] + p["b"])


def _layer_fwd(x, p):
    CALLS["fwd"] += 1
    y = layer(x, p)  # the function itself, called plain inside fwd
    return y, (x, p["w"], y)


def _layer_bwd(res, g):
    CALLS["bwd"] += 1
    x, w, y = res
    d = g * (1.0 - y * y)
    return d @ cr.transpose(w), {"w": cr.expand_dims(x, -1) * d, "b": d}


layer.defvjp(_layer_fwd, _layer_bwd)


@cr.custom_jvp
def softplus(x, beta):
    CALLS["fun"] += 1
    return cr.log1p(cr.exp(beta * x)) / beta


def _softplus_jvp(primals, tangents):
    CALLS["jvp"] += 1
    x, beta = primals
    dx, dbeta = tangents
    out = softplus(x, beta)
    s = cr.sigmoid(beta * x)
    return out, s * dx + (x * s / beta - out / beta) * dbeta


softplus.defjvp(_softplus_jvp)


def _reset():
    for k in CALLS:
        CALLS[k] = 0


def _data(n=5):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((n, 3))
    p = {"w": rng.standard_normal((3, 2)) * 0.7, "b": rng.standard_normal(2)}
    return xs, p


def _loss(p, x):
    return cr.sum(layer(x, p) ** 2)


def test_custom_vjp_runs_fwd_and_bwd_once_on_the_stack():
    xs, p = _data()
    _reset()
    np.testing.assert_allclose(cr.vmap(layer, in_axes=(0, None))(xs, p),
                               np.tanh(xs @ p["w"] + p["b"]), rtol=1e-14)
    assert CALLS["fwd"] == 1  # was once per example (5)
    loop = [cr.grad(_loss)(p, x) for x in xs]
    _reset()
    per = cr.vmap(cr.grad(_loss), in_axes=(None, 0))(p, xs)
    assert CALLS["bwd"] == 1 and CALLS["fwd"] <= 2
    for k in p:
        np.testing.assert_allclose(per[k], np.stack([g[k] for g in loop]), rtol=1e-13)
    # the shared parameters' cotangent of the mapped function sums the examples'
    _reset()
    total = cr.grad(lambda p: cr.sum(cr.vmap(_loss, in_axes=(None, 0))(p, xs)))(p)
    assert CALLS["bwd"] == 1
    for k in p:
        np.testing.assert_allclose(total[k], sum(g[k] for g in loop), rtol=1e-13)
    # a parameter mapped alongside the examples: its cotangent stays per example
    bs = np.random.default_rng(1).standard_normal((5, 2))
    got = cr.vmap(cr.grad(lambda b, x: _loss({"w": p["w"], "b": b}, x)))(bs, xs)
    want = np.stack([cr.grad(lambda b: _loss({"w": p["w"], "b": b}, x))(b)
                     for b, x in zip(bs, xs)])
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_custom_vjp_forward_mode_under_vmap():
    xs, p = _data()
    jac = cr.vmap(cr.jacfwd(layer), in_axes=(0, None))(xs, p)
    want = np.stack([cr.jacrev(lambda x: layer(x, p))(x) for x in xs])
    np.testing.assert_allclose(jac, want, rtol=1e-13)
    np.testing.assert_allclose(cr.jacfwd(cr.vmap(layer, in_axes=(0, None)))(xs, p),
                               cr.jacrev(cr.vmap(layer, in_axes=(0, None)))(xs, p),
                               rtol=1e-13, atol=1e-15)
    hess = cr.vmap(cr.hessian(lambda x: _loss(p, x)))(xs)
    loop = np.stack([cr.jacrev(cr.jacrev(lambda x: _loss(p, x)))(x) for x in xs])
    np.testing.assert_allclose(hess, loop, rtol=1e-11, atol=1e-13)
    from tests.test_custom_derivatives import clip_gradient
    with pytest.raises(ValueError, match="linear in the cotangent g, and it is not"):
        cr.vmap(cr.jacfwd(lambda x: clip_gradient(-1.0, 1.0, x)))(xs)


def test_custom_jvp_runs_its_rule_once_on_the_stack():
    rng = np.random.default_rng(2)
    xs, betas = rng.standard_normal((6, 4)), rng.uniform(0.5, 2.0, 6)
    _reset()
    np.testing.assert_allclose(cr.vmap(softplus)(xs, betas),
                               np.log1p(np.exp(betas[:, None] * xs)) / betas[:, None])
    assert CALLS["fun"] == 1  # was once per example (6)
    _reset()
    out, t = cr.vmap(lambda x, b: cr.jvp(softplus, (x, b), (np.ones(4), 0.5)))(xs, betas)
    assert CALLS["jvp"] <= 2 and CALLS["fun"] <= 3
    for k in range(6):
        o, tk = cr.jvp(softplus, (xs[k], betas[k]), (np.ones(4), 0.5))
        np.testing.assert_allclose(out[k], o, rtol=1e-14)
        np.testing.assert_allclose(t[k], tk, rtol=1e-13)
    g = cr.vmap(cr.grad(lambda x, b: cr.sum(softplus(x, b)), argnums=(0, 1)))(xs, betas)
    for k in range(6):
        gk = cr.grad(lambda x, b: cr.sum(softplus(x, b)), argnums=(0, 1))(xs[k], betas[k])
        np.testing.assert_allclose(g[0][k], gk[0], rtol=1e-13)
        np.testing.assert_allclose(g[1][k], gk[1], rtol=1e-13)
    shared = cr.grad(lambda b: cr.sum(cr.vmap(softplus, in_axes=(0, None))(xs, b)))(1.3)
    loop = sum(cr.grad(lambda b: cr.sum(softplus(x, b)))(1.3) for x in xs)
    np.testing.assert_allclose(shared, loop, rtol=1e-13)


def _segment(x, w):
    CALLS["segment"] += 1
    return cr.tanh(x @ w) * cr.sin(x @ w)


SEGMENT = cr.checkpoint(_segment)


def test_a_checkpointed_segment_runs_once_on_the_stack():
    rng = np.random.default_rng(3)
    xs, w = rng.standard_normal((7, 3)), rng.standard_normal((3, 3)) * 0.5

    def loss(w, x):
        return cr.sum(SEGMENT(SEGMENT(x, w), w) ** 2)

    loop = np.stack([cr.grad(loss)(w, x) for x in xs])
    _reset()
    per = cr.vmap(cr.grad(loss), in_axes=(None, 0))(w, xs)
    assert CALLS["segment"] <= 6  # 2 segments, each forward + recompute (+ residuals);
    np.testing.assert_allclose(per, loop, rtol=1e-13)  # was 2 * 2 * 7 = 28 calls
    _reset()
    total = cr.grad(lambda w: cr.sum(cr.vmap(loss, in_axes=(None, 0))(w, xs)))(w)
    assert CALLS["segment"] <= 6
    np.testing.assert_allclose(total, loop.sum(0), rtol=1e-13)
    np.testing.assert_allclose(cr.vmap(cr.jacfwd(lambda x: SEGMENT(x, w)))(xs),
                               np.stack([cr.jacrev(lambda x: _segment(x, w))(x) for x in xs]),
                               rtol=1e-13, atol=1e-15)
