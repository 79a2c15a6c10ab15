"""Fornberg weights against known stencils, and the exactness property that defines them."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.numerical import fd_stencil, fd_weights

KNOWN = [
    # (offsets, n, weights): textbook stencils
    ([-1, 0, 1], 2, [1, -2, 1]),
    ([-1, 1], 1, [-0.5, 0.5]),
    ([-1, 0, 1], 1, [-0.5, 0, 0.5]),
    ([0, 1], 1, [-1, 1]),
    ([-1, 0], 1, [-1, 1]),
    ([0, 1, 2], 1, [-1.5, 2, -0.5]),
    ([0, 1, 2], 2, [1, -2, 1]),
    ([-2, -1, 0, 1, 2], 1, [1 / 12, -8 / 12, 0, 8 / 12, -1 / 12]),
    ([-2, -1, 0, 1, 2], 2, [-1 / 12, 16 / 12, -30 / 12, 16 / 12, -1 / 12]),
    ([-2, -1, 0, 1, 2], 3, [-0.5, 1, 0, -1, 0.5]),
    ([-2, -1, 0, 1, 2], 4, [1, -4, 6, -4, 1]),
    ([-3, -2, -1, 0, 1, 2, 3], 1, [-1 / 60, 9 / 60, -45 / 60, 0, 45 / 60, -9 / 60, 1 / 60]),
    ([0, 1, 2, 3], 3, [-1, 3, -3, 1]),
    ([-0.5, 0.5], 1, [-1, 1]),
    ([0], 0, [1]),
]


@pytest.mark.parametrize(("offsets", "n", "expected"), KNOWN)
def test_known_stencils(offsets, n, expected):
    np.testing.assert_allclose(fd_weights(offsets, n), expected, rtol=1e-15, atol=1e-15)


def test_zero_weights_are_exactly_zero_and_symmetry_exact():
    w = fd_weights(np.arange(-4, 5), 1)
    assert w[4] == 0.0
    np.testing.assert_array_equal(w, -w[::-1])
    w2 = fd_weights(np.arange(-4, 5), 2)
    np.testing.assert_array_equal(w2, w2[::-1])


@settings(deadline=None, max_examples=80)
@given(
    offsets=st.lists(st.integers(-6, 6), min_size=2, max_size=7, unique=True),
    n=st.integers(0, 4),
)
def test_weights_differentiate_monomials_exactly(offsets, n):
    # The defining property: sum_k w_k z_k**j = n! if j == n else 0, for j < len(offsets).
    if len(offsets) < n + 1:
        with pytest.raises(ValueError, match="at least"):
            fd_weights(offsets, n)
        return
    w = fd_weights(offsets, n)
    z = np.array(offsets, dtype=float)
    for j in range(len(offsets)):
        moment = float(np.sum(w * z**j))
        expected = math.factorial(n) if j == n else 0.0
        scale = float(np.sum(np.abs(w * z**j))) + 1.0
        assert abs(moment - expected) <= 1e-13 * scale


def test_weights_match_exact_rationals_on_a_nonuniform_stencil():
    # Offsets 0, 1, 3: first-derivative weights by hand are -4/3, 3/2, -1/6.
    expected = [Fraction(-4, 3), Fraction(3, 2), Fraction(-1, 6)]
    np.testing.assert_array_equal(fd_weights([0, 1, 3], 1), [float(v) for v in expected])


@pytest.mark.parametrize(
    ("method", "n", "order", "offsets"),
    [
        ("central", 1, 2, [-1, 1]),
        ("central", 2, 2, [-1, 0, 1]),
        ("central", 1, 4, [-2, -1, 1, 2]),
        ("central", 3, 2, [-2, -1, 1, 2]),
        ("central", 4, 2, [-2, -1, 0, 1, 2]),
        ("forward", 1, 1, [0, 1]),
        ("forward", 1, 2, [0, 1, 2]),
        ("forward", 2, 1, [0, 1, 2]),
        ("backward", 1, 1, [-1, 0]),
        ("backward", 2, 2, [-3, -2, -1, 0]),
    ],
)
def test_standard_stencils(method, n, order, offsets):
    got_offsets, weights = fd_stencil(method, n, order)
    np.testing.assert_array_equal(got_offsets, offsets)
    np.testing.assert_array_equal(weights, fd_weights(offsets, n))
    assert not np.any(np.signbit(got_offsets[got_offsets == 0]))  # no -0.0 offsets


def test_default_orders():
    assert len(fd_stencil("central")[0]) == 2
    assert len(fd_stencil("forward")[0]) == 2


@pytest.mark.parametrize(
    ("offsets", "n", "match"),
    [
        ([0, 0, 1], 1, "distinct"),
        ([0, 1], 2, "at least 3"),
        ([[0, 1]], 1, "1-D"),
        ([0, np.nan], 1, "finite"),
        ([0, 1], -1, "must be >= 0"),
    ],
)
def test_bad_stencils(offsets, n, match):
    with pytest.raises(ValueError, match=match):
        fd_weights(offsets, n)


def test_bad_stencil_requests():
    with pytest.raises(ValueError, match="valid methods"):
        fd_stencil("complex")
    with pytest.raises(ValueError, match="even"):
        fd_stencil("central", 1, 3)
    with pytest.raises(TypeError, match="integer"):
        fd_weights([0, 1], 1.0)
