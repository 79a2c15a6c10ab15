"""cr.custom_vjp and cr.custom_jvp: JAX's documented examples give JAX's numbers,
every mode reads the user's rule, and a rule of the wrong shape is refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import chainrule as cr


@cr.custom_jvp
def log1pexp(x):
    return cr.log1p(cr.exp(x))


log1pexp.defjvps(lambda t, out, x: t * (1.0 - 1.0 / (1.0 + cr.exp(x))))


@cr.custom_vjp
def clip_gradient(lo, hi, x):
    return x  # identity forward; the cotangent is clipped on the way back


clip_gradient.defvjp(lambda lo, hi, x: (x, (lo, hi)),
                     lambda res, g: (None, None, cr.clip(g, res[0], res[1])))


@cr.custom_vjp
def sin_times(x, y):  # JAX's custom_vjp example f(x, y) = sin(x) * y
    return cr.sin(x) * y


def _sin_times_fwd(x, y):
    return sin_times(x, y), (cr.cos(x), cr.sin(x), y)


def _sin_times_bwd(res, g):
    cos_x, sin_x, y = res
    return cos_x * g * y, sin_x * g


sin_times.defvjp(_sin_times_fwd, _sin_times_bwd)


@cr.custom_jvp
def sin_times_j(x, y):  # JAX's custom_jvp example, the whole-rule form
    return cr.sin(x) * y


@sin_times_j.defjvp
def _sin_times_j_jvp(primals, tangents):
    x, y = primals
    x_dot, y_dot = tangents
    return sin_times_j(x, y), cr.cos(x) * x_dot * y + cr.sin(x) * y_dot


def test_log1pexp_gives_jaxs_numbers_where_the_naive_rule_fails():
    naive = cr.grad(lambda x: cr.log1p(cr.exp(x)))
    with np.errstate(all="ignore"):
        assert naive(1000.0) != 1.0  # exp overflows: NaN or 0, never the slope
    assert cr.grad(log1pexp)(100.0) == 1.0  # JAX: grad(log1pexp)(100.) -> 1.
    assert cr.grad(log1pexp)(0.0) == 0.5
    assert np.isclose(cr.grad(log1pexp)(10.0), 0.9999546)  # JAX's printed value
    out, t = cr.jvp(log1pexp, (3.0,), (1.0,))
    assert np.isclose(out, np.log1p(np.exp(3.0))) and np.isclose(t, 1 / (1 + np.exp(-3.0)))
    # second order through the user's (differentiable) rule: sigmoid'
    s = 1 / (1 + np.exp(-1.0))
    assert np.isclose(cr.grad(cr.grad(log1pexp))(1.0), s * (1 - s))
    assert np.isclose(cr.hessian(log1pexp)(1.0), s * (1 - s))


def test_clip_gradient_is_jaxs_clip_sin():
    def clip_sin(x):
        return cr.sin(clip_gradient(-0.75, 0.75, x))

    t = np.linspace(0.0, 10.0, 50)
    got = np.array([cr.grad(clip_sin)(v) for v in t])
    np.testing.assert_allclose(got, np.clip(np.cos(t), -0.75, 0.75), rtol=1e-12)
    assert np.all(np.abs(got) <= 0.75)
    # the forward value is untouched
    np.testing.assert_allclose(clip_sin(t), np.sin(t))
    x = cr.tensor(t, requires_grad=True)
    cr.sum(clip_sin(x)).backward()
    np.testing.assert_allclose(x.grad.numpy(), got, rtol=1e-12)
    # jacrev reads the rule too (one batched sweep through bwd)
    np.testing.assert_allclose(np.diag(cr.jacrev(clip_sin)(t)), got, rtol=1e-12)


def test_custom_vjp_example_in_every_mode():
    x, y = 2.0, 3.0
    assert np.isclose(cr.grad(sin_times)(x, y), np.cos(x) * y)
    gx, gy = cr.grad(sin_times, argnums=(0, 1))(x, y)
    assert np.isclose(gx, np.cos(x) * y) and np.isclose(gy, np.sin(x))
    out, vjp_fn = cr.vjp(sin_times, x, y)
    assert np.allclose(vjp_fn(1.0), (np.cos(x) * y, np.sin(x)))
    # forward mode from bwd (linear in g, as every vjp is)
    assert np.allclose(cr.jvp(sin_times, (x, y), (1.0, 0.5))[1],
                       np.cos(x) * y + 0.5 * np.sin(x))
    v = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(cr.jacfwd(sin_times)(v, y), np.diag(np.cos(v) * y))
    np.testing.assert_allclose(cr.jacrev(sin_times)(v, y), np.diag(np.cos(v) * y))
    # second order: fwd runs again on traced arguments, so its residuals differentiate
    assert np.isclose(cr.grad(cr.grad(sin_times))(x, y), -np.sin(x) * y)
    np.testing.assert_allclose(cr.hessian(lambda a: cr.sum(sin_times(a, y)))(v),
                               np.diag(-np.sin(v) * y))
    t = cr.tensor(v, requires_grad=True)
    cr.sum(sin_times(t, y)).backward()
    np.testing.assert_allclose(t.grad.numpy(), np.cos(v) * y)


def test_custom_jvp_example_in_every_mode():
    x, y = 2.0, 3.0
    gx, gy = cr.grad(sin_times_j, argnums=(0, 1))(x, y)
    assert np.isclose(gx, np.cos(x) * y) and np.isclose(gy, np.sin(x))
    v = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(cr.jacrev(sin_times_j)(v, y), np.diag(np.cos(v) * y))
    np.testing.assert_allclose(cr.jacfwd(sin_times_j)(v, y), np.diag(np.cos(v) * y))
    assert np.isclose(cr.hessian(sin_times_j)(x, y), -np.sin(x) * y)
    assert np.isclose(cr.grad(cr.grad(sin_times_j))(x, y), -np.sin(x) * y)


def test_the_rule_is_used_not_the_function():
    """A straight-through estimator: the forward rounds, the derivative is 1."""
    @cr.custom_vjp
    def straight_through(x):
        return cr.round(x)

    straight_through.defvjp(lambda x: (cr.round(x), None), lambda res, g: (g,))
    v = np.array([0.2, 1.7, -2.4])
    np.testing.assert_allclose(cr.grad(lambda a: cr.sum(straight_through(a) * a))(v),
                               np.round(v) + v)


@given(arrays(np.float64, st.integers(1, 4), elements=st.floats(-3, 3)),
       arrays(np.float64, st.integers(1, 4), elements=st.floats(-3, 3)))
def test_gradcheck_both_modes(a, b):
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    assert cr.gradcheck(sin_times, a, b)
    assert cr.gradcheck(sin_times_j, a, b)
    assert cr.gradcheck(log1pexp, a)
    assert cr.gradgradcheck(sin_times, a, b)
    assert cr.gradgradcheck(sin_times_j, a, b)


def test_pytree_arguments():
    @cr.custom_vjp
    def dot(p, x):
        return cr.sum(p["w"] * x) + p["b"]

    dot.defvjp(lambda p, x: (dot(p, x), (p, x)),
               lambda res, g: ({"w": g * res[1], "b": g}, g * res[0]["w"]))
    p = {"w": np.array([1.0, 2.0]), "b": 0.5}
    x = np.array([3.0, 4.0])
    gp, gx = cr.grad(dot, argnums=(0, 1))(p, x)
    np.testing.assert_allclose(gp["w"], x)
    assert gp["b"] == 1.0
    np.testing.assert_allclose(gx, p["w"])


def test_explain_reads_the_rule():
    text = str(cr.explain(lambda x: sin_times(x, 2.0), 1.0))
    assert "sin_times" in text and f"{2 * np.cos(1.0):.9}"[:9] in text


def test_wrong_cotangents_are_refused():
    @cr.custom_vjp
    def h(x, y):
        return x * y

    h.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1],))
    with pytest.raises(TypeError, match=r"custom_vjp h: bwd must return a tuple of 2 "
                                        r"cotangent\(s\).*a tuple of 1"):
        cr.grad(h)(1.0, 2.0)
    h.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (cr.ones(3), g))
    with pytest.raises(ValueError, match=r"bwd's cotangent for leaf 0 .* shape \(3,\), "
                                         r"expected \(\)"):
        cr.grad(h)(1.0, 2.0)
    h.defvjp(lambda x, y: x * y, lambda res, g: (g, g))
    with pytest.raises(TypeError, match="fwd must return a pair"):
        cr.grad(h)(1.0, 2.0)


def test_missing_rules_and_several_outputs_are_refused():
    @cr.custom_vjp
    def k(x):
        return x

    with pytest.raises(TypeError, match=r"custom_vjp k: no rule yet; call k.defvjp"):
        k(1.0)

    @cr.custom_jvp
    def pair(x):
        return x, x

    pair.defjvps(lambda t, out, x: t)
    with pytest.raises(TypeError, match="must return one array"):
        pair(1.0)
    with pytest.raises(TypeError, match="defjvps gave 1 rule"):
        pair(1.0, 2.0)


# ----- forward mode of a custom_vjp function: only where bwd is linear in g -----

@cr.custom_vjp
def unit_gradient(x):
    return x  # the cotangent is normalized on the way back (nonlinear at every scale)


unit_gradient.defvjp(lambda x: (x, None),
                     lambda res, g: (g / cr.sqrt(cr.sum(g * g)),))


@cr.custom_vjp
def shifted_gradient(x):
    return x  # an affine bwd: g + 1 is not linear in g


shifted_gradient.defvjp(lambda x: (x, None), lambda res, g: (g + 1.0,))


@pytest.mark.parametrize("make", [
    lambda: (lambda x: cr.sum(3.0 * clip_gradient(-1.0, 1.0, x))),
    lambda: (lambda x: cr.sin(clip_gradient(-0.75, 0.75, x))),
    lambda: (lambda x: 2.0 * unit_gradient(x)),
    lambda: (lambda x: shifted_gradient(x)),
])
def test_forward_mode_of_a_nonlinear_bwd_is_refused(make):
    # jacfwd used to give J @ dx with J from bwd on basis cotangents: for
    # sum(3 * clip_gradient(x)) that is 3 per entry while grad (bwd(3) = 1) is 1
    f = make()
    t = np.linspace(0.0, 3.0, 4)
    cr.jacrev(f)(t)  # reverse mode reads bwd as given
    for forward in (lambda: cr.jacfwd(f)(t), lambda: cr.jvp(f, (t,), (np.ones(4),)),
                    lambda: cr.hessian(lambda x: cr.sum(f(x)))(t)):
        with pytest.raises(ValueError, match="linear in the cotangent g, and it is not.*"
                                             "cr.custom_jvp"):
            forward()


def test_forward_mode_of_a_linear_bwd_agrees_with_reverse_mode():
    v = np.array([0.5, 1.0, 2.0])
    y = 3.0

    def loss(a):  # the downstream cotangent depends on the output: its tangent is needed
        return cr.sum(sin_times(a, y) ** 2)

    np.testing.assert_allclose(cr.jacfwd(loss)(v), cr.jacrev(loss)(v), rtol=1e-13)
    want = np.diag(2 * y * y * np.cos(2 * v))  # d2/dx2 of (y sin x)^2
    np.testing.assert_allclose(cr.hessian(loss)(v), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cr.jacfwd(cr.jacrev(loss))(v), want, rtol=1e-12, atol=1e-12)
    # a clip binding within the probed scales (1e-6 to 1e6) is refused even where the
    # cotangents at hand would not reach it (the check is a probe: a bound beyond 1e6
    # passes it, and forward mode then equals reverse mode for cotangents below it)
    with pytest.raises(ValueError, match="linear in the cotangent"):
        cr.jacfwd(lambda x: clip_gradient(-1e4, 1e4, x))(v)
    # float32 rounding in a linear bwd is not mistaken for nonlinearity
    v32 = v.astype(np.float32)
    np.testing.assert_allclose(cr.jacfwd(lambda a: sin_times(a, np.float32(y)))(v32),
                               np.diag(np.cos(v32) * y), rtol=1e-6)
