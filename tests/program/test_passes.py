"""Each pass alone, on small programs traced for the purpose."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.program import passes
from chainrule.program.trace import trace_program


def names(program):
    return [e.prim.name for e in program.eqns]


def test_dce_drops_unused_equations():
    program = trace_program(lambda x: (cr.sin(x), cr.cos(x))[0], (np.ones(3),))
    assert names(program) == ["sin", "cos"]
    assert names(passes.dce(program)) == ["sin"]


def test_cse_merges_repeated_computations():
    program = trace_program(lambda x: cr.exp(x) + cr.exp(x), (np.ones(3),))
    merged = passes.dce(passes.cse(program))
    assert names(merged) == ["exp", "add"]
    add = merged.eqns[1]
    assert add.inputs[0] is add.inputs[1]
    x = np.array([0.5, 1.0, 2.0])
    np.testing.assert_array_equal(merged.to_function()(x)[0], np.exp(x) + np.exp(x))


def test_cse_keeps_equations_with_different_params():
    program = trace_program(lambda x: cr.sum(x, axis=0) + cr.sum(x, axis=1), (np.ones((2, 2)),))
    assert names(passes.cse(program)).count("sum") == 2


def test_fold_evaluates_constant_equations():
    program = trace_program(lambda x: x, (np.ones(2),))
    from chainrule.core.primitive import registry
    from chainrule.program.ir import Const, Eqn, Var
    out = Var((2,), np.dtype(float))
    program = program.replace(
        eqns=[Eqn(registry["exp"], [Const(np.zeros(2))], {}, [out])], outputs=[out])
    folded = passes.fold(program)
    assert folded.eqns == [] and isinstance(folded.outputs[0], Const)
    np.testing.assert_array_equal(folded.outputs[0].value, np.ones(2))


def test_identities_remove_exact_no_ops():
    def f(x):
        return -(-(x * 1.0 + 0.0 - 0.0) / 1.0)

    program = passes.dce(passes.identities(trace_program(f, (np.ones(3),))))
    assert names(program) == []
    x = np.array([np.nan, np.inf, -2.0])
    np.testing.assert_array_equal(program.to_function()(x)[0], x)


def test_transpose_of_transpose_is_removed_only_when_it_is_the_identity():
    x = np.ones((2, 3, 4))
    same = passes.identities(trace_program(lambda x: cr.transpose(cr.transpose(x)), (x,)))
    assert names(passes.dce(same)) == []
    axes = passes.identities(trace_program(
        lambda x: cr.transpose(cr.transpose(x, (1, 0, 2)), (0, 2, 1)), (x,)))
    assert names(passes.dce(axes)) == ["transpose", "transpose"]


def test_times_zero_is_removed_for_integers_but_not_floats():
    floats = passes.dce(passes.identities(trace_program(lambda x: x * 0, (np.ones(3),))))
    assert names(floats) == ["multiply"]  # inf * 0 is nan: it must stay
    x = np.array([np.inf, 1.0, np.nan])
    assert np.isnan(floats.to_function()(x)[0][[0, 2]]).all()
    ints = passes.dce(passes.identities(trace_program(lambda x: x * 0,
                                                      (np.ones(3, np.int64),))))
    assert names(ints) == []


def test_broadcasting_multiply_by_one_is_kept():
    program = passes.identities(trace_program(lambda x: x * np.ones((2, 3)), (np.ones(3),)))
    assert names(passes.dce(program)) == ["multiply"]


def test_reuse_buffers_writes_into_dead_temporaries_only():
    def f(x, y):
        a = cr.exp(x)        # owned, dead after b: reused
        b = cr.sin(a)
        c = b * y            # b dead: reused
        return c, cr.tanh(x)  # x is an input: never written

    x, y = np.array([0.1, 0.2]), np.array([3.0, 4.0])
    program = passes.reuse_buffers(trace_program(f, (x, y)))
    text = program.to_source()
    assert "out=t0" in text and "out=x" not in text and "out=y" not in text
    x0, y0 = x.copy(), y.copy()
    c, t = program.to_function()(x, y)
    np.testing.assert_array_equal(c, np.sin(np.exp(x0)) * y0)
    np.testing.assert_array_equal(t, np.tanh(x0))
    np.testing.assert_array_equal(x, x0)


def test_reuse_buffers_skips_values_used_later_or_viewed():
    def f(x):
        a = cr.exp(x)
        b = cr.sin(a)
        r = cr.reshape(a, (2, 1))  # a view of a may outlive it
        return b, r

    program = passes.reuse_buffers(trace_program(f, (np.ones(2),)))
    assert "out=" not in program.to_source()


def test_optimistic_skips_keep_zeros_and_falls_back_when_a_check_fails():
    def f(x):
        return cr.sum(cr.where(x > 0, cr.sqrt(x), 0.0))

    program = passes.simplify(trace_program(cr.grad(f), (np.ones(3),)))
    assert "keep_zeros" in names(program)
    fast = passes.optimistic(program)
    assert "keep_zeros" not in names(fast) and fast.checks and fast.fallback is program
    compiled = fast.to_function()
    with np.errstate(all="ignore"):
        for x in (np.array([1.0, 2.0, 4.0]), np.array([0.0, 1.0, 4.0])):
            np.testing.assert_array_equal(compiled(x)[0], cr.grad(f)(x))
        assert compiled(np.array([0.0, 1.0, 2.0]))[0][0] == 0.0  # via the fallback, not nan
        plain = passes.dce(fast.replace(checks=None, fallback=None)).to_function()
        assert np.isnan(plain(np.array([0.0, 1.0, 2.0]))[0][0])  # what the check prevents


def test_optimistic_checks_once_along_a_chain_that_carries_nan():
    def f(x):
        for _ in range(5):
            x = cr.sin(x) * 1.5
        return cr.sum(x)

    program = passes.simplify(trace_program(cr.grad(f), (np.ones(4),)))
    assert names(program).count("keep_zeros") >= 5
    fast = passes.optimistic(program)
    assert len(fast.checks) == 1
    x = np.array([0.1, 0.5, -2.0, 3.0])
    np.testing.assert_array_equal(fast.to_function()(x)[0], cr.grad(f)(x))


def test_power_one_and_where_with_a_constant_condition_are_removed():
    program = passes.dce(passes.identities(trace_program(
        lambda x: cr.where(True, x**1.0, 0.0) + cr.where(False, 1.0, x), (np.ones(2),))))
    assert names(program) == ["add"]
