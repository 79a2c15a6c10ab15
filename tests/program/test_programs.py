"""Tracing, printing, compiling and the jit cache (one behaviour per test)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.program.source import to_function


def seed(x):
    return x**2 - 3*x - 2


SEED_GRAD = '''\
import numpy as np
from chainrule.program.source import P

def grad_seed(x):
    # backward: the derivative, from the VJP/JVP rules
    # rule of test_programs.py:15: return x**2 - 3*x - 2
    t0 = np.multiply(2, x)
    t1 = np.add(np.float64(-3.0), t0)
    return (t1,)
'''


def test_seed_gradient_program_text_is_pinned():
    assert str(cr.make_program(cr.grad(seed))(3.0)) == SEED_GRAD


def test_printed_source_runs_as_written():
    program = cr.make_program(cr.value_and_grad(seed))(3.0)
    namespace: dict = {}
    exec(program.to_source(), namespace)  # the text alone, nothing bound by chainrule
    value, slope = namespace[program.name](np.float64(5.0))
    assert (value, slope) == (8.0, 7.0)


def test_forward_part_then_backward_part_with_source_lines():
    text = str(cr.make_program(cr.value_and_grad(seed))(3.0))
    assert text.index("# forward") < text.index("# backward")
    assert text.count("return x**2 - 3*x - 2") == 2
    assert "t0 = np.square(x)" in text


def test_program_records_shapes_and_dtypes():
    program = cr.make_program(lambda a, b: cr.sum(cr.tanh(a @ b), axis=0))(
        np.ones((3, 4), np.float32), np.ones((4, 5), np.float32))
    assert [e.prim.name for e in program.eqns] == ["matmul", "tanh", "sum"]
    assert program.eqns[0].outputs[0].shape == (3, 5)
    assert program.outputs[0].shape == (5,) and program.outputs[0].dtype == np.float32


def test_composed_transforms_trace():
    x = np.array([0.3, -1.2, 2.0])

    def f(x):
        return cr.sum(cr.sin(x) * x**3)

    for transform in (cr.jacfwd(cr.grad(f)), cr.hessian(f), cr.jacrev(cr.grad(f))):
        program = cr.make_program(transform)(x)
        np.testing.assert_array_equal(program.to_function()(x)[0], transform(x))


def test_vjp_traces():
    x = np.array([0.5, 1.5])

    def pullback(x, ct):
        out, vjp_fn = cr.vjp(lambda x: cr.exp(x) * x, x)
        return out, vjp_fn(ct)

    ct = np.array([1.0, -2.0])
    expected = pullback(x, ct)
    got = cr.jit(pullback)(x, ct)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1][0], expected[1][0])


def test_zero_cotangent_through_infinite_slope_stays_zero_under_jit():
    # the eager sweep redoes itself with masks at 0 * inf: the program decides the same
    def f(x):
        return cr.sum(cr.where(x > 0, cr.sqrt(x), 0.0))

    x = np.array([0.0, 1.0, 4.0])
    with np.errstate(all="ignore"):
        eager = cr.grad(f)(x)
        assert not np.isnan(eager).any()
        np.testing.assert_array_equal(cr.jit(cr.grad(f))(x), eager)
        tangent = cr.jit(lambda x: cr.jvp(cr.sqrt, (x,), (np.array([0.0, 1.0, 1.0]),)))(x)
        np.testing.assert_array_equal(tangent[1],
                                      cr.jvp(cr.sqrt, (x,), (np.array([0.0, 1.0, 1.0]),))[1])


# ----- the cache -----

def test_same_signature_does_not_retrace_new_shape_dtype_or_static_does():
    calls = []

    def f(x, n):
        calls.append(1)
        return x * n

    jf = cr.jit(f, static_argnums=1)
    jf(np.ones(3), 2)
    jf(np.full(3, 5.0), 2)
    assert len(calls) == 1 and jf.traces == 1
    jf(np.ones(4), 2)
    assert jf.traces == 2
    jf(np.ones(4, np.float32), 2)
    assert jf.traces == 3
    np.testing.assert_array_equal(jf(np.ones(4), 3), np.full(4, 3.0))
    assert jf.traces == 4
    jf(np.ones(4), 3)
    assert jf.traces == 4


def test_lower_shows_the_compiled_program():
    jf = cr.jit(cr.grad(seed))
    assert str(jf.lower(3.0)) == SEED_GRAD
    assert jf.program(4.0) is jf.lower(3.0)


def test_unhashable_static_argument_is_refused():
    jf = cr.jit(lambda x, sizes: x * len(sizes), static_argnums=1)
    with pytest.raises(TypeError, match="static argument 1 is a list.*not hashable"):
        jf(np.ones(2), [1, 2])


def test_changing_shapes_warn_after_repeated_retraces():
    jf = cr.jit(lambda x: x + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 12):
            jf(np.ones(n))
    assert sum("traced" in str(w.message) for w in caught) == 1


def test_python_control_flow_on_traced_value_is_refused():
    def f(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(cr.TracerConversionError, match=r"bool\(\).*cr\.where.*static_argnums"):
        cr.jit(f)(1.0)
    with pytest.raises(cr.TracerConversionError, match=r"float\(\)"):
        cr.jit(lambda x: float(x) * 2)(1.0)
    with pytest.raises(cr.TracerConversionError, match=r"np\.asarray"):
        cr.jit(lambda x: np.asarray(x) * 2)(np.ones(2))
    n = 0

    def loop(x):
        nonlocal n
        while x < 10:
            x = x * 2
        return x

    with pytest.raises(cr.TracerConversionError, match="traced by cr.jit"):
        cr.jit(loop)(1.0)


def test_static_argument_allows_control_flow():
    jf = cr.jit(lambda x, flag: x if flag else -x, static_argnums=1)
    assert jf(2.0, True) == 2.0 and jf(2.0, False) == -2.0


def test_escaping_traced_value_is_refused():
    kept = []

    def f(x):
        kept.append(x)
        return x * 2

    cr.jit(f)(np.ones(2))
    with pytest.raises(TypeError, match="escaped"):
        kept[0] + 1


def test_grad_of_jit_reuses_the_program_and_jit_inside_a_program_runs_inline():
    jf = cr.jit(seed)
    assert cr.grad(jf)(3.0) == 3.0
    assert cr.grad(cr.grad(jf))(3.0) == 2.0
    assert jf.traces == 1  # grad(jit(f)): the compiled program, as one primitive
    program = cr.make_program(cr.grad(jf))(3.0)
    assert program.to_function()(5.0)[0] == 7.0
    assert [e.prim.name for e in program.eqns] == ["multiply", "add"]  # inline: 2x - 3
    assert jf.traces == 1


def test_training_step_with_pytree_parameters_equals_eager():
    rng = np.random.default_rng(0)
    params = {"w1": rng.normal(size=(4, 8)), "b1": np.zeros(8),
              "w2": rng.normal(size=(8, 3)), "b2": np.zeros(3)}
    x = rng.normal(size=(16, 4))
    y = rng.normal(size=(16, 3))

    def loss(p, x, y):
        h = cr.tanh(x @ p["w1"] + p["b1"])
        return cr.mean((h @ p["w2"] + p["b2"] - y) ** 2)

    step = cr.jit(cr.value_and_grad(loss))
    eager_params = dict(params)
    for _ in range(3):
        value, grads = step(params, x, y)
        eager_value, eager_grads = cr.value_and_grad(loss)(eager_params, x, y)
        assert value == eager_value
        for k in params:
            np.testing.assert_array_equal(grads[k], eager_grads[k])
        params = {k: params[k] - 0.1 * grads[k] for k in params}
        eager_params = {k: eager_params[k] - 0.1 * eager_grads[k] for k in params}
    assert step.traces == 1


def test_to_function_compiles_generated_text_only():
    program = cr.make_program(seed)(1.0)
    fn = to_function(program)
    assert fn.__source__ == program.to_source()
    assert fn(4.0)[0] == seed(4.0)


def test_make_program_static_argument_stays_concrete():
    def power_sum(x, n):
        for _ in range(n):  # a Python loop over a static count
            x = x * 2.0
        return cr.sum(x)

    program = cr.make_program(power_sum, static_argnums=1)(np.ones(3), 3)
    assert [e.prim.name for e in program.eqns] == ["multiply"] * 3 + ["sum"]
    assert program(np.array([1.0, 2.0, 3.0])) == 48.0


def test_keyword_arguments_are_refused_with_a_hint():
    with pytest.raises(TypeError, match="functools.partial"):
        cr.jit(lambda x, scale=1.0: x * scale)(np.ones(2), scale=2.0)


def test_captured_arrays_are_constants_read_at_trace_time():
    small, big = np.ones(3), np.ones(100)
    jf = cr.jit(lambda x: (x * small, x[:1] * big))
    jf(np.ones(3))
    small[:] = 5.0
    big[:] = 5.0
    a, b = jf(np.ones(3))
    assert (a == 1.0).all() and (b == 1.0).all()  # both as traced, never a mix


def test_cli_explain_code_prints_forward_and_derivative_programs(capsys):
    from chainrule.cli import main

    assert main(["explain", "x**2 - 3*x - 2", "--at", "x=3", "--code"]) == 0
    out = capsys.readouterr().out
    assert "def f(x):" in out and "t0 = np.power(x, 2.0)" in out
    derivative = out[out.index("def grad_f(x):"):]
    assert "    t0 = np.multiply(2.0, x)\n    t1 = np.add(np.float64(-3.0), t0)\n" \
           "    return (t1,)" in derivative


def test_constant_results_are_fresh_arrays_each_call():
    jf = cr.jit(cr.grad(lambda x, y: cr.sum(y * 2.0), argnums=(0, 1)))
    gx, _ = jf(np.ones(3), np.ones(3))   # gx: zeros, a constant of the program
    gx += 7.0
    gx2, gy2 = jf(np.ones(3), np.ones(3))
    np.testing.assert_array_equal(gx2, np.zeros(3))
    np.testing.assert_array_equal(gy2, np.full(3, 2.0))


def test_subgradient_policy_is_part_of_the_signature():
    jg = cr.jit(cr.grad(lambda x: cr.maximum(x, 1.0)))
    assert jg(1.0) == 0.0
    with cr.subgradient_policy("pytorch"):
        assert jg(1.0) == 0.5 == cr.grad(lambda x: cr.maximum(x, 1.0))(1.0)
    assert jg(1.0) == 0.0 and jg.traces == 2


def test_anomaly_mode_and_kink_recording_run_eagerly():
    jf = cr.jit(cr.grad(lambda x: cr.sum(cr.abs(x))))
    with cr.kinks() as events:
        jf(np.array([0.0, 1.0]))
    assert events and jf.traces == 0
    jl = cr.jit(cr.grad(lambda x: cr.sum(cr.log(x))))
    with cr.detect_anomaly(), pytest.raises(FloatingPointError, match="log"):
        jl(np.array([0.0]))
    assert jl.traces == 0
