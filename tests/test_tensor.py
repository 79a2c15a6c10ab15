"""Tensor: attributes, dtype rules, operators, indexing and creation functions."""

import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pytest
import torch

import chainrule as cr


def _op_specs():
    """Every spec of tests/ops (one per primitive and then some): dtype rules
    are checked on all of them, so a new primitive is covered when its spec lands."""
    specs = []
    folder = Path(__file__).parent / "ops"
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        if info.name.startswith("specs_"):
            specs += importlib.import_module(f"tests.ops.{info.name}").SPECS
    return specs


SPECS = _op_specs()


# ----- attributes -----

def test_attributes_of_a_leaf():
    data = np.arange(6.0).reshape(2, 3)
    x = cr.tensor(data, requires_grad=True)
    assert isinstance(x.data, np.ndarray) and x.data is not data  # tensor() copies
    np.testing.assert_array_equal(x.data, data)
    assert x.grad is None and x.requires_grad
    assert x.shape == (2, 3) and x.dtype == np.float64 and x.ndim == 2 and x.size == 6
    assert x.numpy() is x.data
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert cr.tensor(2.5).item() == 2.5 and isinstance(cr.tensor(2.5).item(), float)
    assert not cr.tensor(1.0).requires_grad


def test_T_is_the_transpose_and_on_the_graph():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.T.shape == (3, 2)
    np.testing.assert_array_equal(x.T.data, x.data.T)
    (x.T * np.array([[1.0, 2.0]] * 3)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0] * 3, [2.0] * 3])


def test_detach_cuts_the_graph_and_keeps_values():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 3).detach()
    assert not d.requires_grad
    np.testing.assert_array_equal(d.data, [3.0, 6.0])
    (x * d).sum().backward()  # d is a constant: no path through it
    np.testing.assert_array_equal(x.grad.data, [3.0, 6.0])


def test_requires_grad_marks_a_leaf_and_returns_it():
    x = cr.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    x.requires_grad_(False)
    assert not (x * x).requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (cr.tensor(1.0, requires_grad=True) * 2).requires_grad_(False)


def test_repr_is_readable():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    x = cr.tensor(np.array([1.0], np.float32), requires_grad=True)
    assert repr(x) == "tensor([1.], dtype=float32, requires_grad=True)"
    assert repr(x * 2) == "tensor([2.], dtype=float32, grad_fn=multiply)"
    assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"


# ----- dtype rules -----

def test_python_numbers_follow_numpy():
    assert cr.tensor(1.5).dtype == np.float64
    assert cr.tensor([1.0, 2.0]).dtype == np.float64
    assert cr.tensor([1, 2]).dtype == np.int64
    assert cr.tensor([True]).dtype == np.bool_
    assert (cr.tensor([1, 2]) / 2).dtype == np.float64
    assert (cr.tensor([1, 2]) + 1).dtype == np.int64
    assert (cr.tensor([1, 2]) * 2.5).dtype == np.float64


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integer_and_bool_tensors_refuse_requires_grad(dtype):
    t = cr.tensor(np.zeros(2, dtype=dtype))  # they exist
    assert t.dtype == dtype
    with pytest.raises(TypeError, match=f"dtype {dtype}"):
        cr.tensor(np.zeros(2, dtype=dtype), requires_grad=True)
    with pytest.raises(TypeError, match=f"dtype {dtype}"):
        t.requires_grad_()
    assert not t.requires_grad


def test_creation_functions_refuse_requires_grad_on_integers():
    with pytest.raises(TypeError, match="int64"):
        cr.arange(3, requires_grad=True)
    with pytest.raises(TypeError, match="int32"):
        cr.zeros(2, dtype=np.int32, requires_grad=True)
    assert cr.arange(3.0, requires_grad=True).requires_grad


def _cast_args(spec, dtype):
    rng = np.random.default_rng(0)
    return [a.astype(dtype) for a in spec.args(rng, 0)]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_float32_stays_float32_through_every_operation(spec):
    ts = [cr.tensor(a, requires_grad=True) for a in _cast_args(spec, np.float32)]
    out = spec.fn(*ts)
    assert out.dtype == np.float32, f"{spec.name}: float32 in, {out.dtype} out"
    if not out.requires_grad:  # piecewise constant (sign, floor, ...): no graph recorded
        return
    (out * 2.0).sum().backward()
    for i, t in enumerate(ts):
        if t.grad is not None:
            assert t.grad.dtype == np.float32, f"{spec.name}: grad of arg {i} is {t.grad.dtype}"


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_float16_gradients_keep_float16(spec):
    args = _cast_args(spec, np.float16)
    ts = [cr.tensor(a, requires_grad=True) for a in args]
    try:
        out = spec.fn(*ts)
    except TypeError as err:
        if "float16 is unsupported in linalg" not in str(err):
            raise
        pytest.skip("numpy.linalg has no float16 (nor has PyTorch's CPU linalg)")
    if spec.name != "astype":  # the only spec that casts on purpose (to float32)
        assert out.dtype == np.float16, f"{spec.name}: float16 in, {out.dtype} out"
    if not out.requires_grad:  # piecewise constant (sign, floor, ...): no graph recorded
        return
    out.sum().backward()
    for i, t in enumerate(ts):
        if t.grad is not None:
            assert t.grad.dtype == np.float16, f"{spec.name}: grad of arg {i} is {t.grad.dtype}"


OPERATORS = {
    "add": lambda x: x + 2.5, "radd": lambda x: 2.5 + x,
    "sub": lambda x: x - 2.5, "rsub": lambda x: 2.5 - x,
    "mul": lambda x: x * 2.5, "rmul": lambda x: 2.5 * x,
    "div": lambda x: x / 2.5, "rdiv": lambda x: 2.5 / x,
    "pow2": lambda x: x ** 2, "pow3": lambda x: x ** 3, "pow_float": lambda x: x ** 1.5,
    "rpow": lambda x: 2.5 ** x, "neg": lambda x: -x, "pos": lambda x: +x,
    "abs": lambda x: abs(x), "int_add": lambda x: x + 1, "int_rmul": lambda x: 3 * x,
}


@pytest.mark.parametrize("name", OPERATORS)
def test_float32_with_python_scalars_stays_float32(name):
    x = cr.tensor(np.array([0.5, 1.5], np.float32), requires_grad=True)
    out = OPERATORS[name](x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_leaf_gradients_keep_the_leaf_dtype_next_to_float64():
    x = cr.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    h = cr.tensor(np.array([0.5, 0.25], np.float16), requires_grad=True)
    y = cr.tensor(np.array([3.0, 4.0]), requires_grad=True)
    out = x * np.array([3.0, 4.0]) + cr.sin(y) * x + h * x  # promotes to float64, as NumPy does
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    assert h.grad.dtype == np.float16
    np.testing.assert_allclose(x.grad.data, [3.0 + np.sin(3.0) + 0.5, 4.0 + np.sin(4.0) + 0.25],
                               rtol=1e-6)


# ----- operators -----

BINARY_OPS = {
    "add": (lambda a, b: a + b), "sub": (lambda a, b: a - b), "mul": (lambda a, b: a * b),
    "div": (lambda a, b: a / b), "pow": (lambda a, b: a ** b), "matmul": (lambda a, b: a @ b),
}


@pytest.mark.parametrize("name", BINARY_OPS)
@pytest.mark.parametrize("order", ["tensor_first", "reflected"])
def test_binary_operators_value_and_gradient_match_torch(name, order):
    op = BINARY_OPS[name]
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 2.0, (3, 3))
    b = rng.uniform(0.5, 2.0, (3, 3))
    # the other operand is a plain array: the tensor's method or its reflected form runs
    x = cr.tensor(a, requires_grad=True)
    out = op(x, b) if order == "tensor_first" else op(b, x)
    assert isinstance(out, cr.Tensor)
    tx = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b)
    tout = op(tx, tb) if order == "tensor_first" else op(tb, tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


def test_power_with_a_tensor_exponent():
    x = cr.tensor([2.0, 3.0], requires_grad=True)
    y = cr.tensor([3.0, 0.5], requires_grad=True)
    (x ** y).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0 * 4.0, 0.5 * 3.0 ** -0.5])
    np.testing.assert_allclose(y.grad.data, [8.0 * np.log(2.0), np.sqrt(3.0) * np.log(3.0)])
    z = cr.tensor(2.0, requires_grad=True)
    (3.0 ** z).backward()
    np.testing.assert_allclose(z.grad.data, 9.0 * np.log(3.0))


COMPARISONS = {
    "lt": (lambda a, b: a < b), "le": (lambda a, b: a <= b), "gt": (lambda a, b: a > b),
    "ge": (lambda a, b: a >= b), "eq": (lambda a, b: a == b), "ne": (lambda a, b: a != b),
}


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_return_bool_tensors_off_the_graph(name):
    cmp = COMPARISONS[name]
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out, expected in [(cmp(x, 2.0), cmp(x.data, 2.0)), (cmp(2.0, x), cmp(2.0, x.data)),
                          (cmp(x, x * 1.0), cmp(x.data, x.data))]:
        assert isinstance(out, cr.Tensor) and out.dtype == np.bool_
        assert not out.requires_grad
        np.testing.assert_array_equal(out.data, expected)
    (cmp(x, 2.0) * x).sum().backward()  # the mask is a constant factor
    np.testing.assert_array_equal(x.grad.data, cmp(x.data, 2.0).astype(float))


def test_logical_operators_on_bool_tensors():
    a = cr.tensor([True, False, True])
    b = cr.tensor([True, True, False])
    np.testing.assert_array_equal((a & b).data, [True, False, False])
    np.testing.assert_array_equal((a | b).data, [True, True, True])
    np.testing.assert_array_equal((~a).data, [False, True, False])


def test_tensors_are_immutable():
    with pytest.raises(TypeError, match="immutable"):
        cr.tensor([1.0, 2.0])[0] = 3.0


# ----- indexing -----

INDICES = {
    "int": 1,
    "negative": -1,
    "slice": (slice(0, 2), 1),
    "step": (slice(None), slice(None, None, 2)),
    "ellipsis_newaxis": (Ellipsis, None, 2),
    "repeated_rows": [0, 0, 2, 0],
    "repeated_pairs": ([0, 0, 1, 2, 0], [1, 1, 3, 0, 1]),
    "mixed": (slice(1, None), [3, 3, 0]),
    "bool_mask": "mask",
}


@pytest.mark.parametrize("name", INDICES)
def test_getitem_value_and_scatter_gradient_match_torch(name):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4))
    index = INDICES[name]
    if index == "mask":
        index = a > 0
    weight = rng.standard_normal(np.shape(a[index]))
    x = cr.tensor(a, requires_grad=True)
    out = x[index]
    (out * weight).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    tindex = torch.tensor(index) if isinstance(index, np.ndarray) else index
    tout = tx[tindex]
    (tout * torch.tensor(weight)).sum().backward()
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


def test_repeated_indices_accumulate():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])  # not [1, 0, 1]


def test_tensor_indices_carry_no_derivative():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x[cr.tensor([2, 2])] * x[x > 1.5]).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 3.0, 2.0 + 3.0 + 3.0])


def test_second_derivative_through_repeated_indices():
    # f(x) = sum(x[idx] ** 3): f'' is 6 x_i times how often i is picked
    f = lambda x: cr.sum(x[np.array([0, 0, 1])] ** 3)  # noqa: E731
    x = np.array([1.0, 2.0, 3.0])
    hess_diag = [cr.grad(lambda x, i=i: cr.grad(f)(x)[i])(x)[i] for i in range(3)]
    np.testing.assert_allclose(hess_diag, [2 * 6 * 1.0, 6 * 2.0, 0.0])


# ----- creation -----

def test_creation_functions():
    assert cr.zeros(2, 3).shape == (2, 3) and cr.zeros((2, 3)).dtype == np.float64
    assert cr.zeros([2]).shape == (2,) and cr.zeros(2, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(cr.ones(2).data, [1.0, 1.0])
    f = cr.full((2, 2), 7.0)
    assert f.dtype == np.float64 and (f.data == 7.0).all()
    assert cr.full((2,), 1).dtype == np.int64  # as numpy.full
    np.testing.assert_array_equal(cr.arange(4).data, [0, 1, 2, 3])
    np.testing.assert_array_equal(cr.arange(0, 1, 0.25).data, [0.0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(cr.linspace(0, 1, 5).data, np.linspace(0, 1, 5))
    np.testing.assert_array_equal(cr.eye(2, 3).data, np.eye(2, 3))
    base = cr.tensor(np.ones((2, 3), np.float32))
    z, o = cr.zeros_like(base), cr.ones_like(base)
    assert z.shape == o.shape == (2, 3) and z.dtype == o.dtype == np.float32
    assert (z.data == 0).all() and (o.data == 1).all()
    assert cr.zeros_like(np.ones(2, np.int32)).dtype == np.int32
    for t in [cr.zeros(2, requires_grad=True), cr.ones(2, requires_grad=True),
              cr.full((2,), 1.0, requires_grad=True), cr.linspace(0, 1, 3, requires_grad=True),
              cr.eye(2, requires_grad=True), cr.rand(2, requires_grad=True),
              cr.randn(2, requires_grad=True), cr.zeros_like(base, requires_grad=True)]:
        assert t.requires_grad and t.is_leaf


def test_random_tensors_repeat_after_seeding():
    cr.random.seed(123)
    a, b = cr.randn(4), cr.rand(2, 3)
    cr.random.seed(123)
    np.testing.assert_array_equal(cr.randn(4).data, a.data)
    np.testing.assert_array_equal(cr.rand(2, 3).data, b.data)
    assert not np.array_equal(cr.randn(4).data, a.data)  # the stream moves on
    assert b.shape == (2, 3) and ((b.data >= 0) & (b.data < 1)).all()
    assert cr.rand(3, dtype=np.float32).dtype == np.float32


def test_random_tensors_from_a_generator():
    a = cr.randn(5, generator=np.random.default_rng(7))
    b = cr.randn(5, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(cr.rand(3, generator=7).data,
                                  np.random.default_rng(7).random(3))
    cr.random.seed(0)
    first = cr.randn(3).data
    cr.random.seed(0)
    cr.randn(3, generator=np.random.default_rng(1))  # does not touch the module's stream
    np.testing.assert_array_equal(cr.randn(3).data, first)
    with pytest.raises(TypeError, match="Generator"):
        cr.rand(2, generator="seven")
