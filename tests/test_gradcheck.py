"""gradcheck: reverse and forward mode against chainrule.numerical, element by element and
along random directions; wrong rules caught and located; dtype-scaled tolerances; kinks."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import Mismatch, default_tolerances
from chainrule.numerical import EvaluationError


def cube_with(vjp_rule=None, jvp_rule=None, name="cube"):
    """x**3 as a custom primitive whose rules default to the right ones."""
    prim = cr.primitive(lambda x: x**3, name=name)
    prim.defvjp(vjp_rule or (lambda g, out, x: g * 3.0 * x**2))
    prim.defjvp(jvp_rule or (lambda dx, out, x: dx * 3.0 * x**2))
    return prim


X = np.array([1.0, 2.0, 0.5])


# ----- correct derivatives pass -----

def test_passes_in_both_modes_for_several_inputs():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 1.5, (2, 3)), rng.uniform(0.5, 1.5, 3)
    assert cr.gradcheck(lambda x, y: cr.tanh(x @ y) * cr.exp(y[0]), a, b) is True
    assert cr.gradcheck(lambda x, y: cr.log(x * y), a, b, modes="forward")
    assert cr.gradcheck(cube_with(), X)
    # integer inputs are taken as float64, as before
    assert cr.gradcheck(lambda x: x * x, np.array([1, 2]))


def test_scalars_tensors_and_empty_inputs():
    assert cr.gradcheck(cr.sin, 0.5)
    assert cr.gradcheck(cr.sin, cr.tensor([0.5, 1.0], requires_grad=True))
    assert cr.gradcheck(lambda x, y: cr.sum(x) + y, np.zeros(0), np.ones(2))
    assert cr.gradgradcheck(lambda x: cr.sum(x**3), 0.5)


def test_options_step_method_and_tolerances():
    f = lambda x: cr.sin(x) * cr.exp(x)  # noqa: E731
    assert cr.gradcheck(f, X, eps=1e-6)
    # Richardson is accurate enough for tolerances near float64 rounding
    assert cr.gradcheck(f, X, method="richardson", atol=1e-11, rtol=1e-10)
    # central differences cannot resolve 1e-14, and their error estimate (measured, and
    # added to the tolerance) says so: no false alarm
    assert cr.gradcheck(f, X, atol=1e-14, rtol=1e-14)


# ----- a wrong rule is caught, in the mode it lives in, at its element -----

def test_wrong_vjp_is_caught_in_reverse_mode_only():
    wrong = cube_with(vjp_rule=lambda g, out, x: g * 2.0 * x**2, name="cube_bad_vjp")
    with pytest.raises(cr.GradcheckError, match=r"input 0, output index \(1,\), input index "
                       r"\(1,\): reverse mode gives 8, central differences give 12") as info:
        cr.gradcheck(wrong, X)
    assert "forward mode agrees" in str(info.value)
    m = info.value.mismatch
    assert isinstance(m, Mismatch)
    assert (m.mode, m.input, m.output_index, m.input_index) == ("reverse", 0, (1,), (1,))
    assert m.analytic == 8.0 and abs(m.numeric - 12.0) < 1e-8
    assert cr.gradcheck(wrong, X, modes=("forward",))


def test_wrong_jvp_is_caught_in_forward_mode_only():
    wrong = cube_with(jvp_rule=lambda dx, out, x: dx * 3.0 * x, name="cube_bad_jvp")
    with pytest.raises(cr.GradcheckError, match=r"input 0, output index \(1,\), input index "
                       r"\(1,\): forward mode gives 6, central differences give 12") as info:
        cr.gradcheck(wrong, X)
    assert "reverse mode agrees" in str(info.value)
    assert info.value.mismatch.mode == "forward"
    assert cr.gradcheck(wrong, X, modes="reverse")


def test_the_failing_input_is_named():
    mul = cr.primitive(lambda x, y: x * y, name="mul_bad_second")
    mul.defvjp(lambda g, out, x, y: g * y, lambda g, out, x, y: g * 2.0 * x)
    mul.defjvp(lambda dx, out, x, y: dx * y, lambda dy, out, x, y: dy * x)
    x, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0], [7.0, 8.0]])
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(mul, x, y)
    m = info.value.mismatch
    assert (m.mode, m.input) == ("reverse", 1)
    assert m.output_index == m.input_index == (1, 1)  # the largest x: the worst element
    assert (m.analytic, round(m.numeric, 6)) == (8.0, 4.0)
    assert "input 1, output index (1, 1), input index (1, 1)" in str(info.value)


def test_both_modes_wrong_are_both_reported():
    wrong = cube_with(lambda g, out, x: g * x, lambda dx, out, x: dx * x, name="cube_both_bad")
    with pytest.raises(cr.GradcheckError, match=r"(?s)reverse mode gives.*\nforward mode "
                       r"disagrees too: input 0, output index"):
        cr.gradcheck(wrong, X)


# ----- random directions -----

def test_rules_nonlinear_in_the_tangent_need_random_directions():
    # dx**2 equals dx on the basis vectors 0 and 1: only a random direction exposes it
    jvp_sq = cube_with(jvp_rule=lambda dx, out, x: dx**2 * 3.0 * x**2, name="cube_jvp_sq")
    assert cr.gradcheck(jvp_sq, X, random_directions=0)
    with pytest.raises(cr.GradcheckError, match=r"random direction 0 \(seed 0\), output index "
                       r"\(\d,\): forward mode gives J v = .*d/dt f\(x \+ t v\)") as info:
        cr.gradcheck(jvp_sq, X)
    assert info.value.mismatch.direction == 0
    vjp_sq = cube_with(vjp_rule=lambda g, out, x: g**2 * 3.0 * x**2, name="cube_vjp_sq")
    assert cr.gradcheck(vjp_sq, X, random_directions=0)
    with pytest.raises(cr.GradcheckError, match=r"reverse mode gives u\^T J v = ") as info:
        cr.gradcheck(vjp_sq, X)
    assert info.value.mismatch.mode == "reverse"


def test_random_directions_alone_check_large_inputs_cheaply():
    x = np.linspace(0.5, 1.5, 2000)
    assert cr.gradcheck(lambda x: cr.sum(cr.sin(x) * x), x, elementwise=False,
                        random_directions=3)
    for wrong, mode in [(cube_with(vjp_rule=lambda g, out, x: g * 3.0 * x, name="cv"), "reverse"),
                        (cube_with(jvp_rule=lambda dx, out, x: dx * 3.0 * x, name="cj"),
                         "forward")]:
        with pytest.raises(cr.GradcheckError, match="elementwise=True to find") as info:
            cr.gradcheck(wrong, x, elementwise=False, random_directions=1)
        assert info.value.mismatch.mode == mode


def test_random_directions_are_seeded():
    wrong = cube_with(jvp_rule=lambda dx, out, x: dx * 3.0 * x, name="cube_seeded")

    def found(seed):
        with pytest.raises(cr.GradcheckError) as info:
            cr.gradcheck(wrong, X, elementwise=False, seed=seed)
        return info.value.mismatch

    assert found(3) == found(3)
    assert found(3).analytic != found(4).analytic
    assert "(seed 4)" in f"{found(4).sentence('central', 4)}"


# ----- tolerances scaled to dtype -----

def slightly_off(rel):
    """exp whose VJP and JVP are off by the relative error ``rel``, like rounding would be."""
    prim = cr.primitive(np.exp, name=f"exp_off_{rel}")
    prim.defvjp(lambda g, out, x: g * out * (1 + rel))
    prim.defjvp(lambda dx, out, x: dx * out * (1 + rel))
    return prim


def test_float32_inputs_get_float32_tolerances():
    atol32, rtol32 = default_tolerances(np.float32)
    eps32 = float(np.finfo(np.float32).eps)
    assert (atol32, rtol32) == (np.sqrt(eps32), 10 * np.sqrt(eps32))
    assert default_tolerances(np.float64) == (1e-5, 1e-4)
    x32 = np.array([0.3, -0.7, 1.1], dtype=np.float32)
    # an error of 1e-3 is rounding for float32, a bug for float64
    assert cr.gradcheck(slightly_off(1e-3), x32)
    with pytest.raises(cr.GradcheckError):
        cr.gradcheck(slightly_off(1e-3), x32.astype(np.float64))
    with pytest.raises(cr.GradcheckError, match=r"tolerances for float32"):
        cr.gradcheck(slightly_off(1e-2), x32)


def test_float32_ad_runs_in_float32_against_a_float64_reference():
    seen = []
    prim = cr.primitive(np.tanh, name="tanh_dtype_spy")
    prim.defvjp(lambda g, out, x: seen.append(("vjp", x.dtype)) or g * (1 - out**2))
    prim.defjvp(lambda dx, out, x: seen.append(("jvp", x.dtype)) or dx * (1 - out**2))
    x32 = np.linspace(-2, 2, 5, dtype=np.float32)
    assert cr.gradcheck(lambda x: cr.sum(prim(x) * x), x32)
    assert {dtype for _, dtype in seen} == {np.dtype(np.float32)}
    assert {kind for kind, _ in seen} == {"vjp", "jvp"}
    # the mixed case takes the least precise input's tolerances
    assert cr.gradcheck(lambda a, b: a * b, x32, np.linspace(1, 2, 5))


# ----- kinks: compared with one-sided differences -----

def test_at_a_kink_a_subgradient_passes_in_both_modes():
    assert cr.gradcheck(cr.relu, np.array([0.0, 1.0, -1.0]))
    assert cr.gradcheck(cr.abs, np.array([0.0, 2.0]), modes="forward")
    # kinks in two coordinates at once: a direction would mix their sides, so the
    # element check (one coordinate at a time) decides
    assert cr.gradcheck(lambda x: cr.relu(x[0]) - cr.relu(x[1]), np.zeros(2))
    # without the element check, one-sided directional differences bound each direction
    assert cr.gradcheck(cr.relu, np.array([0.0, 1.0]), elementwise=False)


def test_at_a_kink_a_wrong_value_names_the_one_sided_differences():
    g = lambda x: cr.relu(x) - cr.relu(-x)  # noqa: E731 - equals x; AD gives 0 at 0
    with pytest.raises(cr.GradcheckError, match=r"(?s)reverse mode gives 0, central differences "
                       r"give 1 .*one-sided differences give 1 and 1.*relu at.*forward mode "
                       r"disagrees too") as info:
        cr.gradcheck(g, np.array([0.0]))
    assert info.value.mismatch.one_sided == (1.0, 1.0)
    with pytest.raises(cr.GradcheckError, match=r"(?s)random direction 0.*one-sided"):
        cr.gradcheck(g, np.array([0.0]), elementwise=False)


# ----- bad input -----

@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"modes": ("reverse", "sideways")}, ValueError, "modes must be a non-empty selection"),
    ({"modes": ()}, ValueError, "modes must be"),
    ({"random_directions": -1}, ValueError, "random_directions must be an integer >= 0"),
    ({"random_directions": 1.5}, ValueError, "random_directions"),
    ({"elementwise": False, "random_directions": 0}, ValueError, "nothing to check"),
    ({"atol": -1.0}, ValueError, "atol must be a finite number >= 0"),
    ({"rtol": float("nan")}, ValueError, "rtol must be"),
    ({"eps": 0.0}, ValueError, "eps .the step. must be > 0"),
    ({"method": "symbolic"}, ValueError, "unknown method 'symbolic'"),
    ({"seed": "0"}, TypeError, "seed must be an integer"),
])
def test_bad_options_are_named(kwargs, error, match):
    with pytest.raises(error, match=f"gradcheck: {match}"):
        cr.gradcheck(cr.sin, X, **kwargs)


def test_bad_inputs_are_named():
    with pytest.raises(TypeError, match="at least one input"):
        cr.gradcheck(cr.sin)
    with pytest.raises(TypeError, match="input 1 is complex"):
        cr.gradcheck(lambda x, y: x, X, np.array([1j]))
    with pytest.raises(TypeError, match="input 0 must be a real number or array"):
        cr.gradcheck(cr.sin, np.array(["a"]))


def test_f_failing_at_a_stencil_point_is_named():
    with pytest.raises(EvaluationError, match=r"nan at the stencil point x - h0\*e\[0\]"):
        cr.gradcheck(cr.log, np.array([1e-9, 1.0]), eps=1e-6)


def test_a_mode_without_rules_says_so():
    only_vjp = cr.primitive(lambda x: x * x, name="square_vjp_only")
    only_vjp.defvjp(lambda g, out, x: g * 2 * x)
    assert cr.gradcheck(only_vjp, X, modes="reverse")
    with pytest.raises(TypeError, match="has no JVP rule") as info:
        cr.gradcheck(only_vjp, X)
    notes = getattr(info.value, "__notes__", ["gradcheck: raised while checking forward mode"])
    assert any("raised while checking forward mode" in n for n in notes)
    # when reverse mode already failed, the failure is reported, the missing rule noted
    wrong = cr.primitive(lambda x: x * x, name="square_wrong_vjp_only")
    wrong.defvjp(lambda g, out, x: g * 3 * x)
    with pytest.raises(cr.GradcheckError, match="forward mode could not run: TypeError"):
        cr.gradcheck(wrong, X)
