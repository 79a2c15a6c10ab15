"""vmap, checkpoint, Taylor mode and custom derivatives under cr.jit: the compiled
program gives the eager numbers, on new inputs too (traced once), or a clear refusal."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.shape import getitem
from tests.test_custom_derivatives import clip_gradient, log1pexp, sin_times, sin_times_j

RNG = np.random.default_rng(0)
XS = RNG.standard_normal((4, 3))
W = RNG.standard_normal((3, 2))


def _twice(f, *args_pairs, rtol=1e-13):
    """jit(f) on two sets of arguments of the same shapes: eager numbers both times,
    one trace."""
    jitted = cr.jit(f)
    for args in args_pairs:
        got, want = jitted(*args), f(*args)
        for g, w in zip(np.atleast_1d(got) if not isinstance(got, (tuple, dict)) else got,
                        np.atleast_1d(want) if not isinstance(want, (tuple, dict)) else want):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-15)
    assert jitted.traces == 1
    return jitted


def test_vmap_and_per_example_gradients_under_jit():
    xs2 = XS[::-1] * 0.5
    _twice(cr.vmap(lambda x, w: cr.sum(cr.tanh(x @ w)), in_axes=(0, None)), (XS, W), (xs2, W))
    per = cr.vmap(cr.grad(lambda w, x: cr.sum(cr.tanh(x @ w))), in_axes=(None, 0))
    _twice(per, (W, XS), (W * 2.0, xs2))
    _twice(cr.jacfwd(cr.vmap(cr.sin)), (XS,), (xs2,))


def test_mapped_and_traced_index_arrays_under_jit():
    # an index array that is an argument of the program: a gather, not a frozen parameter
    # (it used to be refused: getitem's index= parameter was a traced value)
    take_rows = _twice(lambda x, i: cr.take(x, i, axis=0), (XS, np.array([0, 2])),
                       (XS, np.array([3, 3])))
    np.testing.assert_array_equal(take_rows(XS, np.array([1, 0])), XS[[1, 0]])
    _twice(lambda x, i: 2.0 * getitem(x, (slice(None), i)),
           (XS, np.array([2, 0])), (XS, np.array([1, 1])))
    ys = np.array([0, 2, 1, 0])
    _twice(cr.vmap(lambda x, y: cr.nn.functional.cross_entropy(x, y)), (XS, ys),
           (XS * 2, ys[::-1].copy()))
    per = cr.vmap(cr.grad(lambda x, y: cr.nn.functional.cross_entropy(x[None], y[None])))
    _twice(per, (XS, ys), (XS * 2, ys[::-1].copy()))
    grad_through = cr.grad(lambda x, i: cr.sum(cr.take(x, i, axis=0) ** 2))
    _twice(grad_through, (XS, np.array([0, 0, 3])), (XS, np.array([1, 2, 1])))


SEGMENT = cr.checkpoint(lambda x, w: cr.tanh(x @ w) * cr.sin(x @ w))


def test_checkpoint_under_jit():
    _twice(lambda w: SEGMENT(XS, w), (W,), (W * 0.3,))
    _twice(cr.grad(lambda w: cr.sum(SEGMENT(SEGMENT(XS, w @ W.T), w) ** 2)), (W,), (W * 0.3,))
    _twice(cr.hessian(lambda x: cr.sum(SEGMENT(x, W))), (XS[0],), (XS[1],), rtol=1e-12)


def test_taylor_mode_under_jit():
    _twice(lambda x: cr.taylor(cr.sin, x, 4), (0.3,), (1.1,))
    _twice(cr.derivative(lambda x: cr.exp(cr.sin(x)), order=6), (0.3,), (-0.7,), rtol=1e-12)
    _twice(lambda x: cr.jet(lambda a: cr.arctan2(a, 2.0 - a), (x,), ([x * 0 + 1, x * 0.5],))[1],
           (np.array([0.3, 0.9]),), (np.array([-0.2, 0.1]),))


def test_custom_derivatives_under_jit():
    t, t2 = np.linspace(0.1, 2.0, 5), np.linspace(-1.0, 3.0, 5)
    _twice(cr.grad(lambda x: cr.sum(cr.sin(clip_gradient(-0.75, 0.75, x)))), (t,), (t2,))
    _twice(lambda x: sin_times(x, 2.0), (t,), (t2,))
    _twice(cr.grad(lambda x, y: cr.sum(sin_times(x, y)), argnums=(0, 1)), (t, t2), (t2, t))
    _twice(cr.grad(lambda x: cr.sum(log1pexp(x))), (t,), (t2 * 40,))
    _twice(lambda x: cr.jvp(log1pexp, (x,), (np.ones(5),))[1], (t,), (t2,))
    _twice(cr.hessian(lambda x: cr.sum(sin_times_j(x, 2.0))), (t,), (t2,))
    _twice(cr.vmap(cr.grad(lambda x: cr.sum(sin_times(x, 2.0)))), (XS,), (XS * 3,))


def test_forward_mode_of_a_custom_vjp_function_is_refused_under_jit():
    """Forward mode of a custom_vjp function checks bwd linear on numbers, which a traced
    program does not have: refused, naming the way out."""
    with pytest.raises(TypeError, match="inside a traced program.*cr.custom_jvp"):
        cr.jit(cr.jacfwd(lambda x: sin_times(x, 2.0)))(np.linspace(0.1, 2.0, 5))
    # eagerly it works (bwd is linear)
    t = np.linspace(0.1, 2.0, 5)
    np.testing.assert_allclose(cr.jacfwd(lambda x: sin_times(x, 2.0))(t),
                               np.diag(2.0 * np.cos(t)), rtol=1e-13)
