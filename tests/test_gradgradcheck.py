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
