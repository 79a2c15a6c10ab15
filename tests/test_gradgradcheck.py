"""gradgradcheck: second derivatives by reverse mode against differences of the gradient."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import primitive


def test_passes_for_correct_second_derivatives():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 1.5, 3), rng.uniform(0.5, 1.5, (2, 3))
    assert cr.gradgradcheck(lambda x, y: cr.log(x * y) + cr.tanh(y) * x ** 2, a, b)
    assert cr.gradgradcheck(lambda w: cr.sum(cr.softmax(w @ w.T, axis=-1)), b)


def test_catches_a_wrong_second_derivative():
    # first derivative right, but written with a constant where x belongs:
    # the gradient is correct at the point, its derivative is not
    cube = primitive(lambda x: x ** 3, name="cube_wrong_second")
    cube.defvjp(lambda g, out, x: g * 3.0 * cr.stop_gradient(x) ** 2)
    cube.defjvp(lambda dx, out, x: dx * 3.0 * cr.stop_gradient(x) ** 2)
    x = np.array([0.7, 1.3])
    assert cr.gradcheck(cube, x)
    with pytest.raises(cr.GradcheckError, match="reverse mode gives"):
        cr.gradgradcheck(cube, x)


def wrong_second_cube():
    cube = primitive(lambda x: x ** 3, name="cube_wrong_second_both")
    cube.defvjp(lambda g, out, x: g * 3.0 * cr.stop_gradient(x) ** 2)
    cube.defjvp(lambda dx, out, x: dx * 3.0 * cr.stop_gradient(x) ** 2)
    return cube


def test_both_second_order_modes_are_checked_and_named():
    x = np.array([0.7, 1.3])
    with pytest.raises(cr.GradcheckError, match=r"(?s)gradgradcheck: input 0, output index "
                       r"\(1,\), input index \(1,\): reverse-over-reverse mode gives 0, central "
                       r"differences give .*\nforward-over-reverse mode disagrees too") as info:
        cr.gradgradcheck(wrong_second_cube(), x)
    assert info.value.mismatch.mode == "reverse-over-reverse"
    with pytest.raises(cr.GradcheckError, match="forward-over-reverse mode gives 0"):
        cr.gradgradcheck(wrong_second_cube(), x, modes="forward")
    with pytest.raises(cr.GradcheckError, match=r"random direction 0 \(seed 0\)"):
        cr.gradgradcheck(wrong_second_cube(), x, elementwise=False)


def test_a_wrong_jvp_inside_a_vjp_rule_fails_forward_over_reverse_only():
    # the VJP of cube calls square3 (3 x**2), whose JVP rule is wrong: reverse over
    # reverse never runs it, forward over reverse does
    square3 = primitive(lambda x: 3.0 * x ** 2, name="square3_bad_jvp")
    square3.defvjp(lambda g, out, x: g * 6.0 * x)
    square3.defjvp(lambda dx, out, x: dx * 5.0 * x)
    cube = primitive(lambda x: x ** 3, name="cube_via_square3")
    cube.defvjp(lambda g, out, x: g * square3(x))
    cube.defjvp(lambda dx, out, x: dx * square3(x))
    x = np.array([0.5, 2.0])
    assert cr.gradcheck(cube, x)
    assert cr.gradgradcheck(cube, x, modes="reverse")
    with pytest.raises(cr.GradcheckError, match=r"input index \(1,\): forward-over-reverse "
                       r"mode gives") as info:
        cr.gradgradcheck(cube, x)
    assert "reverse-over-reverse mode agrees" in str(info.value)
    m = info.value.mismatch  # w * 5x against w * 6x, w the random cotangent
    assert abs(m.analytic / m.numeric - 5 / 6) < 1e-8


def test_float32_second_derivatives():
    x32 = np.array([0.3, -0.8, 1.2], dtype=np.float32)
    assert cr.gradgradcheck(lambda x: cr.sum(cr.tanh(x) * x ** 2), x32)
    with pytest.raises(cr.GradcheckError, match="tolerances for float32"):
        cr.gradgradcheck(wrong_second_cube(), x32)


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="gradgradcheck: modes must be"):
        cr.gradgradcheck(cr.sin, np.array([1.0]), modes="backward")
