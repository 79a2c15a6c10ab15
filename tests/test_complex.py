"""Complex values on a differentiated path: PyTorch's convention, or a clear refusal.

A complex value in the middle of a computation is differentiated (the
cotangent of ``w = u + iv`` is ``dL/du + i dL/dv``, PyTorch's ``.grad``) by
every engine: tensor backward, grad, vjp, jvp, linearize, jacfwd, jacrev,
hessian, hvp and second order with create_graph. Checked against PyTorch
(random shapes and values), against central differences (real inputs with
complex intermediates), and forward against reverse. Operations without
complex rules refuse, naming themselves; nothing is silently dropped.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr

C = np.array([[1.0 + 2.0j, -0.5j], [0.25, 3.0 - 1.0j]])
X = np.array([[0.5, -1.0], [2.0, 0.75]])


def _central_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[k] = h
        g[k] = (float(f(x + e)) - float(f(x - e))) / (2 * h)
    return g


# ----- real inputs, complex intermediates, real losses: every engine against differences -----

PATHS = {
    "x_times_1j_abs": lambda x: cr.sum(cr.abs(x * 1j) * x),
    "astype": lambda x: cr.sum(cr.abs(cr.exp(x.astype(np.complex128) * (0.3 + 0.2j))) ** 2),
    "where": lambda x: cr.sum(cr.real(cr.where(x > 0, x * x, 1j * x) * (2 - 1j))),
    "concatenate": lambda x: cr.sum(cr.abs(cr.concatenate([x * (1 - 1j), C])) ** 2),
    "angle": lambda x: cr.sum(cr.angle(cr.exp(1j * x) * (1 + 1j) * (x + 3))),
    "matmul": lambda x: cr.sum(cr.real(cr.matmul(x * (1 + 1j), C))) + cr.sum(
        cr.abs(cr.matmul(C, x * 1j)) ** 2),
    "divide": lambda x: cr.sum(cr.imag((x + 2j) / (x * x + 1j))),
    "holomorphic": lambda x: cr.sum(cr.abs(cr.sin(x + 1j) * cr.log(x + 2j) * cr.sqrt(x + 3j)
                                           * cr.tanh(x - 0.5j) / cr.cos(x * (1 + 0.1j)))),
    "conj_power": lambda x: cr.sum(cr.real(cr.conj(x + 1j) ** 2.5 * cr.reciprocal(x + 1j))
                                   + cr.imag(cr.square(x * (1 + 2j)))),
    "linalg": lambda x: cr.abs(cr.linalg.det(x * 1j + C)) + cr.sum(
        cr.abs(cr.linalg.solve(x + C, x * 1j)) + cr.real(cr.linalg.inv(x + 2j))),
    "products": lambda x: cr.abs(cr.prod(x * (1 + 1j))) + cr.sum(
        cr.imag(cr.cumprod(x + 1j, axis=0) + cr.cumsum(x * C, axis=1))),
    "contractions": lambda x: cr.abs(cr.einsum("ij,jk->", x * 1j, C)) + cr.abs(
        cr.tensordot(x + 1j, C, axes=2)) + cr.abs(cr.trace(cr.dot(x, C))),
    "indexing": lambda x: cr.sum(cr.abs(cr.reshape((x * (1 + 1j)).T, (4,))[[0, 3, 3]]) ** 2
                                 + cr.real(cr.mean(x * 1j * C, axis=0))[0]),
}


@pytest.mark.parametrize("name", list(PATHS))
def test_complex_intermediates_every_engine_matches_differences(name):
    f = PATHS[name]
    expected = _central_grad(f, X)
    v = np.array([[0.3, -1.2], [0.7, 0.1]])
    g = cr.grad(f)(X)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(cr.value_and_grad(f)(X)[1], expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(cr.vjp(f, X)[1](1.0)[0], expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(cr.jacrev(f)(X), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(cr.jacfwd(f)(X), expected, rtol=1e-6, atol=1e-6)
    slope = np.sum(expected * v)
    np.testing.assert_allclose(cr.jvp(f, (X,), (v,))[1], slope, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(cr.linearize(f, X)[1](v), slope, rtol=1e-6, atol=1e-6)
    t = cr.tensor(X, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-6, atol=1e-6)
    # second order: the Hessian against differences of the gradient, three ways
    hess = np.stack([_central_grad(lambda x: cr.grad(f)(x)[k], X) for k in np.ndindex(2, 2)])
    hess = hess.reshape(2, 2, 2, 2)
    np.testing.assert_allclose(cr.hessian(f)(X), hess, rtol=1e-5, atol=1e-5)
    hv = np.einsum("ijkl,kl->ij", hess, v)
    np.testing.assert_allclose(cr.hvp(f, X, v), hv, rtol=1e-5, atol=1e-5)
    t = cr.tensor(X, requires_grad=True)
    f(t).backward(create_graph=True)
    cr.sum(t.grad * v).backward()
    np.testing.assert_allclose(t.grad.numpy(), expected + hv, rtol=1e-5, atol=1e-5)


# ----- complex inputs against PyTorch -----

UNARY = {
    "exp": (cr.exp, torch.exp), "expm1": (cr.expm1, torch.expm1), "log": (cr.log, torch.log),
    "log1p": (cr.log1p, torch.log1p), "log2": (cr.log2, torch.log2),
    "log10": (cr.log10, torch.log10), "sqrt": (cr.sqrt, torch.sqrt),
    "sin": (cr.sin, torch.sin), "cos": (cr.cos, torch.cos), "tan": (cr.tan, torch.tan),
    "sinh": (cr.sinh, torch.sinh), "cosh": (cr.cosh, torch.cosh),
    "tanh": (cr.tanh, torch.tanh), "arcsin": (cr.arcsin, torch.asin),
    "arccos": (cr.arccos, torch.acos), "arctan": (cr.arctan, torch.atan),
    "arcsinh": (cr.arcsinh, torch.asinh), "arctanh": (cr.arctanh, torch.atanh),
    "reciprocal": (cr.reciprocal, torch.reciprocal), "square": (cr.square, torch.square),
    "negative": (cr.negative, torch.neg), "conj": (cr.conj, torch.conj),
    "power_real": (lambda z: z ** 1.7, lambda z: z ** 1.7),
    "power_int": (lambda z: z ** 3, lambda z: z ** 3),
    "sum_axis": (lambda z: cr.sum(z, axis=-1, keepdims=True),
                 lambda z: torch.sum(z, dim=-1, keepdim=True)),
    "mean": (lambda z: cr.mean(z, axis=0), lambda z: torch.mean(z, dim=0)),
    "transpose": (lambda z: z.T, lambda z: z.permute(*reversed(range(z.ndim)))),
    "reshape": (lambda z: cr.reshape(z, (-1,)), lambda z: z.reshape(-1)),
    "index": (lambda z: z[..., ::-1][0], lambda z: z.flip(-1)[0]),
    "flip": (lambda z: cr.flip(z, axis=0), lambda z: torch.flip(z, dims=(0,))),
    "cumsum": (lambda z: cr.cumsum(z, axis=0), lambda z: torch.cumsum(z, dim=0)),
    "cumprod": (lambda z: cr.cumprod(z, axis=-1), lambda z: torch.cumprod(z, dim=-1)),
    "prod": (lambda z: cr.prod(z, axis=0), lambda z: torch.prod(z, dim=0)),
    "pad": (lambda z: cr.pad(z, 1), lambda z: torch.nn.functional.pad(z, (1, 1) * z.ndim)),
    "stack": (lambda z: cr.stack([z, 2 * z]), lambda z: torch.stack([z, 2 * z])),
    "expand_squeeze": (lambda z: cr.squeeze(cr.expand_dims(z, 0) * z, 0),
                       lambda z: torch.squeeze(torch.unsqueeze(z, 0) * z, 0)),
    "broadcast_copy": (lambda z: cr.copy(cr.broadcast_to(z, (2, *z.shape))),
                       lambda z: torch.broadcast_to(z, (2, *z.shape)).clone()),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "subtract": (lambda a, b: a - b, lambda a, b: a - b),
    "multiply": (lambda a, b: a * b, lambda a, b: a * b),
    "divide": (lambda a, b: a / b, lambda a, b: a / b),
    "power": (lambda a, b: cr.power(a, b), lambda a, b: torch.pow(a, b)),
    "tensordot": (lambda a, b: cr.tensordot(a, b, axes=a.ndim),
                  lambda a, b: torch.tensordot(a, b.to(a.dtype), dims=a.ndim)),
    "einsum": (lambda a, b: cr.einsum("...i,...i->...", a, b),
               lambda a, b: torch.einsum("...i,...i->...", a, b.to(a.dtype))),
    "where": (lambda a, b: cr.where(cr.real(a) > 0, a, b),
              lambda a, b: torch.where(a.real > 0, a, b.to(a.dtype))),
}
LOSSES = {
    "abs2": (lambda h: cr.sum(cr.abs(h) ** 2), lambda h: torch.sum(torch.abs(h) ** 2)),
    "abs": (lambda h: cr.mean(cr.abs(h)), lambda h: torch.mean(torch.abs(h))),
    "real": (lambda h: cr.sum(cr.real(h * (1 - 2j))), lambda h: torch.sum((h * (1 - 2j)).real)),
    "imag": (lambda h: cr.sum(cr.imag(h) * cr.real(h)),
             lambda h: torch.sum(h.imag * h.real)),
    "angle": (lambda h: cr.sum(cr.angle(h)), lambda h: torch.sum(torch.angle(h))),
}

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


def _complex_arrays(shape, low=0.3, high=1.5):
    """Moduli in [low, high], any phase: away from poles, zeros and branch points."""
    mod = hnp.arrays(np.float64, shape, elements=st.floats(low, high))
    phase = hnp.arrays(np.float64, shape, elements=st.floats(-2.9, 2.9))
    return st.tuples(mod, phase).map(lambda mp: mp[0] * np.exp(1j * mp[1]))


def _torch(z):
    return torch.tensor(z, dtype=torch.complex128, requires_grad=True)


def _near_cut(name, z):
    # arcsin/arccos/arctanh have branch cuts on the real axis beyond +-1, arctan and
    # arcsinh on the imaginary axis beyond +-i: NumPy and PyTorch agree off them only
    if name in ("arcsin", "arccos", "arctanh"):
        return np.any((np.abs(z.imag) < 1e-3) & (np.abs(z.real) > 0.99))
    if name in ("arctan", "arcsinh"):
        return np.any((np.abs(z.real) < 1e-3) & (np.abs(z.imag) > 0.99))
    return False


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=8)
@given(data=st.data(), shape=shapes,
       loss=st.sampled_from(sorted(LOSSES)))
def test_unary_gradients_match_torch(data, shape, name, loss):
    z = data.draw(_complex_arrays(shape))
    if _near_cut(name, z):
        return
    (op, top), (lf, tlf) = UNARY[name], LOSSES[loss]
    g = cr.grad(lambda z: lf(op(z)))(z)
    tz = _torch(z)
    tlf(top(tz)).backward()
    np.testing.assert_allclose(g, tz.grad.resolve_conj().numpy(), rtol=1e-8, atol=1e-9)


@given(data=st.data(), shape=shapes, name=st.sampled_from(sorted(BINARY)),
       loss=st.sampled_from(sorted(LOSSES)), real_second=st.booleans())
def test_binary_gradients_match_torch(data, shape, name, loss, real_second):
    a = data.draw(_complex_arrays(shape))
    b = data.draw(_complex_arrays(shape))
    if real_second:  # a real input meeting a complex one: its gradient is real
        b = b.real + 2.0
    (op, top), (lf, tlf) = BINARY[name], LOSSES[loss]
    ga, gb = cr.grad(lambda a, b: lf(op(a, b)), argnums=(0, 1))(a, b)
    ta = _torch(a)
    tb = torch.tensor(b, requires_grad=True)
    tlf(top(ta, tb)).backward()
    assert gb.dtype == b.dtype
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-8, atol=1e-9)


@given(data=st.data(), n=st.integers(1, 3), m=st.integers(1, 3), k=st.integers(1, 3))
def test_matmul_and_tensor_api_match_torch(data, n, m, k):
    a = data.draw(_complex_arrays((n, m)))
    b = data.draw(_complex_arrays((m, k)))
    ta, tb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    loss = cr.sum(cr.abs(cr.exp(ta @ tb) - ta[:, :1]) ** 2) + cr.sum(cr.angle(tb.conj()))
    loss.backward()
    pa, pb = _torch(a), _torch(b)
    tl = torch.sum(torch.abs(torch.exp(pa @ pb) - pa[:, :1]) ** 2) + torch.sum(
        torch.angle(pb.conj()))
    tl.backward()
    assert ta.grad.dtype == np.complex128
    np.testing.assert_allclose(ta.grad.numpy(), pa.grad.numpy(), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(tb.grad.numpy(), pb.grad.numpy(), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=8)
@given(data=st.data(), shape=shapes)
def test_complex_output_cotangent_matches_torch(data, shape, name):
    z = data.draw(_complex_arrays(shape))
    if _near_cut(name, z):
        return
    op, top = UNARY[name]
    out, vjp_fn = cr.vjp(op, z)
    w = data.draw(_complex_arrays(np.shape(out)))
    (g,) = vjp_fn(w)
    tz = _torch(z)
    top(tz).backward(torch.tensor(w))
    np.testing.assert_allclose(g, tz.grad.resolve_conj().numpy(), rtol=1e-8, atol=1e-9)
    t = cr.tensor(z, requires_grad=True)
    op(t).backward(w)
    np.testing.assert_allclose(t.grad.numpy(), tz.grad.resolve_conj().numpy(), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=8)
@given(data=st.data(), shape=shapes)
def test_forward_tangents_match_torch(data, shape, name):
    z = data.draw(_complex_arrays(shape))
    v = data.draw(_complex_arrays(shape))
    if _near_cut(name, z):
        return
    op, top = UNARY[name]
    _, tangent = cr.jvp(op, (z,), (v,))
    _, expected = torch.func.jvp(top, (torch.tensor(z),), (torch.tensor(v),))
    np.testing.assert_allclose(tangent, expected.resolve_conj().numpy(), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=8)
@given(data=st.data(), shape=shapes,
       loss=st.sampled_from(sorted(LOSSES)))
def test_forward_agrees_with_reverse(data, shape, name, loss):
    # for a real loss L of complex z: dL along v is Re(sum(conj(grad) * v))
    z = data.draw(_complex_arrays(shape))
    v = data.draw(_complex_arrays(shape))
    if _near_cut(name, z):
        return
    (op, _), (lf, _) = UNARY[name], LOSSES[loss]

    def f(z):
        return lf(op(z))

    g = cr.grad(f)(z)
    _, slope = cr.jvp(f, (z,), (v,))
    assert np.isrealobj(slope)
    np.testing.assert_allclose(slope, np.real(np.sum(np.conj(g) * v)), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(cr.linearize(f, z)[1](v), slope, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=8)
@given(data=st.data(), shape=shapes,
       loss=st.sampled_from(sorted(LOSSES)))
def test_second_order_matches_torch(data, shape, name, loss):
    z = data.draw(_complex_arrays(shape))
    v = data.draw(_complex_arrays(shape))
    if _near_cut(name, z):
        return
    (op, top), (lf, tlf) = UNARY[name], LOSSES[loss]
    if loss in ("abs", "angle") and np.min(np.abs(np.asarray(op(z)))) < 1e-2:
        return  # their kink at 0: no second derivative to compare

    def f(z):
        return lf(op(z))

    # the gradient of a real function of the gradient, by grad of grad and by backward
    def outer(z):
        return cr.sum(cr.real(cr.grad(f)(z) * np.conj(v)))

    tz = _torch(z)
    (tg,) = torch.autograd.grad(tlf(top(tz)), tz, create_graph=True)
    expected = np.zeros_like(z)  # the gradient may be a constant (conj, then real)
    if tg.requires_grad:
        (e,) = torch.autograd.grad(torch.sum((tg * torch.tensor(v).conj()).real), tz)
        expected = e.resolve_conj().numpy()
    np.testing.assert_allclose(cr.grad(outer)(z), expected, rtol=1e-7, atol=1e-8)
    t = cr.tensor(z, requires_grad=True)
    f(t).backward(create_graph=True)
    g = t.grad
    t.grad = None
    if g.requires_grad:
        cr.sum(cr.real(g * np.conj(v))).backward()
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-7, atol=1e-8)
    else:
        assert not np.any(expected)
    # forward over reverse: the Hessian along v, against differences of the gradient
    h = 1e-6
    fd = (cr.grad(f)(z + h * v) - cr.grad(f)(z - h * v)) / (2 * h)
    np.testing.assert_allclose(cr.hvp(f, z, v), fd, rtol=1e-5, atol=1e-6)


def test_abs_and_angle_at_zero_follow_torch():
    z = np.array([0j, 1 + 1j])
    g = cr.grad(lambda z: cr.sum(cr.abs(z) + cr.angle(z)))(z)
    tz = _torch(z)
    torch.sum(torch.abs(tz) + torch.angle(tz)).backward()
    np.testing.assert_allclose(g, tz.grad.resolve_conj().numpy())
    assert g[0] == 0


def test_numpy_functions_and_methods_on_complex_tensors():
    z = cr.tensor(C, requires_grad=True)
    parts = [np.real(z), np.imag(z), np.angle(z), np.abs(np.conj(z)), z.real, z.imag,
             z.conj().real, z.conjugate().imag]
    loss = sum(cr.sum(p * (i + 1)) for i, p in enumerate(parts))
    loss.backward()
    tz = _torch(C)
    tparts = [tz.real, tz.imag, torch.angle(tz), torch.abs(tz.conj()), tz.real, tz.imag,
              tz.conj().real, tz.conj().imag]
    sum(torch.sum(p * (i + 1)) for i, p in enumerate(tparts)).backward()
    np.testing.assert_allclose(z.grad.numpy(), tz.grad.resolve_conj().numpy())


def test_gradient_descent_on_a_complex_parameter_converges():
    # the gradient points uphill in the plane: steps along -grad find the minimum
    target = np.array([0.5 - 1.5j, 2.0 + 0.25j])
    z = np.zeros(2, dtype=np.complex128)
    df = cr.grad(lambda z: cr.sum(cr.abs(z - target) ** 2))
    for _ in range(100):
        z = z - 0.1 * df(z)
    np.testing.assert_allclose(z, target, atol=1e-8)


# ----- refused: operations without complex rules, and ill-posed requests -----

def _custom_complex(x):
    return x * (1 + 1j)


custom_complex = cr.primitive(_custom_complex, name="custom_complex_test")
custom_complex.defvjp(lambda g, out, x: g)
custom_complex.defjvp(lambda dx, out, x: dx)

# f(x) for a real (2, 2) x whose complex intermediate meets an operation without
# complex rules, and that operation's name
REFUSED = {
    "custom": (lambda x: cr.sum(cr.abs(custom_complex(x))), "custom_complex_test"),
    "maximum": (lambda x: cr.sum(cr.abs(cr.maximum(x * 1j, 0.5))), "maximum"),
    "sigmoid": (lambda x: cr.sum(cr.abs(cr.sigmoid(x * 1j))), "sigmoid"),
    "sort": (lambda x: cr.sum(cr.abs(cr.sort(x * (1 + 1j), axis=0))), "sort"),
    "var": (lambda x: cr.var(x * (1 + 1j)), "var"),  # complex in, real out
    "std": (lambda x: cr.std(x * (1 + 1j)), "std"),
    # no rule, a constant for real numbers; z / |z| moves with z
    "sign": (lambda x: cr.sum(cr.real(cr.sign(x * (1 + 1j)))), "sign"),
}


def _engines(f):
    return {
        "grad": lambda: cr.grad(f)(X),
        "value_and_grad": lambda: cr.value_and_grad(f)(X),
        "vjp": lambda: cr.vjp(f, X)[1](1.0),
        "jvp": lambda: cr.jvp(f, (X,), (np.ones_like(X),)),
        "linearize": lambda: cr.linearize(f, X)[1](np.ones_like(X)),
        "jacfwd": lambda: cr.jacfwd(f)(X),
        "jacrev": lambda: cr.jacrev(f)(X),
        "hessian": lambda: cr.hessian(f)(X),
        "hvp": lambda: cr.hvp(f, X, np.ones_like(X)),
        "backward": lambda: f(cr.tensor(X, requires_grad=True)).backward(),
        "create_graph": lambda: _double_backward(f),
    }


def _double_backward(f):
    t = cr.tensor(X, requires_grad=True)
    y = cr.sum(t * t) + 0.0 * f(cr.tensor(X))  # f's input is a constant: fine
    y.backward(create_graph=True)
    cr.sum(f(t.grad)).backward()  # f on a gradient that requires grad


ENGINES = list(_engines(lambda x: x))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(REFUSED))
def test_complex_without_rules_is_refused_by_every_engine(case, engine):
    f, op = REFUSED[case]
    with pytest.raises(TypeError, match=rf"{op}: complex differentiation is not supported"):
        _engines(f)[engine]()


def test_complex_input_to_an_op_without_rules_is_refused():
    z = cr.tensor(C, requires_grad=True)
    with pytest.raises(TypeError, match="var: complex differentiation is not supported"):
        cr.var(z)
    with pytest.raises(TypeError, match="sigmoid: complex differentiation"):
        cr.grad(lambda z: cr.sum(cr.abs(cr.sigmoid(z))))(C)
    with pytest.raises(TypeError, match="std: complex differentiation"):
        cr.jvp(lambda z: cr.std(z), (C,), (C,))
    with pytest.raises(TypeError, match="sign: complex differentiation"):
        cr.jvp(lambda z: cr.sign(z), (C,), (C,))


@pytest.mark.parametrize("f", [
    lambda x: cr.sum(cr.abs(custom_complex(x))),
    lambda x: cr.sum(cr.abs(cr.maximum(x.astype(np.complex128), 1j))),
])
def test_complex_constant_paths_still_work(f):
    # no input needs a derivative: complex values are ordinary arrays
    assert np.allclose(np.asarray(f(cr.tensor(X)).data), np.asarray(f(X)))
    with cr.no_grad():
        y = f(cr.tensor(X, requires_grad=True))
    assert not y.requires_grad
    # a complex value made from a constant (stop_gradient) is a constant: derivative 0 there
    g = cr.grad(lambda x: cr.sum(x * x) + f(cr.stop_gradient(x)))(X)
    assert np.allclose(g, 2 * X)


@pytest.mark.parametrize("call, message", [
    (lambda: cr.grad(lambda z: cr.sum(z * z))(C), "must return a real scalar"),
    (lambda: cr.grad(lambda x: cr.sum(x * 1j))(X), "must return a real scalar"),
    (lambda: cr.sum(cr.tensor(C, requires_grad=True)).backward(), "only for a real output"),
    (lambda: cr.jacrev(lambda x: x * 1j)(X), "jacrev: output leaf 0 is complex"),
    (lambda: cr.jacfwd(lambda z: cr.abs(z))(C), "jacfwd: argument 0 is complex"),
    (lambda: cr.hessian(lambda z: cr.sum(cr.abs(z)))(C), "jacfwd: argument 0 is complex"),
    (lambda: (cr.tensor([1.0, 2.0], requires_grad=True) * 2).backward(np.array([1j, 1j])),
     "real value's cotangent"),
    (lambda: cr.vjp(lambda x: x * 2, np.ones(2))[1](np.array([1j, 1j])), "real value's"),
    (lambda: cr.vjp(lambda x: x * 2, np.ones(2))[1]([1j, 1j]), "real value's"),
    (lambda: cr.jvp(lambda x: x * 2, (np.ones(2),), ([1j, 1j],)), "real value's"),
    (lambda: cr.jvp(lambda x: x * 2, (np.ones(2),), (np.array([1j, 1j]),)),
     "expected float64"),
], ids=["grad_complex_out", "grad_complex_out_real_in", "backward_implicit", "jacrev_out",
        "jacfwd_in", "hessian_in", "backward_seed", "vjp_array", "vjp_list", "jvp_list",
        "jvp_array"])
def test_ill_posed_complex_requests_are_refused(call, message):
    with pytest.raises((TypeError, RuntimeError), match=message):
        call()


@given(data=st.data(), n=st.integers(1, 3), k=st.integers(1, 2))
def test_linear_algebra_matches_torch(data, n, k):
    a = data.draw(_complex_arrays((n, n))) + 3 * np.eye(n)  # well conditioned
    b = data.draw(_complex_arrays((n, k)))

    def f(a, b):
        return (cr.sum(cr.abs(cr.linalg.inv(a)) ** 2) + cr.abs(cr.linalg.det(a))
                + cr.sum(cr.real(cr.linalg.solve(a, b) * (1 - 1j))))

    ga, gb = cr.grad(f, argnums=(0, 1))(a, b)
    ta, tb = _torch(a), _torch(b)
    (torch.sum(torch.abs(torch.linalg.inv(ta)) ** 2) + torch.abs(torch.linalg.det(ta))
     + torch.sum((torch.linalg.solve(ta, tb) * (1 - 1j)).real)).backward()
    np.testing.assert_allclose(ga, ta.grad.resolve_conj().numpy(), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(gb, tb.grad.resolve_conj().numpy(), rtol=1e-8, atol=1e-9)


def test_kinks_watch_real_arguments_only():
    # the kink table is about real numbers: Re(z) == 0 is no kink of |z|
    with cr.kinks() as report:
        cr.grad(lambda x: cr.sum(cr.abs(x * 1j)))(np.array([2.0, 1.0]))
        cr.abs(np.array([1j, 2j]))
    assert len(report) == 0


def test_jacfwd_of_a_complex_valued_function_of_real_inputs():
    # d out / dx is complex: what jacfwd gives (as JAX does); differences agree
    def f(x):
        return cr.exp(1j * x) * (x + 2j)

    x = np.array([0.3, -1.1])
    jac = cr.jacfwd(f)(x)
    h = 1e-6
    expected = np.stack([(np.exp(1j * (x + h * e)) * (x + h * e + 2j)
                          - np.exp(1j * (x - h * e)) * (x - h * e + 2j)) / (2 * h)
                         for e in np.eye(2)], axis=-1)
    np.testing.assert_allclose(jac, expected, rtol=1e-7, atol=1e-8)
