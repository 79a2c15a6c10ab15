"""The first-order sweep's shortcuts (chainrule.reverse._sweep_plain): nodes of one
input, nodes of two inputs, the pass-through rule of add and subtract, the scalar seed
of a 0-d output, and the grad transform's path for one float argument. Each shortcut
must give what the general rules give: compared with PyTorch, with known values, and
with the create_graph sweep (which never takes the shortcuts)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule.core.primitive import defpartials
from chainrule.ops.arithmetic import passes_cotangent
from chainrule.reverse import _sweep_plain


def _torch_grads(fn, *values):
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    fn(*ts).backward()
    return [t.grad.numpy() for t in ts]


def _chain(x, sin, cos, tanh):
    # the shapes of bench_engine's chain: unary nodes, a constant factor, a diamond
    y = x
    for _ in range(3):
        y = sin(y)
        y = y * 1.01
        y = cos(y) + y
        y = tanh(y)
        y = y - 0.5 * y
    return y


@given(st.lists(st.floats(-2, 2), min_size=1, max_size=6))
def test_a_chain_of_unary_and_binary_nodes_matches_torch(values):
    data = np.array(values)
    x = cr.tensor(data, requires_grad=True)
    _chain(x, cr.sin, cr.cos, cr.tanh).sum().backward()
    (expected,) = _torch_grads(lambda t: _chain(t, torch.sin, torch.cos, torch.tanh).sum(),
                               data)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-14)


@given(st.floats(-3, 3), st.floats(-3, 3))
def test_binary_nodes_on_scalars_match_torch(a, b):
    def f(x, y, square):
        return square(x - y) - 3 * x * y + (x + y) * (y - 2.0) - (1.5 - x)

    x = cr.tensor(a, requires_grad=True)
    y = cr.tensor(b, requires_grad=True)
    f(x, y, cr.square).backward()
    gx, gy = _torch_grads(lambda s, t: f(s, t, torch.square), a, b)
    np.testing.assert_allclose(float(x.grad), gx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(float(y.grad), gy, rtol=1e-12, atol=1e-12)


def test_first_order_equals_the_recorded_sweep():
    # create_graph runs every rule as written; the shortcuts must agree bit for bit
    data = np.linspace(-1.5, 1.5, 7)
    grads = []
    for create_graph in (False, True):
        x = cr.tensor(data, requires_grad=True)
        (cr.square(_chain(x, cr.sin, cr.cos, cr.tanh)) - x).sum().backward(
            create_graph=create_graph)
        grads.append(np.asarray(x.grad.data))
    np.testing.assert_array_equal(grads[0], grads[1])


def test_broadcast_and_mixed_dtypes_are_fitted_on_the_two_input_path():
    w = cr.tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    b = cr.tensor(np.arange(2.0), requires_grad=True)  # float64, broadcast over rows
    ((w + b) * (w - b)).sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.shape == (3, 2)
    assert b.grad.dtype == np.float64 and b.grad.shape == (2,)
    wt = torch.ones((3, 2), dtype=torch.float32, requires_grad=True)
    bt = torch.arange(2.0, dtype=torch.float64, requires_grad=True)
    ((wt + bt) * (wt - bt)).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy())
    np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy())


def test_the_same_input_twice_sums_both_cotangents():
    x = cr.tensor(np.array([1.0, -2.0]), requires_grad=True)
    ((x + x) - (x - x) * 3.0 + x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2.0 + 2 * np.array([1.0, -2.0]))


def _unary(name, impl):
    return cr.primitive(impl, name=name)


def test_one_input_primitive_whose_rule_returns_a_broadcast_shape_is_summed():
    spread = _unary("spread_sweep_paths", lambda x: x * 1.0)
    spread.defvjp(lambda g, out, x: np.broadcast_to(g, (2, *np.shape(g))))
    x = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    spread(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_one_input_primitive_with_a_none_rule_or_partial_gives_a_zero_gradient():
    flat = _unary("flat_sweep_paths", lambda x: x * 1.0)
    flat.defvjp(lambda g, out, x: None)  # a symbolic zero
    still = _unary("still_sweep_paths", lambda x: x * 1.0)
    defpartials(still, None)
    for prim in (flat, still):
        x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
        (prim(x) + 2 * x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_one_input_partial_of_another_dtype_is_cast_to_the_input_dtype():
    wide = _unary("wide_sweep_paths", lambda x: x * 2)
    defpartials(wide, lambda out, x: np.full(np.shape(x), 2.0))  # float64 always
    x = cr.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    wide(x).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_one_input_primitive_without_rules_names_itself():
    bare = _unary("bare_sweep_paths", lambda x: x * 1.0)
    bare.defvjp()
    x = cr.tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(TypeError, match="bare_sweep_paths: no reverse rule for argument 0"):
        bare(x).sum().backward()


def test_a_zero_cotangent_through_an_infinite_partial_stays_zero_on_every_path():
    for value in (np.float64(0.0), np.zeros(16)):  # a NumPy scalar, a small array
        x = cr.tensor(value, requires_grad=True)
        cr.sum(cr.where(x > 0, cr.sqrt(x), 0.0)).backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(value))


def test_an_implicit_seed_of_a_zero_d_output_is_a_numpy_scalar_of_its_dtype():
    # NumPy computes on scalars several times faster than on 0-d arrays
    for dtype in (np.float32, np.float64):
        y = cr.tensor(np.array(2.0, dtype=dtype), requires_grad=True) * 3
        seed = y._seed(None)
        assert type(seed) is dtype and seed == 1
    one = cr.tensor(np.array([2.0]), requires_grad=True) * 3  # one element, not 0-d
    assert type(one._seed(None)) is np.ndarray and one._seed(None).shape == (1,)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_backward_of_a_zero_d_output_keeps_dtypes_and_owns_the_gradient(dtype):
    x = cr.tensor(np.array(3.0, dtype=dtype), requires_grad=True)
    (x**2 - 3 * x - 2).backward()
    assert x.grad.dtype == dtype and float(x.grad) == 3.0
    assert x.grad.numpy().flags.writeable
    leaf = cr.tensor(np.array(1.5, dtype=dtype), requires_grad=True)
    leaf.backward()  # the seed itself is the leaf's gradient: an array of its own
    assert type(leaf.grad.data) is np.ndarray and leaf.grad.dtype == dtype
    assert float(leaf.grad) == 1.0 and leaf.grad.numpy().flags.writeable


def test_a_zero_d_root_hook_and_create_graph_see_tensors_over_arrays():
    x = cr.tensor(2.0, requires_grad=True)
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(np.asarray(g.data)))
    y.backward(create_graph=True)
    assert seen == [1.0] and float(x.grad) == 4.0
    assert x.grad.requires_grad  # recorded: differentiable again
    assert cr.grad(lambda u: cr.grad(lambda v: v * v)(u))(2.0) == 2.0


def test_add_and_subtract_pass_the_cotangent_without_calling_their_rule():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = cr.tensor(np.array([3.0, 4.0]), requires_grad=True)
    loss = ((x + y) - (y - x)).sum()
    called = []
    # add's two rules and subtract's first: the cotangent as it is
    codes = {rule.__code__ for rule in (*cr.ops.add.vjps, cr.ops.subtract.vjps[0])}

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            called.append(frame)
    sys.setprofile(profile)
    try:  # the first-order sweep itself (backward takes another while hooks are registered)
        found, _ = _sweep_plain(loss._node, np.float64(1.0))
    finally:
        sys.setprofile(None)
    assert called == []
    np.testing.assert_array_equal(found[id(x)][1], [2.0, 2.0])
    np.testing.assert_array_equal(found[id(y)][1], [0.0, 0.0])
    assert passes_cotangent(5.0, None, None, None) == 5.0  # the rule itself, as written


def test_grad_of_one_float_argument():
    f = cr.grad(lambda x: x**2 - 3 * x - 2)
    g = f(3.0)
    assert type(g) is np.float64 and g == 3.0
    assert cr.grad(f)(3.0) == 2.0  # nested: the inner sweep records on the outer level
    # a closure over an enclosing transform's value: d/dy of d/dx (x * y) = 1
    assert cr.grad(lambda y: cr.grad(lambda x: x * y)(3.0))(2.0) == 1.0
    assert cr.grad(lambda x: 2.0)(3.0) == 0.0  # a constant output
    assert cr.grad(lambda x: cr.tensor(1.0) * 2)(3.0) == 0.0
    v, s = cr.value_and_grad(lambda x: x * x)(1.5)
    assert type(v) is np.float64 and v == 2.25 and s == 3.0
    k = cr.grad(lambda x, k: k * x, argnums=0)(2.0, 4.0)
    assert k == 4.0
    assert cr.grad(lambda x, k: k * x, argnums=1)(2.0, 4.0) == 2.0


def test_grad_of_one_float_argument_refuses_non_scalar_and_complex_outputs():
    with pytest.raises(TypeError, match="must return a scalar"):
        cr.grad(lambda x: x * np.ones(2))(1.0)
    with pytest.raises(TypeError, match="real scalar"):
        cr.grad(lambda x: x * 1j)(1.0)
    with pytest.raises(TypeError, match="argument 0 has dtype"):
        cr.grad(lambda x: x * 2)(3)


@pytest.mark.parametrize("layout", ["c", "transposed", "strided", "permuted"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_nan_check_finds_a_nan_in_any_memory_layout(layout, dtype):
    # the check decides whether the masked second sweep runs: a NaN it misses would
    # leave 0 * inf = NaN in a gradient that should be 0
    from chainrule.reverse import _has_nan

    base = np.arange(2 * 3 * 4, dtype=dtype).reshape(2, 3, 4)
    views = {"c": lambda a: a, "transposed": lambda a: a.T,
             "strided": lambda a: a[:, ::2], "permuted": lambda a: a.transpose(1, 0, 2)}
    clean = views[layout](base.copy())
    assert not _has_nan({0: (None, clean)})
    spoiled = base.copy()
    spoiled[1, 2, 3] = np.nan
    assert _has_nan({0: (None, views[layout](spoiled))})
    infinite = base.copy()
    infinite[0, 0, 0], infinite[1, 2, 3] = np.inf, -np.inf  # infinities alone are no NaN
    assert not _has_nan({0: (None, views[layout](infinite))})
