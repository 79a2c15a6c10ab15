"""sort, topk and partition derivatives under jit and make_program equal eager ones.

The program must compute the permutation when it runs: each test traces on one
input and runs on another, ordered differently (and, for ties, tied elsewhere),
comparing with eager derivatives at that second input. Cotangents are routed
exactly as eager mode routes them: bit for bit, up to the sign of a zero.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr

OPS = {
    "sort": lambda x, axis: cr.sort(x, axis=axis),
    "sort_descending": lambda x, axis: cr.sort(x, axis=axis, descending=True),
    "sort_flat": lambda x, axis: cr.sort(x, axis=None),
    "topk": lambda x, axis: cr.topk(x, max(1, x.shape[axis] // 2), axis=axis)[0],
    "topk_smallest": lambda x, axis: cr.topk(x, x.shape[axis], axis=axis, largest=False)[0],
    "partition": lambda x, axis: cr.partition(x, 0, axis=axis),
}


@st.composite
def cases(draw):
    """Two inputs of one shape and dtype (the trace's and the run's) and an axis; with
    ``ties`` the values come from a handful of integers, so most slices tie."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    axis = draw(st.integers(0, len(shape) - 1))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    ties = draw(st.booleans())
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)

    def one():
        if ties:
            return rng.integers(-2, 3, size=shape).astype(dtype)
        return rng.standard_normal(shape).astype(dtype)

    return one(), one(), axis, ties


def _weights(out, dtype):
    return np.random.default_rng(3).standard_normal(np.shape(out)).astype(dtype)


def _equal(actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("policy", ["min-norm", "pytorch"])
@pytest.mark.parametrize("name", sorted(OPS))
@given(case=cases())
def test_grad_traced_on_one_input_equals_eager_on_another(name, policy, case):
    x0, x1, axis, _ = case
    op = OPS[name]
    w = _weights(op(x0, axis), x0.dtype)

    def loss(x):
        return cr.sum(op(x, axis) * w)

    with cr.subgradient_policy(policy):
        eager = cr.grad(loss)(x1)
        program = cr.make_program(cr.grad(loss))(x0)
        jitted = cr.jit(cr.grad(loss))
        jitted(x0)  # traced here, run below on x1
        _equal(jitted(x1), eager)
        _equal(program.to_function()(x1)[0], eager)
        _equal(program(x1), eager)


@pytest.mark.parametrize("name", sorted(OPS))
@given(case=cases())
def test_jvp_traced_on_one_input_equals_eager_on_another(name, case):
    x0, x1, axis, _ = case
    op = OPS[name]
    t = np.random.default_rng(5).standard_normal(x0.shape).astype(x0.dtype)

    def push(x):
        return cr.jvp(lambda y: op(y, axis), (x,), (t,))

    jitted = cr.jit(push)
    jitted(x0)
    value, tangent = jitted(x1)
    eager_value, eager_tangent = push(x1)
    _equal(value, eager_value)
    _equal(tangent, eager_tangent)


@pytest.mark.parametrize("name", ["sort", "topk", "sort_descending"])
@given(case=cases())
def test_second_derivative_traced_equals_eager(name, case):
    """A curve after the sort: the Hessian-vector product routes a cotangent that
    depends on x through the permutation twice (grad of the traced rules)."""
    x0, x1, axis, _ = case
    op = OPS[name]
    w = _weights(op(x0, axis), x0.dtype)
    v = np.random.default_rng(6).standard_normal(x0.shape).astype(x0.dtype)

    def loss(x):
        return cr.sum(op(x, axis) ** 3 * w)

    def hvp(x):
        return cr.grad(lambda y: cr.sum(cr.grad(loss)(y) * v))(x)

    jitted = cr.jit(hvp)
    jitted(x0)
    _equal(jitted(x1), hvp(x1))


def test_program_sorts_at_run_time():
    """The one program gives each input its own permutation (none frozen at trace time)."""
    def loss(x):
        return cr.sum(cr.sort(x) * np.arange(4.0))

    program = cr.make_program(cr.grad(loss))(np.array([0.0, 1.0, 2.0, 3.0]))
    assert "argsort" in str(program)
    run = program.to_function()
    np.testing.assert_array_equal(run(np.array([3.0, 1.0, 2.0, 0.0]))[0], [3.0, 1.0, 2.0, 0.0])
    np.testing.assert_array_equal(run(np.array([1.0, 1.0, 2.0, 1.0]))[0], [1.0, 1.0, 3.0, 1.0])



@pytest.mark.parametrize("name", ["sort", "sort_descending", "topk", "partition"])
@given(case=cases())
def test_vmap_of_grad_equals_eager_per_example(name, case):
    """Mapped by vmap, x's numbers are the whole batch's: the rules take the
    primitive path too (its batching rules give each example its permutation)."""
    x0, x1, axis, _ = case
    op = OPS[name]
    batch = np.stack([x0, x1])
    w = _weights(op(x0, axis), x0.dtype)

    def loss(x):
        return cr.sum(op(x, axis) * w)

    eager = np.stack([cr.grad(loss)(x) for x in batch])
    _equal(cr.vmap(cr.grad(loss))(batch), eager)
    _equal(cr.jit(cr.vmap(cr.grad(loss)))(batch), eager)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("n", [7, 40, 300])
def test_nans_and_long_ties_are_routed_as_eager_routes_them(n, descending):
    """NaN ties nothing, so several NaNs are routed by the order NumPy's default
    (unstable, beyond 16 elements) sort gives them: the program sorts the same way."""
    rng = np.random.default_rng(n)
    x = rng.integers(0, 4, n).astype(float)
    x[rng.integers(0, n, n // 5 + 2)] = np.nan
    w, t = rng.standard_normal(n), rng.standard_normal(n)

    def loss(y):
        return cr.sum(cr.sort(y, descending=descending) * w)

    def push(y):
        return cr.jvp(lambda z: cr.sort(z, descending=descending), (y,), (t,))[1]

    with np.errstate(invalid="ignore"):
        _equal(cr.jit(cr.grad(loss))(x), cr.grad(loss)(x))
        _equal(cr.jit(push)(x), push(x))


def test_printed_program_runs_as_written():
    """The text of a program that gathers with a traced permutation is self-contained:
    its index templates are printed as literals (``P.Slot``), not held back as comments."""
    w = np.arange(5.0)

    def f(x):
        return cr.sum(cr.sort(x) * w)

    text = str(cr.make_program(cr.grad(f))(np.ones(5)))
    assert "held by the program" not in text and "P.Slot(0)" in text
    namespace: dict = {}
    exec(text, namespace)  # noqa: S102  (the program's own printed text)
    x = np.array([3.0, 1.0, 2.0, 1.0, 5.0])
    (printed,) = namespace["grad_f"](x)
    np.testing.assert_array_equal(printed, cr.grad(f)(x))
