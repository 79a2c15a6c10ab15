"""Taylor mode (cr.jet, cr.taylor, cr.derivative) against SymPy's derivatives."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.transforms.taylor import RULES

X = sp.symbols("x")

CASES = {  # name: (chainrule function, SymPy expression, a domain)
    "exp(sin x)": (lambda x: cr.exp(cr.sin(x)), sp.exp(sp.sin(X)), (-2.0, 2.0)),
    "tanh x": (cr.tanh, sp.tanh(X), (-2.0, 2.0)),
    "1/(1+x^2)": (lambda x: 1 / (1 + x ** 2), 1 / (1 + X ** 2), (-2.0, 2.0)),
    "sqrt(x) log x": (lambda x: cr.sqrt(x) * cr.log(x), sp.sqrt(X) * sp.log(X), (0.3, 3.0)),
    "cosh x / x^1.5": (lambda x: cr.cosh(x) / x ** 1.5, sp.cosh(X) / X ** sp.Rational(3, 2),
                       (0.5, 2.0)),
    "x^x": (lambda x: x ** x, X ** X, (0.5, 2.0)),
    "sinh cos": (lambda x: cr.sinh(x) * cr.cos(x), sp.sinh(X) * sp.cos(X), (-2.0, 2.0)),
    "arctan": (cr.arctan, sp.atan(X), (-2.0, 2.0)),
    "arcsin": (cr.arcsin, sp.asin(X), (-0.8, 0.8)),
    "arccos": (cr.arccos, sp.acos(X), (-0.8, 0.8)),
    "arcsinh": (cr.arcsinh, sp.asinh(X), (-2.0, 2.0)),
    "arctanh": (cr.arctanh, sp.atanh(X), (-0.8, 0.8)),
    "erf": (cr.erf, sp.erf(X), (-2.0, 2.0)),
    "tan": (cr.tan, sp.tan(X), (-1.0, 1.0)),
    "log1p(expm1)": (lambda x: cr.log1p(cr.expm1(x)) + cr.log2(x + 3) + cr.log10(x + 3),
                     X + sp.log(X + 3) / sp.log(2) + sp.log(X + 3) / sp.log(10), (-1.0, 1.0)),
    "cbrt": (cr.cbrt, sp.cbrt(X), (0.5, 2.0)),
    "sigmoid": (cr.sigmoid, 1 / (1 + sp.exp(-X)), (-2.0, 2.0)),
    "softplus": (cr.softplus, sp.log(1 + sp.exp(X)), (-2.0, 2.0)),
    "square reciprocal": (lambda x: cr.square(x) + cr.reciprocal(x) - x, X ** 2 + 1 / X - X,
                          (0.5, 2.0)),
}


def _sympy_derivatives(expr, x0, order):
    return [float(sp.diff(expr, X, k).subs(X, x0).evalf(30)) for k in range(order + 1)]


def _assert_rel(got, want, rtol):
    for k, (a, b) in enumerate(zip(got, want)):
        assert abs(a - b) <= rtol * max(abs(b), 1e-300) + 1e-300, (k, a, b)


@pytest.mark.parametrize("name", ["exp(sin x)", "tanh x", "1/(1+x^2)"])
@pytest.mark.parametrize("x0", [-1.3, 0.2, 0.7, 1.9])
def test_the_three_of_the_issue_to_order_ten(name, x0):
    f, expr, _ = CASES[name]
    _assert_rel(cr.taylor(f, x0, 10), _sympy_derivatives(expr, x0, 10), 1e-10)


@settings(max_examples=len(CASES) * 2, deadline=None)
@given(st.sampled_from(sorted(CASES)), st.floats(0.0, 1.0), st.integers(0, 8))
def test_every_rule_against_sympy(name, u, order):
    f, expr, (lo, hi) = CASES[name]
    x0 = lo + (hi - lo) * u
    _assert_rel(cr.taylor(f, x0, order), _sympy_derivatives(expr, x0, order), 1e-9)


def test_jet_has_jaxs_meaning():
    """Series are derivatives of the input path; out are derivatives of f along it."""
    t = sp.symbols("t")
    path = 0.4 + 0.3 * t + 0.5 * t ** 2 / 2 - 0.2 * t ** 3 / 6  # x(0), x', x'', x'''
    f_sym = sp.exp(sp.sin(path)) * path
    want = [float(sp.diff(f_sym, t, k).subs(t, 0)) for k in range(4)]
    out, ys = cr.jet(lambda x: cr.exp(cr.sin(x)) * x, (0.4,), ([0.3, 0.5, -0.2],))
    _assert_rel([out, *ys], want, 1e-12)
    # two arguments, each with its own series; a constant argument has zeros
    out, ys = cr.jet(lambda a, b: a * cr.sin(b), (2.0, 0.5), ([1.0, 0.0], [0.0, 0.0]))
    np.testing.assert_allclose(ys, [np.sin(0.5), 0.0])


def test_arrays_and_linear_operations():
    x = np.array([0.1, 0.5, 0.9])
    d = cr.taylor(cr.exp, x, 4)
    assert d.shape == (5, 3)
    np.testing.assert_allclose(d, np.tile(np.exp(x), (5, 1)))
    # sum, matmul, reshape are linear: series pass through them
    w = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    out, ys = cr.jet(lambda v: cr.sum(cr.sin(v) @ w), (x,), ([np.ones(3), np.zeros(3)],))
    np.testing.assert_allclose(ys[0], np.cos(x) @ w.sum(1))
    np.testing.assert_allclose(ys[1], -np.sin(x) @ w.sum(1))


def test_derivative_and_composition_with_grad():
    d3 = cr.derivative(lambda x: cr.exp(cr.sin(x)), order=3)
    want = _sympy_derivatives(sp.exp(sp.sin(X)), 0.3, 4)
    assert math.isclose(d3(0.3), want[3], rel_tol=1e-12)
    # grad of a Taylor coefficient is the next derivative: the rules differentiate
    assert math.isclose(cr.grad(d3)(0.3), want[4], rel_tol=1e-10)
    assert math.isclose(cr.derivative(cr.sin, order=0)(0.3), math.sin(0.3))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"taylor: order must be a whole number >= 0, got -1"):
        cr.taylor(cr.sin, 0.3, -1)
    with pytest.raises(ValueError, match="derivative: order must be"):
        cr.derivative(cr.sin, order=1.5)
    with pytest.raises(NotImplementedError, match="'logsumexp' has no Taylor rule"):
        cr.taylor(lambda x: cr.logsumexp(x), np.ones(3), 2)
    with pytest.raises(ValueError, match=r"series\[0\]\[1\] has shape \(2,\), expected \(\)"):
        cr.jet(cr.sin, (0.3,), ([1.0, np.ones(2)],))
    with pytest.raises(ValueError, match="1 primal"):
        cr.jet(cr.sin, (0.3,), ([1.0], [1.0]))


def test_rules_cover_the_elementwise_primitives():
    from chainrule.transforms.batching import _ELEMENTWISE
    smooth = {n for n in _ELEMENTWISE if n not in {
        "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
        "logical_and", "logical_or", "logical_not", "isfinite", "isnan",  # boolean
        "one_hot",  # integers
        "keep_zeros",  # the traced programs' NaN mask: never met by a series
    }}
    assert smooth <= set(RULES), sorted(smooth - set(RULES))


def test_a_complex_intermediate_is_refused_not_dropped():
    # real(exp(i x)) = cos x: dropping the complex series would give derivatives 0
    with pytest.raises(NotImplementedError, match="complex"):
        cr.taylor(lambda x: cr.real(cr.exp(x * 1j)), 0.3, 3)
    # a real function of real values keeps working beside it
    np.testing.assert_allclose(cr.taylor(cr.cos, 0.3, 2),
                               [np.cos(0.3), -np.sin(0.3), -np.cos(0.3)], rtol=1e-14)


# ----- arctan2, clip, floor_divide, remainder, angle; piecewise rules follow the policy -----

T = sp.symbols("t")


def _path_derivatives(expr, order):
    return [float(sp.diff(expr, T, k).subs(T, 0).evalf(30)) for k in range(order + 1)]


@pytest.mark.parametrize("y0, x0", [(0.7, 1.3), (1.5, 0.0), (-0.4, -2.0), (2.0, -0.1)])
def test_arctan2_along_a_path_against_sympy(y0, x0):
    """Both arguments moving, in every quadrant and on the axis x = 0 (where the
    rule must not divide by x): 8 derivatives of arctan2(y(t), x(t))."""
    ys, xs = [0.3, -0.2, 0.5, 0.1, 0.0, 0.2, -0.1, 0.3], [-0.5, 0.4, 0.1, -0.3, 0.2, 0.0, 0.1, 0.0]
    y_path = y0 + sum(c * T ** (k + 1) / math.factorial(k + 1) for k, c in enumerate(ys))
    x_path = x0 + sum(c * T ** (k + 1) / math.factorial(k + 1) for k, c in enumerate(xs))
    out, terms = cr.jet(cr.arctan2, (y0, x0), (ys, xs))
    want = _path_derivatives(sp.atan2(y_path, x_path), 8)
    _assert_rel([out, *terms], want, 1e-10)
    # one argument constant
    f = cr.derivative(lambda x: cr.arctan2(0.5, x), order=5)
    assert math.isclose(f(1.2), float(sp.diff(sp.atan2(0.5, X), X, 5).subs(X, 1.2)),
                        rel_tol=1e-10)


def test_remainder_and_floor_divide_between_their_jumps():
    xs, ys = [0.7, -0.3, 0.2], [0.1, 0.4, -0.2]
    x0, y0 = 5.3, 1.7
    out, terms = cr.jet(cr.remainder, (x0, y0), (xs, ys))
    k = math.floor(x0 / y0)
    np.testing.assert_allclose([out, *terms], [x0 % y0] + [a - k * b for a, b in zip(xs, ys)],
                               rtol=1e-13)
    out, terms = cr.jet(cr.floor_divide, (x0, y0), (xs, ys))
    assert out == 3.0 and all(t == 0.0 for t in terms)
    # the first-order term is grad's, also at a jump (x / y an integer)
    for x, y in ((5.3, 1.7), (3.4, 1.7)):
        gx, gy = cr.grad(cr.remainder, argnums=(0, 1))(x, y)
        _, (dx,) = cr.jet(cr.remainder, (x, y), ([1.0], [0.0]))
        _, (dy,) = cr.jet(cr.remainder, (x, y), ([0.0], [1.0]))
        assert (dx, dy) == (gx, gy)


def test_angle_of_a_real_value_is_flat():
    out, terms = cr.jet(cr.angle, (-2.0,), ([1.0, 3.0],))
    assert out == math.pi and terms == [0.0, 0.0]
    with pytest.raises(NotImplementedError, match="complex"):
        cr.jet(cr.angle, (np.array(1.0 + 1.0j),), ([np.array(1.0 + 0.0j)],))


@pytest.mark.parametrize("policy", ["min-norm", "pytorch", "jax"])
def test_piecewise_rules_follow_the_subgradient_policy_at_kinks(policy):
    """Linear on each piece: the series is the first-order slope times the input's series,
    so at a kink it takes the subgradient the first-order rules take (maximum at a tie
    picked its first argument: 1 where grad gives 1/2 each)."""
    cases = [
        (lambda x: cr.clip(x, 0.0, 1.0), (1.0,)),
        (lambda x: cr.clip(x, 0.0, 1.0), (0.0,)),
        (lambda x: cr.clip(x, 0.0, 1.0), (0.4,)),
        (lambda x: cr.clip(x, 0.0, 1.0), (2.0,)),
        (lambda x, lo: cr.clip(x, lo, 1.0), (0.3, 0.3)),
        (lambda x, lo: cr.clip(x, lo, 1.0), (-0.5, 0.3)),
        (cr.maximum, (1.0, 1.0)),
        (cr.minimum, (2.0, 2.0)),
        (lambda x: cr.maximum(x, 1.0), (1.0,)),
        (cr.relu, (0.0,)),
        (cr.abs, (0.0,)),
    ]
    with cr.subgradient_policy(policy):
        for f, args in cases:
            grads = cr.grad(f, argnums=tuple(range(len(args))))(*args)
            series = tuple([1.5, -0.5, 2.0] for _ in args)
            _, terms = cr.jet(f, args, series)
            slope = sum(float(g) for g in grads)
            np.testing.assert_allclose(terms, [1.5 * slope, -0.5 * slope, 2.0 * slope],
                                       err_msg=f"{policy}: {args}")
    # inside a piece the other terms flow: clip's bound moving below x
    _, terms = cr.jet(lambda x, lo: cr.clip(x, lo, 1.0), (-0.5, 0.3), ([1.0, 1.0], [2.0, 3.0]))
    assert terms == [2.0, 3.0]


def test_the_series_rules_sit_beside_each_primitives_other_rules():
    """Each rule is registered by its family module (chainrule.ops.*), the engine only
    runs them: every rule's code comes from the module defining the primitive."""
    import inspect

    from chainrule.core.primitive import registry

    def home(prim):  # the module of the primitive's first-order rules, if it has any
        for rules in (prim.partials, prim.vjps, prim.jvps):
            for r in (rules if isinstance(rules, tuple) else [getattr(rules, "rule", None)]):
                if r is not None and inspect.getmodule(r) is not None:
                    return inspect.getmodule(r)
        return None

    homes = 0
    for name, rule in RULES.items():
        registered = inspect.getmodule(rule).__name__
        assert registered.startswith("chainrule.ops.") or registered == "chainrule.transforms.grad"
        if registered == "chainrule.ops.series":  # a shared rule: linear, piecewise...
            continue
        where = home(registry[name])
        if where is not None:
            homes += 1
            assert where.__name__ == registered, (name, where.__name__, registered)
    assert homes >= 25
