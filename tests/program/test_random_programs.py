"""Random programs (hypothesis): under jit, values and gradients equal eager bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

UNARY = [cr.sin, cr.cos, cr.tanh, cr.exp, cr.negative, cr.square, cr.sigmoid, cr.abs,
         lambda x: cr.sqrt(cr.abs(x) + 1.0), lambda x: cr.log1p(x * x), cr.relu,
         lambda x: cr.transpose(x), lambda x: x * 1.0 + 0.0]
BINARY = [cr.add, cr.subtract, cr.multiply, lambda a, b: a / (b * b + 1.0), cr.maximum,
          cr.minimum, lambda a, b: cr.where(a > b, a, b)]

steps = st.lists(st.tuples(st.booleans(), st.integers(0, 99), st.integers(0, 99),
                           st.integers(0, 99)), min_size=1, max_size=12)


def build(plan):
    def f(x, y):
        values = [x, y]
        for binary, op, i, j in plan:
            a = values[i % len(values)]
            if binary:
                b = values[j % len(values)]
                values.append(BINARY[op % len(BINARY)](a, b))
            else:
                values.append(UNARY[op % len(UNARY)](a))
        return cr.sum(values[-1] * values[-1]) + cr.sum(values[-2])
    return f


@settings(max_examples=60, deadline=None)
@given(plan=steps, seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from(["float64",
                                                                           "float32"]))
def test_random_programs_under_jit_equal_eager(plan, seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 3)).astype(dtype)
    y = rng.standard_normal((3, 3)).astype(dtype)
    f = build(plan)
    with np.errstate(all="ignore"):
        assert np.array_equal(cr.jit(f)(x, y), f(x, y), equal_nan=True)
        eager = cr.grad(f, argnums=(0, 1))(x, y)
        jitted = cr.jit(cr.grad(f, argnums=(0, 1)))(x, y)
        for a, b in zip(jitted, eager):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
