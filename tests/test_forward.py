"""Forward mode: jvp, linearize, the Dual value, stop_gradient, control flow, bad input."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.forward import Dual


def test_jvp_of_a_polynomial():
    out, slope = cr.jvp(lambda x: x**2 - 3 * x - 2, (3.0,), (1.0,))
    assert float(out) == -2.0 and float(slope) == 3.0


def test_jvp_of_several_arguments_is_the_sum_of_partials():
    x, y = np.array([0.5, 1.5]), np.array([2.0, -1.0])
    dx, dy = np.array([1.0, 2.0]), np.array([0.5, 0.25])
    out, t = cr.jvp(lambda a, b: cr.sin(a) * b, (x, y), (dx, dy))
    np.testing.assert_allclose(out, np.sin(x) * y)
    np.testing.assert_allclose(t, np.cos(x) * y * dx + np.sin(x) * dy)


def test_a_none_tangent_holds_an_argument_constant():
    out, t = cr.jvp(lambda x, n: x ** n, (2.0, 3), (1.0, None))
    assert float(out) == 8.0 and float(t) == 12.0


def test_jvp_with_aux_and_constant_outputs():
    out, t, aux = cr.jvp(lambda x: (x * 2.0, {"x": x, "c": "five"}), (1.5,), (1.0,),
                         has_aux=True)
    assert float(t) == 2.0 and float(aux["x"]) == 1.5 and aux["c"] == "five"
    assert not isinstance(aux["x"], Dual)
    out, t = cr.jvp(lambda x: (cr.floor(x), np.ones(2)), (1.5,), (1.0,))
    assert float(t[0]) == 0.0
    np.testing.assert_array_equal(t[1], np.zeros(2))


def test_tangent_dtype_follows_the_primal():
    x = np.array([1.0, 2.0], dtype=np.float32)
    out, t = cr.jvp(lambda v: cr.exp(v) * 2.0, (x,), (np.ones(2, np.float32),))
    assert out.dtype == np.float32 and t.dtype == np.float32
    _, t = cr.jvp(lambda v: cr.astype(v, np.float64), (x,), ([1.0, 1.0],))
    assert t.dtype == np.float64


def test_a_dual_behaves_like_an_array():
    seen = {}

    def f(x):
        seen.update(shape=x.shape, ndim=x.ndim, dtype=x.dtype, size=x.size, len=len(x))
        parts = [p for p in x]
        y = np.sin(x) + np.sum(x) + x.T[0] + x.sum(axis=0) + parts[1] + abs(-x) @ np.ones(2)
        return y / 2.0 - (1.0 - x) ** 2 + 3.0 ** x[0]

    x, dx = np.array([0.3, 0.7]), np.array([1.0, -1.0])
    out, t = cr.jvp(f, (x,), (dx,))
    assert seen == {"shape": (2,), "ndim": 1, "dtype": np.float64, "size": 2, "len": 2}
    h = 1e-6
    numeric = (f(x + h * dx) - f(x - h * dx)) / (2 * h)
    np.testing.assert_allclose(t, numeric, rtol=1e-6)
    np.testing.assert_allclose(out, f(x))


def test_linearize_sweeps_a_recorded_graph_without_rerunning_f():
    calls = []

    def f(x, y):
        calls.append(1)
        return {"p": cr.sin(x) * y, "q": cr.sum(x * x)}

    x, y = np.array([0.2, 0.9]), np.array([1.5, -2.0])
    out, jvp_fn = cr.linearize(f, x, y)
    for dx, dy in [(np.ones(2), np.zeros(2)), (np.array([0.5, -1.0]), np.array([2.0, 1.0]))]:
        t = jvp_fn(dx, dy)
        _, expected = cr.jvp(f, (x, y), (dx, dy))
        np.testing.assert_allclose(t["p"], expected["p"], rtol=1e-14)
        np.testing.assert_allclose(t["q"], expected["q"], rtol=1e-14)
    assert len(calls) == 3  # once for linearize, once per jvp check
    np.testing.assert_allclose(out["p"], np.sin(x) * y)
    with pytest.raises(ValueError, match=r"tangents\[1\] has shape \(3,\), expected \(2,\)"):
        jvp_fn(np.ones(2), np.ones(3))


def test_linearize_of_a_function_returning_its_input_or_a_constant():
    _, jvp_fn = cr.linearize(lambda x: (x, np.ones(2)), np.array([1.0, 2.0]))
    t = jvp_fn(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(t[0], [3.0, 4.0])
    np.testing.assert_array_equal(t[1], [0.0, 0.0])


def test_stop_gradient_is_a_constant_to_every_engine():
    assert float(cr.grad(lambda x: x * cr.stop_gradient(x))(3.0)) == 3.0
    assert float(cr.jvp(lambda x: x * cr.stop_gradient(x), (3.0,), (1.0,))[1]) == 3.0
    # inside a nested derivative it is a constant for the outer level too: the inner
    # gradient is the value 2x, frozen, so d/dx [2x * x] becomes 2x, not 4x
    nested = cr.grad(lambda x: cr.grad(lambda y: y * cr.stop_gradient(x * y))(2.0) * x)
    assert float(nested(3.0)) == 6.0
    plain = cr.grad(lambda x: cr.grad(lambda y: y * (x * y))(2.0) * x)
    assert float(plain(3.0)) == 24.0  # without it: d/dx [2xy * x] at y = 2 is 8x
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    s = cr.stop_gradient(t)
    assert not s.requires_grad
    np.testing.assert_array_equal(s.data, t.detach().data)
    pair = cr.stop_gradient({"a": 1.0, "b": (2.0,)})
    assert float(pair["a"]) == 1.0 and float(pair["b"][0]) == 2.0


def test_kink_conventions_are_the_same_forward():
    for f in (cr.relu, cr.abs):
        _, t = cr.jvp(f, (np.array([0.0, 1.0]),), (np.ones(2),))
        np.testing.assert_array_equal(t, [0.0, 1.0])
    # a tie with a constant: the minimum-norm subgradient 0, the same as reverse mode
    _, t = cr.jvp(lambda x: cr.maximum(x, 1.0), (1.0,), (1.0,))
    assert float(t) == 0.0 == float(cr.grad(lambda x: cr.maximum(x, 1.0))(1.0))


# ----- Python control flow differentiates as written -----

def babylonian_sqrt(a, iterations=30):
    x = a / 2.0 + 0.5
    for _ in range(iterations):
        x = 0.5 * (x + a / x)
    return x


def newton_sqrt(a, tol=1e-14):
    x = a
    while abs(x * x - a) > tol * a:  # early exit: the loop length depends on the value
        x = x - (x * x - a) / (2.0 * x)
    return x


def recursive_power(x, n):
    if n == 0:
        return 1.0 + 0.0 * x
    half = recursive_power(x, n // 2)
    return half * half * (x if n % 2 else 1.0)


@pytest.mark.parametrize("algorithm", [babylonian_sqrt, newton_sqrt], ids=["babylon", "newton"])
@pytest.mark.parametrize("a", [0.3, 2.0, 17.0])
def test_iterative_sqrt_has_the_derivative_of_sqrt(algorithm, a):
    expected = 0.5 / math.sqrt(a)
    assert float(algorithm(a)) == pytest.approx(math.sqrt(a), rel=1e-12)
    assert float(cr.grad(algorithm)(a)) == pytest.approx(expected, rel=1e-10)
    assert float(cr.jvp(algorithm, (a,), (1.0,))[1]) == pytest.approx(expected, rel=1e-10)
    second = -0.25 * a ** -1.5
    assert float(cr.jvp(cr.grad(algorithm), (a,), (1.0,))[1]) == pytest.approx(second,
                                                                                rel=1e-8)


def test_branches_and_recursion():
    def piecewise(x):
        return x * x if x > 1.0 else 3.0 * x

    assert float(cr.jvp(piecewise, (2.0,), (1.0,))[1]) == 4.0
    assert float(cr.jvp(piecewise, (0.5,), (1.0,))[1]) == 3.0
    assert float(cr.jvp(lambda x: recursive_power(x, 13), (1.1,), (1.0,))[1]) == \
        pytest.approx(13 * 1.1 ** 12)
    assert float(cr.grad(lambda x: recursive_power(x, 13))(1.1)) == pytest.approx(13 * 1.1 ** 12)


# ----- bad input -----

def test_tangent_shape_mismatch_names_the_argument_and_the_expected_shape():
    with pytest.raises(ValueError, match=r"jvp: tangents\[1\] has shape \(2,\), expected \(3,\)"
                                         r" \(the shape of primals\[1\]\)"):
        cr.jvp(lambda x, y: x * y, (1.0, np.ones(3)), (1.0, np.ones(2)))
    with pytest.raises(ValueError, match=r"tangents\[0\]\['w'\] has shape \(\), expected \(2,"):
        cr.jvp(lambda p: p["w"], ({"w": np.ones(2)},), ({"w": 1.0},))


def test_tangent_dtype_mismatch_is_refused():
    x = np.ones(2, dtype=np.float32)
    with pytest.raises(TypeError, match=r"tangents\[0\] has dtype float64, expected float32"):
        cr.jvp(cr.sin, (x,), (np.ones(2),))


def test_structure_mismatch_between_primals_and_tangents():
    with pytest.raises(ValueError, match=r"jvp: tangents\[0\]: expected \{'a': \*, 'b': \*\}"):
        cr.jvp(lambda p: p["a"], ({"a": 1.0, "b": 2.0},), ({"a": 1.0},))
    with pytest.raises(ValueError, match=r"jvp: tangents: expected \(\*, \*\), got \(\*,\)"):
        cr.jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))
    with pytest.raises(TypeError, match=r"jvp: primals must be a tuple or list"):
        cr.jvp(cr.sin, np.ones(2), (np.ones(2),))


def test_an_integer_primal_cannot_carry_a_tangent():
    with pytest.raises(TypeError, match=r"primals\[0\] has dtype int64, which cannot carry a "
                                        r"tangent"):
        cr.jvp(lambda n: n * 2.0, (3,), (1.0,))
    with pytest.raises(TypeError, match=r"jacfwd: argument 0 has dtype int64"):
        cr.jacfwd(lambda n: n * 2.0)(np.arange(3))


def test_dual_repr_and_conversions():
    out = {}
    cr.jvp(lambda x: out.update(d=x, b=bool(x > 1.0), f=float(cr.stop_gradient(x))) or x,
           (2.0,), (1.0,))
    assert isinstance(out["d"], Dual) and "tangent=" in repr(out["d"])
    assert out["f"] == 2.0 and out["b"] is True
    with pytest.raises(cr.TracerConversionError, match="no longer running"):
        np.asarray(out["d"])  # a dual that escaped its transform still carries a tangent
