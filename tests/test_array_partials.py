"""NumPy-only partials (``defpartials(..., arrays=...)``): the first-order sweep
uses them on plain arrays, so they must equal the rules' partials exactly, and
NaN masking and higher order must behave as with the rules alone."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.core.primitive import registry

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow to inf

FAST = sorted(name for name, prim in registry.items()
              if prim.array_partials is not None and prim.array_partials is not prim.partials)
FAST_UNARY = [name for name in FAST if len(registry[name].partials) == 1]
FAST_BINARY = [name for name in FAST if len(registry[name].partials) == 2]


def test_some_primitives_have_array_partials():
    assert {"sin", "cos", "sinh", "cosh", "arcsinh", "erf", "softplus", "reciprocal",
            "tan", "tanh", "sigmoid"} <= set(FAST)
    assert {"power", "remainder"} <= set(FAST_BINARY)
    assert set(FAST) == set(FAST_UNARY) | set(FAST_BINARY)


def _edge_values(rng, dtype):
    x = np.concatenate([rng.uniform(-3, 3, 200), [0.0, -0.0, 1.0, -1.0, 800.0, np.inf, np.nan]])
    return x.astype(dtype)


@pytest.mark.parametrize("name", FAST_BINARY)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_array_partials_equal_the_rule_partials(name, dtype):
    # arrays against arrays (zeros and edges on both sides), and arrays against the
    # Python numbers and NumPy scalars that operators pass (x ** 2, 2.0 ** x, x ** 0)
    prim = registry[name]
    rng = np.random.default_rng(1)
    x = _edge_values(rng, dtype)
    y = rng.permutation(_edge_values(rng, dtype))
    pairs = [(x, y), (np.abs(x), y), (x, x)]
    for number in (2, 0, 3.0, 0.5, -1, 0.0, dtype(2.5)):
        pairs += [(x, number), (number, x), (np.abs(x), number)]
    for a, b in pairs:
        out = prim.impl(a, b)
        for partial, fast in zip(prim.partials, prim.array_partials):
            want, got = partial(out, a, b), fast(out, a, b)
            want, got = np.asarray(want), np.asarray(got)
            assert got.dtype == want.dtype and got.shape == want.shape, (a, b)
            assert np.array_equal(got, want, equal_nan=True), (a, b)


@pytest.mark.parametrize("name", FAST_UNARY)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_array_partial_equals_the_rule_partial(name, dtype):
    prim = registry[name]
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-3, 3, 200), [0.0, -0.0, 1.0, -1.0, 800.0, np.inf, np.nan]])
    x = x.astype(dtype)
    out = prim.impl(x)
    for partial, fast in zip(prim.partials, prim.array_partials):
        if partial is None:
            assert fast is None
            continue
        want, got = partial(out, x), fast(out, x)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want, equal_nan=True)


def test_plain_sweep_uses_the_array_partial_and_still_masks(monkeypatch):
    calls = []
    fast = cr.sinh.array_partials[0]

    def spy(out, x):
        calls.append(1)
        return fast(out, x)
    monkeypatch.setattr(cr.sinh, "array_partials", (spy,))
    # cosh(800) is inf and the where passes sinh a zero cotangent there: the plain
    # sweep gives 0 * inf = NaN, so the masked sweep must run and give 0
    x = cr.tensor([800.0, 0.5], requires_grad=True)
    cr.where(x < 10, cr.sinh(x), 0.0).sum().backward()
    assert calls
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, np.cosh(0.5)])


def test_higher_order_still_uses_the_rules():
    x = np.linspace(-2, 2, 7)
    d2 = cr.grad(lambda v: cr.grad(lambda u: cr.sin(u).sum())(v).sum())(x)
    np.testing.assert_allclose(d2, -np.sin(x))
    t = cr.tensor(x, requires_grad=True)
    cr.cosh(t).sum().backward(create_graph=True)
    g, t.grad = t.grad, None
    g.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.cosh(x))


def test_a_mismatched_array_partial_changes_nothing():
    from chainrule.core.primitive import Primitive, defpartials

    twice = Primitive("twice_for_test", lambda x: 2 * x, register=False)
    defpartials(twice, lambda out, x: 2.0 + 0 * x)
    rules = (twice.vjps, twice.jvps, twice.partials, twice.array_partials)
    with pytest.raises(ValueError, match="twice_for_test: give one array partial per partial"):
        defpartials(twice, lambda out, x: 3.0 + 0 * x, arrays=(None, None))
    assert (twice.vjps, twice.jvps, twice.partials, twice.array_partials) == rules


def _kinks_of_backward(prim, args):
    tensors = [cr.tensor(np.asarray(a, dtype=float), requires_grad=True) for a in args]
    with cr.kinks() as report:
        prim(*tensors).sum().backward()
    return str(report), [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("name", FAST)
def test_array_partials_report_the_kinks_the_rules_report(name, monkeypatch):
    # a partial that goes through a watched implementation (remainder's floor, sqrt)
    # records the kink it is taken at; its NumPy-only form must record the same
    prim = registry[name]
    edges = [0.0, 1.0, -1.0, 0.5, 2.0, 4.0]
    args = [edges] if len(prim.partials) == 1 else [edges, [2.0, 1.0, 1.0, 0.25, 2.0, 2.0]]
    fast = _kinks_of_backward(prim, args)
    monkeypatch.setattr(prim, "array_partials", prim.partials)
    slow = _kinks_of_backward(prim, args)
    assert fast[0] == slow[0]
    for a, b in zip(fast[1], slow[1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["tan", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_output_partials_keep_dtype_and_bits_at_zero_d(name, dtype):
    # these add 1 as a cached float64 0-d array for float64 outputs only: any other
    # dtype must keep its own (a 0-d float64 array is no weak scalar under NEP 50),
    # a 0-d output included, and the gradient must be PyTorch's
    prim = registry[name]
    for x in (np.array(0.7, dtype=dtype), np.linspace(-2, 2, 9).astype(dtype)):
        out = prim.impl(x)
        want, got = np.asarray(prim.partials[0](out, x)), np.asarray(prim.array_partials[0](out, x))
        assert got.dtype == want.dtype == dtype
        assert np.array_equal(got, want, equal_nan=True)
    x = np.linspace(-2, 2, 9)
    t = cr.tensor(x, requires_grad=True)
    getattr(cr, name)(t).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    getattr(torch, name)(xt).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), xt.grad.numpy(), rtol=1e-13, atol=0)
