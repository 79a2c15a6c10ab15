"""Linear algebra beyond the spec table: error messages, NumPy dispatch, edge cases."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.core.primitive import registry

RNG = np.random.default_rng(0)
A34, B52 = RNG.standard_normal((3, 4)), RNG.standard_normal((5, 2))
M = RNG.standard_normal((3, 3)) + 4 * np.eye(3)
SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])


# ----- shape errors name the operation and the shapes -----

def test_matmul_inner_dimension_mismatch_is_explained():
    with pytest.raises(ValueError) as info:
        cr.matmul(cr.tensor(A34), cr.tensor(B52))
    message = str(info.value)
    assert message.startswith("matmul: cannot apply to (float64[3, 4], float64[5, 2])")
    assert "inner dimensions differ" in message
    assert "last axis has 4" in message and "second-to-last axis has 5" in message
    assert "gufunc" not in message  # NumPy's jargon is replaced


def test_matmul_batch_mismatch_and_scalar_are_explained():
    with pytest.raises(ValueError, match=r"batch dimensions \(2,\) and \(3,\) do not broadcast"):
        cr.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 5)))
    with pytest.raises(ValueError, match="matmul: .*at least one dimension"):
        cr.matmul(np.ones(()), np.ones((3,)))
    with pytest.raises(ValueError, match="only axis has 5"):
        cr.tensor(A34) @ np.ones(5)


@pytest.mark.parametrize("call, pattern", [
    (lambda: cr.dot(A34, B52), r"dot: cannot contract axis 1 of the first operand \(size 4\) "
                               r"with axis 0 of the second \(size 5\); shapes \(3, 4\) and "
                               r"\(5, 2\)"),
    (lambda: cr.inner(A34, B52), r"inner: cannot contract axis 1 .*size 4.*size 2"),
    (lambda: cr.tensordot(A34, B52, 1), r"tensordot: cannot contract axis 1 .*\(5, 2\)"),
    (lambda: cr.tensordot(A34, B52, 3), r"tensordot: axes=3 needs 0 <= axes"),
    (lambda: cr.tensordot(A34, B52, ([0, 1], [0])), r"tensordot: axes pairs 2 axis\(es\)"),
    (lambda: cr.tensordot(A34, B52, ([2], [0])), r"tensordot: axis 2 is out of range"),
    (lambda: cr.tensordot(A34, A34, ([0, 0], [0, 1])), r"tensordot: an axis is contracted twice"),
    (lambda: cr.einsum("ij,jk->ik", A34, B52),
     r"einsum: index 'j' has size 4 in one operand and 5 in operand 1; shapes "
     r"\[\(3, 4\), \(5, 2\)\]"),
    (lambda: cr.einsum("ij,jk->ik", A34), r"einsum: 'ij,jk->ik' names 2 operand\(s\), got 1"),
    (lambda: cr.einsum("ijk->i", A34), r"einsum: operand 0 has shape \(3, 4\) but its "
                                       r"subscripts 'ijk' name 3"),
    (lambda: cr.einsum("ij->iz", A34), r"einsum: output index 'z'"),
    (lambda: cr.einsum("ij->ii", A34), r"einsum: output index 'i'"),
    (lambda: cr.einsum("i1->i", A34), r"einsum: invalid character '1'"),
    (lambda: cr.einsum("...i.->i", A34), r"einsum: invalid character '\.'"),
    (lambda: cr.einsum("...i->i", np.ones((2, 3))), r"einsum: .*needs '\.\.\.' too"),
    (lambda: cr.einsum("ii", A34), r"einsum: index 'i' has size 3 in one operand and 4"),
    (lambda: cr.einsum("...i,...i", np.ones((2, 3)), np.ones((4, 3))),
     r"einsum: a '\.\.\.' axis has size 2 in one operand and 4"),
    (lambda: cr.einsum("i"), r"einsum: needs at least one operand"),
    (lambda: cr.linalg.solve(M, np.ones(4)),
     r"solve: b must have shape \(3,\) or \(\.\.\., 3, k\) to match a float64\[3, 3\], "
     r"got float64\[4\]"),
    (lambda: cr.linalg.solve(M, np.ones((4, 3))), r"solve: b must have shape"),
    (lambda: cr.linalg.solve(np.ones((2, 3, 3)), np.ones((4, 3, 1))),
     r"solve: cannot apply to .*batch dimensions \(2,\) and \(4,\) do not broadcast"),
    (lambda: cr.linalg.solve(A34, np.ones(3)), r"solve: expected square matrices"),
    (lambda: cr.linalg.inv(A34), r"inv: expected square matrices of shape \(\.\.\., n, n\), "
                                 r"got float64\[3, 4\]"),
    (lambda: cr.linalg.det(np.ones(3)), r"det: expected square matrices .*float64\[3\]"),
    (lambda: cr.linalg.slogdet(A34), r"slogdet: expected square matrices"),
    (lambda: cr.diagonal(np.ones(3)), r"diagonal: needs at least 2 dimensions"),
    (lambda: cr.diagonal(A34, 0, 1, -1), r"diagonal: axis1 and axis2 must differ"),
    (lambda: cr.trace(A34, 0, 0, 2), r"diagonal: axis 2 is out of range"),
    (lambda: cr.linalg.outer(A34, np.ones(3)), r"outer: expected two vectors"),
])
def test_shape_errors_name_the_operation(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_argument_type_errors():
    with pytest.raises(TypeError, match="tensordot: axes must be an int or a pair"):
        cr.tensordot(A34, A34, 1.5)
    with pytest.raises(TypeError, match="einsum: the first argument must be a subscripts"):
        cr.einsum(A34, [0, 1])


@pytest.mark.parametrize("call", [
    lambda: cr.linalg.inv(SINGULAR),
    lambda: cr.linalg.solve(SINGULAR, np.ones(2)),
    lambda: cr.linalg.inv(cr.tensor(SINGULAR, requires_grad=True)),
])
def test_singular_matrix_raises_linalg_error_naming_the_op(call):
    with pytest.raises(np.linalg.LinAlgError, match=r"^(inv|solve): cannot apply to .*Singular"):
        call()


def test_det_of_singular_matrix_is_zero_and_its_gradient_raises():
    a = cr.tensor(SINGULAR, requires_grad=True)
    d = cr.linalg.det(a)
    assert float(d) == 0.0
    with pytest.raises(np.linalg.LinAlgError, match="inv: .*Singular"):
        d.backward()


# ----- NumPy's functions on tensors run chainrule's operations -----

@pytest.mark.parametrize("np_call, cr_call", [
    (lambda a, b: np.dot(a, b), cr.dot),
    (lambda a, b: np.inner(a, b.T), lambda a, b: cr.inner(a, b.T)),
    (lambda a, b: np.outer(a, b), cr.outer),
    (lambda a, b: np.tensordot(a, b, 1), lambda a, b: cr.tensordot(a, b, 1)),
    (lambda a, b: np.einsum("ij,jk->ik", a, b), lambda a, b: cr.einsum("ij,jk->ik", a, b)),
    (lambda a, b: np.trace(a @ b), lambda a, b: cr.trace(a @ b)),
    (lambda a, b: np.diagonal(a @ b), lambda a, b: cr.diagonal(a @ b)),
    (lambda a, b: np.linalg.inv(a @ b + 5 * np.eye(3)),
     lambda a, b: cr.linalg.inv(a @ b + 5 * np.eye(3))),
    (lambda a, b: np.linalg.det(a @ b), lambda a, b: cr.linalg.det(a @ b)),
    (lambda a, b: np.linalg.slogdet(a @ b)[1], lambda a, b: cr.linalg.slogdet(a @ b)[1]),
    (lambda a, b: np.linalg.solve(a @ b + 5 * np.eye(3), a[:, 0]),
     lambda a, b: cr.linalg.solve(a @ b + 5 * np.eye(3), a[:, 0])),
    (lambda a, b: np.linalg.matmul(a, b), cr.matmul),
    (lambda a, b: np.linalg.trace(a @ b), lambda a, b: cr.linalg.trace(a @ b)),
    (lambda a, b: np.linalg.diagonal(a @ b), lambda a, b: cr.linalg.diagonal(a @ b)),
    (lambda a, b: np.linalg.outer(a[0], b[0]), lambda a, b: cr.linalg.outer(a[0], b[0])),
    (lambda a, b: np.linalg.tensordot(a, b.T), lambda a, b: cr.linalg.tensordot(a, b.T)),
])
def test_numpy_functions_dispatch_to_chainrule(np_call, cr_call):
    rng = np.random.default_rng(1)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    a, b = cr.tensor(a0, requires_grad=True), cr.tensor(b0, requires_grad=True)
    out = np_call(a, b)
    assert isinstance(out, cr.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, np_call(a0, b0), rtol=1e-12)
    cr.sum(out * out).backward()
    a2, b2 = cr.tensor(a0, requires_grad=True), cr.tensor(b0, requires_grad=True)
    ref = cr_call(a2, b2)
    cr.sum(ref * ref).backward()
    np.testing.assert_allclose(a.grad.data, a2.grad.data, rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, b2.grad.data, rtol=1e-12)


def test_np_linalg_norm_dispatches_to_chainrule():
    a = cr.tensor(A34, requires_grad=True)
    out = np.linalg.norm(a)
    assert isinstance(out, cr.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, np.linalg.norm(A34), rtol=1e-12)


def test_np_slogdet_on_a_tensor_gives_a_constant_sign():
    a = cr.tensor(-M, requires_grad=True)
    sign, logabsdet = np.linalg.slogdet(a)
    assert isinstance(sign, cr.Tensor) and not sign.requires_grad
    assert float(sign) == -1.0 and logabsdet.requires_grad
    assert cr.linalg.slogdet(a).sign.data == sign.data


# ----- values and derivatives of the cases the spec table does not reach -----

def test_plain_arrays_in_plain_arrays_out():
    for out in (cr.dot(A34, A34.T), cr.einsum("ij->j", A34), cr.linalg.inv(M),
                cr.trace(A34), cr.linalg.solve(M, A34[:, :2])):
        assert not isinstance(out, cr.Tensor)


@pytest.mark.parametrize("subscripts, shapes", [
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iij->ji", [(2, 2, 3)]), ("iii->i", [(2, 2, 2)]),
    ("ijij->ij", [(2, 3, 2, 3)]), ("ij,ji->", [(2, 3), (3, 2)]),
    ("bA,Cb", [(3, 2), (4, 3)]), ("...i,...i->...", [(2, 3), (3,)]),
    ("i...,i->...", [(3, 2, 2), (3,)]), ("i,i,i", [(3,), (3,), (3,)]),
])
def test_einsum_matches_numpy_and_its_gradient_matches_torch(subscripts, shapes):
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal(s) for s in shapes]
    ts = [cr.tensor(x, requires_grad=True) for x in xs]
    out = cr.einsum(subscripts, *ts)
    np.testing.assert_allclose(out.data, np.einsum(subscripts, *xs), rtol=1e-12)
    weight = rng.standard_normal(out.shape)
    cr.sum(out * weight).backward()
    tt = [torch.tensor(x, requires_grad=True) for x in xs]
    (torch.einsum(subscripts, *tt) * torch.tensor(weight)).sum().backward()
    for t, ref in zip(ts, tt):
        np.testing.assert_allclose(t.grad.data, ref.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_einsum_trace_gradient_is_the_identity_to_second_order():
    x = RNG.standard_normal((3, 3))
    g = cr.grad(lambda x: cr.einsum("ii", x))(x)
    np.testing.assert_array_equal(g, np.eye(3))
    gg = cr.grad(lambda x: cr.sum(cr.grad(lambda y: cr.einsum("ii", y) ** 2)(x) * x))(x)
    np.testing.assert_allclose(gg, 4 * np.trace(x) * np.eye(3), rtol=1e-12)


def test_einsum_same_operand_twice():
    x = RNG.standard_normal(4)
    np.testing.assert_allclose(cr.grad(lambda v: cr.einsum("i,i", v, v))(x), 2 * x)


def test_einsum_big_contraction_takes_the_blas_path_with_the_same_result():
    a, b = RNG.standard_normal((50, 40)), RNG.standard_normal((40, 60))  # 120000 > 65536
    np.testing.assert_allclose(cr.einsum("ij,jk->ik", a, b), a @ b, rtol=1e-12)


def test_dot_of_stacks_is_not_matmul():
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 4, 5))
    assert cr.dot(a, b).shape == (2, 3, 2, 5) == np.dot(a, b).shape
    np.testing.assert_allclose(cr.dot(a, b), np.dot(a, b), rtol=1e-12)


def test_trace_and_diagonal_follow_numpy():
    x = RNG.standard_normal((3, 4, 5))
    for args in [(0, 0, 1), (2, 1, 2), (-1, 2, 0), (5, 0, 1)]:
        np.testing.assert_allclose(cr.diagonal(x, *args), np.diagonal(x, *args))
        np.testing.assert_allclose(cr.trace(x, *args), np.trace(x, *args))
    g = cr.grad(lambda v: cr.sum(cr.trace(v, 5)))(x)  # an empty diagonal: zero gradient
    np.testing.assert_array_equal(g, np.zeros_like(x))


def test_linalg_trace_and_diagonal_use_the_last_two_axes():
    x = RNG.standard_normal((2, 3, 3))
    np.testing.assert_allclose(cr.linalg.trace(x, offset=1), np.linalg.trace(x, offset=1))
    np.testing.assert_allclose(cr.linalg.diagonal(x), np.linalg.diagonal(x))
    assert cr.linalg.trace(x, dtype=np.float32).dtype == np.float32


def test_float32_stays_float32():
    a = cr.tensor(M.astype(np.float32), requires_grad=True)
    for f in (cr.linalg.inv, cr.linalg.det, lambda m: cr.linalg.slogdet(m)[1],
              lambda m: cr.einsum("ii->i", m), cr.trace,
              lambda m: cr.linalg.solve(m, np.ones(3, np.float32))):
        a.grad = None
        out = f(a)
        assert out.dtype == np.float32
        cr.sum(out).backward()
        assert a.grad.dtype == np.float32


def test_second_derivative_of_logabsdet_through_nested_grad():
    # d/da <grad logabsdet(a), v> = -(a^-T v^T a^-T), compared with torch
    v = RNG.standard_normal((3, 3))
    got = cr.grad(lambda a: cr.sum(cr.grad(lambda b: cr.linalg.slogdet(b)[1])(a) * v))(M)
    ta = torch.tensor(M, requires_grad=True)
    (g,) = torch.autograd.grad(torch.linalg.slogdet(ta)[1], ta, create_graph=True)
    (expected,) = torch.autograd.grad((g * torch.tensor(v)).sum(), ta)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-10)


def test_new_primitives_are_registered_and_public_names_exported():
    for name in ("tensordot", "einsum", "diagonal", "diagonal_embed", "solve", "inv", "det",
                 "logabsdet", "slogdet_sign"):
        assert name in registry
    for name in ("dot", "inner", "outer", "tensordot", "einsum", "trace", "diagonal"):
        assert name in cr.__all__ and name in cr.ops.__all__
    for name in ("solve", "inv", "det", "slogdet"):  # numpy.linalg only: not top level
        assert name in cr.linalg.__all__ and name not in cr.ops.__all__
    assert "matmul" in cr.linalg.__all__
