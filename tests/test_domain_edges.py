"""Derivatives at the edge of the domain, where they blow up, against PyTorch.

At the edge (sqrt and log at 0, log1p at -1, arcsin at +-1, fractional powers at 0)
every derivative order is PyTorch's one-sided limit, inf or -inf, never NaN: in
reverse mode (nested ``grad``, ``backward(create_graph=True)``, ``jacrev``), forward
mode (nested ``jvp``, ``jacfwd``) and both mixed (``hessian``), in float64 and float32,
exactly at the edge and at tiny distances from it. Reductions that normalize over an
empty axis (softmax, log_softmax, logsumexp) give PyTorch's values and gradients.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

DTYPES = {np.float64: torch.float64, np.float32: torch.float32}

# name: (chainrule function, torch function, edge, side: +1 offsets go up, -1 down)
FUNCTIONS = {
    "sqrt": (cr.sqrt, torch.sqrt, 0.0, 1),
    "log": (cr.log, torch.log, 0.0, 1),
    "log2": (cr.log2, torch.log2, 0.0, 1),
    "log10": (cr.log10, torch.log10, 0.0, 1),
    "log1p": (cr.log1p, torch.log1p, -1.0, 1),
    "cbrt": (cr.cbrt, lambda x: x ** (1 / 3), 0.0, 1),  # torch has no cbrt
    "x**0.5": (lambda x: x ** 0.5, lambda x: x ** 0.5, 0.0, 1),
    "x**-0.5": (lambda x: x ** -0.5, lambda x: x ** -0.5, 0.0, 1),  # rsqrt
    "x**1.5": (lambda x: x ** 1.5, lambda x: x ** 1.5, 0.0, 1),
    "x**(1/3)": (lambda x: cr.power(x, 1 / 3), lambda x: x ** (1 / 3), 0.0, 1),
    "arcsin+1": (cr.arcsin, torch.asin, 1.0, -1),
    "arcsin-1": (cr.arcsin, torch.asin, -1.0, 1),
    "arccos+1": (cr.arccos, torch.acos, 1.0, -1),
    "arccos-1": (cr.arccos, torch.acos, -1.0, 1),
    "arctanh+1": (cr.arctanh, torch.atanh, 1.0, -1),
    "arctanh-1": (cr.arctanh, torch.atanh, -1.0, 1),
}


def torch_orders(tf, x, dtype):
    """Value and first three derivatives by torch.autograd.grad with create_graph."""
    t = torch.tensor(x, dtype=DTYPES[dtype], requires_grad=True)
    y = tf(t)
    values = [y.item()]
    for _ in range(3):
        (y,) = torch.autograd.grad(y, t, create_graph=True)
        values.append(y.item())
    return values


def _nested(transform, f, x):
    d1 = transform(f)
    d2 = transform(d1)
    d3 = transform(d2)
    return [float(np.asarray(d(x))) for d in (f, d1, d2, d3)]


def _jvp_derivative(f):
    return lambda x: cr.jvp(f, (x,), (np.ones((), dtype=x.dtype),))[1]


def _backward_orders(f, x):
    t = cr.tensor(x, requires_grad=True)
    y = f(t)
    values = [float(y.detach().numpy())]
    for k in range(3):
        t.grad = None
        y.backward(create_graph=k < 2)
        y = t.grad
        values.append(float(y.detach().numpy()))
    return values


MODES = {
    "grad": lambda f, x: _nested(cr.grad, f, x),
    "jacrev": lambda f, x: _nested(cr.jacrev, f, x),
    "jvp": lambda f, x: _nested(_jvp_derivative, f, x),
    "jacfwd": lambda f, x: _nested(cr.jacfwd, f, x),
    "backward": _backward_orders,
    # second order only: forward over reverse
    "hessian": lambda f, x: [float(f(x)), float(cr.grad(f)(x)), float(cr.hessian(f)(x))],
}


def assert_same(ours, theirs, dtype, what):
    """Equal infinities (with their signs), NaN nowhere, finite values to rounding.

    Near the top of the range one side may overflow where the other does not
    (products taken in another order); a finite value above an eighth of the
    largest float then counts as matching an infinity of its sign."""
    rtol = 1e-11 if dtype is np.float64 else 2e-5
    big = np.finfo(dtype).max / 8
    for k, (a, b) in enumerate(zip(ours, theirs)):
        where = f"{what}: order {k}: chainrule {a!r}, torch {b!r} (all: {ours} vs {theirs})"
        assert not np.isnan(a) or np.isnan(b), where
        if np.isnan(b):
            continue
        if np.isinf(a) or np.isinf(b):
            if np.isinf(a) and np.isinf(b):
                assert a == b, where
            else:
                assert np.sign(a) == np.sign(b) and min(abs(a), abs(b)) > big, where
            continue
        assert a == pytest.approx(b, rel=rtol, abs=1e-300), where


def _check(name, offset, dtype, modes=MODES):
    f, tf, edge, side = FUNCTIONS[name]
    x = dtype(edge + side * offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch_orders(tf, float(x), dtype)
        for mode, run in modes.items():
            ours = run(f, np.asarray(x))
            what = f"{name} at {x!r} ({dtype.__name__}, {mode})"
            assert_same(ours, theirs[:len(ours)], dtype, what)
    return theirs


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_at_the_edge_every_order_is_the_one_sided_limit(name, dtype):
    theirs = _check(name, 0.0, dtype)
    # and those limits are infinite: the edge is where derivatives blow up
    assert any(np.isinf(v) for v in theirs[1:])


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("offset", [5e-324, 1e-300, 1e-100, 1e-30, 1e-12, 1e-6])
@pytest.mark.parametrize("name", ["sqrt", "log", "log1p", "cbrt", "x**-0.5", "arcsin+1",
                                  "arctanh-1"])
def test_near_the_edge(name, offset, dtype):
    _check(name, offset, dtype)


@given(name=st.sampled_from(list(FUNCTIONS)),
       offset=st.floats(min_value=0.0, max_value=1e-3, allow_subnormal=True),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_near_the_edge_random(name, offset, dtype):
    _check(name, offset, dtype, {m: MODES[m] for m in ("grad", "jvp", "backward")})


def test_masked_branch_stays_zero_beside_the_limit():
    """A branch not taken adds nothing (where(x > 0, sqrt(x), 0) has derivatives 0 at 0),
    while the same sqrt taken directly gives its one-sided limits there."""
    def masked(x):
        return cr.sum(cr.where(x > 0, cr.sqrt(x), 0.0))

    def both(x):
        return masked(x) + cr.sum(cr.sqrt(x))

    def orders(f):
        d1 = cr.grad(f)
        d2 = cr.grad(lambda x: cr.sum(d1(x)))
        d3 = cr.grad(lambda x: cr.sum(d2(x)))
        x = np.array([0.0, 4.0])
        return [np.asarray(d(x)).tolist() for d in (d1, d2, d3)]

    assert orders(masked) == [[0.0, 0.25], [0.0, -1 / 32], [0.0, 3 / 256]]
    assert orders(both) == [[np.inf, 0.5], [-np.inf, -1 / 16], [np.inf, 3 / 128]]


# --- normalizing over an empty axis ------------------------------------------------------

EMPTY = [((0,), -1), ((3, 0), -1), ((0, 3), 0), ((2, 0, 3), 1), ((0,), 0)]


def _torch_ops(name, t, axis):
    return {"softmax": lambda: torch.softmax(t, axis),
            "log_softmax": lambda: torch.log_softmax(t, axis),
            "logsumexp": lambda: torch.logsumexp(t, axis)}[name]()


def _cr_ops(name, x, axis):
    return {"softmax": lambda: cr.softmax(x, axis=axis),
            "log_softmax": lambda: cr.log_softmax(x, axis=axis),
            "logsumexp": lambda: cr.logsumexp(x, axis=axis)}[name]()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape, axis", EMPTY, ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_normalizing_over_an_empty_axis(name, shape, axis, dtype):
    x = np.zeros(shape, dtype=dtype)
    t = torch.tensor(x, requires_grad=True)
    want = _torch_ops(name, t, axis)
    weights = np.random.default_rng(0).standard_normal(tuple(want.shape)).astype(dtype)
    (want * torch.tensor(weights)).sum().backward()

    ours = cr.tensor(x, requires_grad=True)
    got = _cr_ops(name, ours, axis)
    assert got.shape == tuple(want.shape) and got.dtype == x.dtype
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    (got * cr.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), t.grad.numpy())
    assert ours.grad.shape == x.shape

    # the transforms agree: a gradient of the same shape, and the same values
    g = cr.grad(lambda v: cr.sum(_cr_ops(name, v, axis) * weights))(x)
    np.testing.assert_array_equal(np.asarray(g), t.grad.numpy())
    out, tangent = cr.jvp(lambda v: _cr_ops(name, v, axis), (x,), (np.ones_like(x),))
    np.testing.assert_array_equal(np.asarray(out), want.detach().numpy())
    assert np.asarray(tangent).shape == tuple(want.shape) and not np.isnan(tangent).any()
