"""Every primitive in the spec table under jit and make_program equals eager.

For each spec and each of its shape cases: ``jit(f)``, ``jit(grad(loss))``,
``jit(jvp ...)`` and ``make_program(grad(loss)).to_function()`` give the eager
results bit for bit (no pass reassociates arithmetic; the only change a pass may
make is the sign of a zero, which compares equal).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from tests.ops.test_primitives import SPECS

# Specs a program cannot hold, refused with a TypeError naming the operation (never a
# silently wrong program): the spec reads values with np.asarray (where), a boolean
# mask gives a value-dependent shape (getitem_bool). (sort and topk trace: their rules
# compute the permutation in the program, tests/program/test_sort_traced.py.)
REFUSED = ("where", "getitem_bool")
# Rules that read concrete numbers where they have them and take the symbolic
# engine's (mathematically equal) path on traced values: a few ulps apart.
ULPS = ("norm_ord", "lstm_sequence", "gru_sequence")


def _refused(spec):
    return spec.name in REFUSED


def _same(actual, expected, what):
    exact = not any(what.startswith(u) for u in ULPS)
    from chainrule.pytree import flatten
    a, ta = flatten(actual)
    e, te = flatten(expected)
    assert ta == te, f"{what}: structure {ta} != {te}"
    for x, y in zip(a, e):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape and x.dtype == y.dtype, f"{what}: {x.dtype}{x.shape} != " \
                                                          f"{y.dtype}{y.shape}"
        if exact:
            np.testing.assert_array_equal(x, y, err_msg=what)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-15, err_msg=what)


def _cases(spec):
    rng = np.random.default_rng(7)
    return [spec.args(rng, case) for case in range(len(spec.shapes))]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@pytest.mark.parametrize("spec", [s for s in SPECS if _refused(s)], ids=lambda s: s.name)
def test_refused_specs_raise(spec):
    args = _cases(spec)[0]

    def loss(*xs):
        return cr.sum(spec.fn(*xs))

    with pytest.raises(TypeError, match=r"trac|symbolic|numbers"):
        cr.jit(cr.grad(loss, argnums=tuple(range(len(args)))))(*args)


ACCEPTED = [s for s in SPECS if not _refused(s)]


@pytest.mark.parametrize("spec", ACCEPTED, ids=[s.name for s in ACCEPTED])
def test_jit_value_equals_eager(spec):
    jf = cr.jit(spec.fn)
    for args in _cases(spec):
        _same(jf(*args), spec.fn(*args), f"{spec.name} value")


@pytest.mark.parametrize("spec", ACCEPTED, ids=[s.name for s in ACCEPTED])
def test_jit_grad_and_program_equal_eager(spec):
    for args in _cases(spec):
        weight = np.random.default_rng(1).standard_normal(np.shape(spec.fn(*args)))

        def loss(*xs, weight=weight):
            return cr.sum(spec.fn(*xs) * weight)

        nums = tuple(range(len(args)))
        eager = cr.grad(loss, argnums=nums)(*args)
        _same(cr.jit(cr.grad(loss, argnums=nums))(*args), eager, f"{spec.name} jit(grad)")
        program = cr.make_program(cr.grad(loss, argnums=nums))(*args)
        _same(tuple(program.to_function()(*args)), tuple(np.asarray(g) for g in eager),
              f"{spec.name} make_program(grad).to_function()")


@pytest.mark.parametrize("spec", ACCEPTED, ids=[s.name for s in ACCEPTED])
def test_jit_jvp_equals_eager(spec):
    for args in _cases(spec):
        rng = np.random.default_rng(2)
        tangents = tuple(rng.standard_normal(np.shape(a)) for a in args)

        def push(*xs, tangents=tangents):
            return cr.jvp(spec.fn, xs, tangents)

        _same(cr.jit(push)(*args), push(*args), f"{spec.name} jit(jvp)")
