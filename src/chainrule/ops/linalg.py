"""Linear algebra primitives: contractions, diagonals and matrix functions.

``matmul`` and ``tensordot`` (under ``dot`` and ``inner``) run on BLAS;
``einsum`` (its own module, exported with this family) covers every other
contraction. ``diagonal`` and its adjoint ``diagonal_embed``
move values on and off a diagonal. ``solve``, ``inv``, ``det`` and
``logabsdet`` are the matrix functions behind ``cr.linalg``. Rules return
cotangents of the broadcast shape; the engine sums them over batch axes.
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

from chainrule.backend import ndarray, ndim_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.core.trace import describe
from chainrule.ops.arithmetic import multiply, negative
from chainrule.ops.einsum import einsum
from chainrule.ops.reductions import sum as reduce_sum
from chainrule.ops.shape import expand_dims, reshape, squeeze, swapaxes, transpose

__all__ = [
    "matmul",
    "dot",
    "inner",
    "outer",
    "tensordot",
    "einsum",
    "trace",
    "diagonal",
]


# ----- matmul -----

def _matmul_impl(x, y):
    try:
        return xp.matmul(x, y)
    except ValueError:  # explain NumPy's gufunc-signature message in plain words
        raise ValueError(_matmul_mismatch(xp.shape(x), xp.shape(y))) from None


def _matmul_mismatch(xs, ys):
    if not xs or not ys:
        return "operands need at least one dimension (use multiply for scalars)"
    k_y, where_y = (ys[-2], "second-to-last axis") if len(ys) > 1 else (ys[0], "only axis")
    if xs[-1] != k_y:
        return (f"inner dimensions differ: the first operand's last axis has {xs[-1]} "
                f"entries, the second operand's {where_y} has {k_y}")
    return f"batch dimensions {xs[:-2]} and {ys[:-2]} do not broadcast"


def _matmul_vjp_x(g, out, x, y):
    if type(g) is ndarray and type(y) is ndarray and y.ndim > 1 and ndim_of(x) > 1:
        return xp.matmul(g, y.swapaxes(-1, -2))  # a first-order sweep: NumPy directly
    if ndim_of(x) == 1 and ndim_of(y) == 1:
        return g * y
    if ndim_of(y) == 1:  # out (..., n): outer product of g with y
        return expand_dims(g, -1) * y
    if ndim_of(x) == 1:  # out (..., m): g @ y^T row by row
        return squeeze(matmul(expand_dims(g, -2), swapaxes(y, -1, -2)), -2)
    return matmul(g, swapaxes(y, -1, -2))


def _matmul_vjp_y(g, out, x, y):
    if type(g) is ndarray and type(x) is ndarray and x.ndim > 1 and ndim_of(y) > 1:
        return xp.matmul(x.swapaxes(-1, -2), g)  # a first-order sweep: NumPy directly
    if ndim_of(x) == 1 and ndim_of(y) == 1:
        return g * x
    if ndim_of(x) == 1:  # out (..., m): outer product of x with g
        return expand_dims(x, -1) * expand_dims(g, -2)
    if ndim_of(y) == 1:  # out (..., n): x^T @ g
        return squeeze(matmul(swapaxes(x, -1, -2), expand_dims(g, -1)), -1)
    return matmul(swapaxes(x, -1, -2), g)


matmul = Primitive("matmul", _matmul_impl)
"""The matrix product x @ y, as ``numpy.matmul`` (1-D operands and stacks of matrices
included); its rules are g @ y.T for x and x.T @ g for y."""
matmul.defvjp(_matmul_vjp_x, _matmul_vjp_y)
matmul.defjvp(lambda dx, out, x, y: matmul(dx, y), lambda dy, out, x, y: matmul(x, dy))


# ----- tensordot: axes are two tuples of non-negative axes, paired in order -----

def _tensordot_impl(x, y, axes):
    x, y = xp.asarray(x), xp.asarray(y)
    if len(axes[0]) == 1 and x.ndim <= 2 and y.ndim <= 2:  # vectors and matrices: BLAS directly
        return xp.dot(x if axes[0][0] == x.ndim - 1 else x.T, y if axes[1][0] == 0 else y.T)
    return xp.tensordot(x, y, axes)


def _free(ndim, contracted):
    return [a for a in range(ndim) if a not in contracted]


def _in_order(v, labels):
    """``v`` whose axis p is input axis ``labels[p]``, transposed into input order."""
    if labels == sorted(labels):
        return v
    return transpose(v, [labels.index(a) for a in range(len(labels))])


def _tensordot_vjp_x(g, out, x, y, axes):
    xa, ya = axes
    n_free = ndim_of(x) - len(xa)
    gx = tensordot_p(g, y, axes=(tuple(range(n_free, ndim_of(g))), tuple(_free(ndim_of(y), ya))))
    # gx: x's free axes, then x's contracted axes in the order of their partners in y
    return _in_order(gx, _free(ndim_of(x), xa) + [a for _, a in sorted(zip(ya, xa))])


def _tensordot_vjp_y(g, out, x, y, axes):
    xa, ya = axes
    x_free = _free(ndim_of(x), xa)
    gy = tensordot_p(x, g, axes=(tuple(x_free), tuple(range(len(x_free)))))
    return _in_order(gy, [b for _, b in sorted(zip(xa, ya))] + _free(ndim_of(y), ya))


tensordot_p = Primitive("tensordot", _tensordot_impl)
tensordot_p.defvjp(_tensordot_vjp_x, _tensordot_vjp_y)
tensordot_p.defjvp(lambda dx, out, x, y, axes: tensordot_p(dx, y, axes=axes),
                   lambda dy, out, x, y, axes: tensordot_p(x, dy, axes=axes))


def _axis(name, axis, ndim):
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name}: an axis must be an integer, got {axis!r}") from None
    if not -ndim <= a < ndim:
        raise ValueError(f"{name}: axis {a} is out of range for {ndim} dimension(s)")
    return a % ndim


def _axis_list(axes):
    try:
        return [operator.index(axes)]
    except TypeError:
        return list(axes)


def _paired_axes(name, axes, xs, ys):
    """NumPy's ``axes``: an int n (the last n axes of x with the first n of y) or a pair."""
    if isinstance(axes, (int, xp.integer)):
        n = int(axes)
        if not 0 <= n <= min(len(xs), len(ys)):
            raise ValueError(f"{name}: axes={n} needs 0 <= axes <= the rank of both "
                             f"operands, shapes {xs} and {ys}")
        return tuple(range(len(xs) - n, len(xs))), tuple(range(n))
    try:
        xa, ya = (_axis_list(a) for a in axes)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: axes must be an int or a pair of axis sequences, "
                        f"got {axes!r}") from None
    if len(xa) != len(ya):
        raise ValueError(f"{name}: axes pairs {len(xa)} axis(es) of the first operand "
                         f"with {len(ya)} of the second")
    xa = tuple(_axis(name, a, len(xs)) for a in xa)
    ya = tuple(_axis(name, a, len(ys)) for a in ya)
    if len(set(xa)) < len(xa) or len(set(ya)) < len(ya):
        raise ValueError(f"{name}: an axis is contracted twice in axes={axes!r}")
    return xa, ya


def _contraction(name, x, y, axes):
    """``axes`` checked against the shapes and normalized to two tuples."""
    xs, ys = shape_of(x), shape_of(y)
    xa, ya = _paired_axes(name, axes, xs, ys)
    for a, b in zip(xa, ya):
        if xs[a] != ys[b]:
            raise ValueError(f"{name}: cannot contract axis {a} of the first operand (size "
                             f"{xs[a]}) with axis {b} of the second (size {ys[b]}); shapes "
                             f"{xs} and {ys}")
    return xa, ya


def _contract_one(name, a, b, axis_b):
    """The last axis of ``a`` with axis ``axis_b`` of ``b`` (its only one if 1-D)."""
    xs, ys = shape_of(a), shape_of(b)
    if not xs or not ys:
        return multiply(a, b)
    xa, ya = len(xs) - 1, max(len(ys) + axis_b, 0)
    if xs[xa] != ys[ya]:
        _contraction(name, a, b, ([xa], [ya]))  # raises the error naming both shapes
    return tensordot_p(a, b, axes=((xa,), (ya,)))


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """Like ``numpy.tensordot``: sum products over the paired axes ``axes``.

    An int ``n`` pairs the last ``n`` axes of ``a`` with the first ``n`` of ``b``.

    >>> import numpy as np, chainrule as cr
    >>> cr.tensordot(np.ones((2, 3, 4)), np.ones((4, 3)), axes=([1, 2], [1, 0]))
    array([12., 12.])
    """
    return tensordot_p(a, b, axes=_contraction("tensordot", a, b, axes))


def dot(a: Any, b: Any) -> Any:
    """Like ``numpy.dot``: contract the last axis of ``a`` with the second-to-last of ``b``
    (its only axis if ``b`` is 1-D); a scalar operand multiplies.

    For stacks of matrices this is not ``matmul``: batch axes of both operands are kept.

    >>> import numpy as np, chainrule as cr
    >>> cr.dot(np.ones((2, 3, 4)), np.ones((5, 4, 6))).shape
    (2, 3, 5, 6)
    """
    return _contract_one("dot", a, b, -2)


def inner(a: Any, b: Any) -> Any:
    """Like ``numpy.inner``: contract the last axes of ``a`` and ``b``.

    >>> import numpy as np, chainrule as cr
    >>> float(cr.inner(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    11.0
    """
    return _contract_one("inner", a, b, -1)


def outer(a: Any, b: Any) -> Any:
    """Like ``numpy.outer``: every product of an entry of ``a`` with one of ``b``
    (both flattened), as a matrix.

    >>> import numpy as np, chainrule as cr
    >>> cr.outer(np.array([1.0, 2.0]), np.array([1.0, 10.0, 100.0]))
    array([[  1.,  10., 100.],
           [  2.,  20., 200.]])
    """
    return multiply(reshape(a, (-1, 1)), reshape(b, (-1,)))


# ----- diagonal and its adjoint -----

def _diagonal_embed_impl(g, shape, offset, axis1, axis2):
    out = xp.zeros(shape, dtype=xp.result_type(g))
    view = xp.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writes land in out
    k = xp.arange(xp.shape(g)[-1])
    view[..., k + max(-offset, 0), k + max(offset, 0)] = g
    return out


diagonal_p = Primitive("diagonal", lambda x, offset, axis1, axis2:
                       xp.diagonal(x, offset, axis1, axis2))
diagonal_p.defvjp(lambda g, out, x, offset, axis1, axis2: diagonal_embed_p(
    g, shape=shape_of(x), offset=offset, axis1=axis1, axis2=axis2))
diagonal_p.defjvp(lambda dx, out, x, offset, axis1, axis2:
                  diagonal_p(dx, offset=offset, axis1=axis1, axis2=axis2))

diagonal_embed_p = Primitive("diagonal_embed", _diagonal_embed_impl)  # zeros off the diagonal
diagonal_embed_p.defvjp(lambda g, out, d, shape, offset, axis1, axis2:
                        diagonal_p(g, offset=offset, axis1=axis1, axis2=axis2))
diagonal_embed_p.defjvp(lambda dd, out, d, shape, offset, axis1, axis2: diagonal_embed_p(
    dd, shape=shape, offset=offset, axis1=axis1, axis2=axis2))


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Like ``numpy.diagonal``: the diagonal of the (axis1, axis2) planes, as a last axis.

    >>> import numpy as np, chainrule as cr
    >>> cr.diagonal(np.arange(6.0).reshape(2, 3), offset=1)
    array([1., 5.])
    """
    ndim = ndim_of(x)
    if ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got {describe(x)}")
    a1, a2 = _axis("diagonal", axis1, ndim), _axis("diagonal", axis2, ndim)
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, both are axis {a1}")
    return diagonal_p(x, offset=operator.index(offset), axis1=a1, axis2=a2)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Like ``numpy.trace``: the sum of ``diagonal(x, offset, axis1, axis2)``.

    >>> import numpy as np, chainrule as cr
    >>> float(cr.trace(np.arange(9.0).reshape(3, 3)))
    12.0
    """
    return reduce_sum(diagonal(x, offset, axis1, axis2), axis=-1)


# ----- matrix functions (exported as cr.linalg.*) -----

def _mT(a):
    return swapaxes(a, -1, -2)


def _trace_last(m):
    return trace(m, 0, -2, -1)


def _column(v, b):
    # a vector right-hand side as a one-column matrix, so batched solves read it as one
    return expand_dims(v, -1) if ndim_of(b) == 1 else v


def _uncolumn(v, b):
    return squeeze(v, -1) if ndim_of(b) == 1 else v


def _solve_impl(a, b):
    try:
        return xp.linalg.solve(a, b)
    except xp.linalg.LinAlgError:
        raise
    except ValueError:  # shapes were checked: the batch axes disagree
        raise ValueError(f"batch dimensions {xp.shape(a)[:-2]} and "
                         f"{xp.shape(b)[:-2] if xp.ndim(b) > 1 else ()} do not broadcast"
                         ) from None


solve_p = Primitive("solve", _solve_impl)
solve_p.defvjp(  # with x = a^-1 b: gb = a^-T g, ga = -gb x^T
    lambda g, out, a, b: negative(matmul(solve_p(_mT(a), _column(g, b)), _mT(_column(out, b)))),
    lambda g, out, a, b: _uncolumn(solve_p(_mT(a), _column(g, b)), b))
solve_p.defjvp(
    lambda da, out, a, b: negative(_uncolumn(solve_p(a, matmul(da, _column(out, b))), b)),
    lambda db, out, a, b: solve_p(a, db))

inv_p = Primitive("inv", xp.linalg.inv)
inv_p.defvjp(lambda g, out, a: negative(matmul(_mT(out), matmul(g, _mT(out)))))
inv_p.defjvp(lambda da, out, a: negative(matmul(out, matmul(da, out))))

det_p = Primitive("det", xp.linalg.det)  # the gradient needs a^-1: singular a raises
det_p.defvjp(lambda g, out, a: expand_dims(g * out, (-2, -1)) * _mT(inv_p(a)))
det_p.defjvp(lambda da, out, a: out * _trace_last(solve_p(a, da)))

logabsdet_p = Primitive("logabsdet", lambda a: xp.linalg.slogdet(a)[1])  # -inf if singular
logabsdet_p.defvjp(lambda g, out, a: expand_dims(g, (-2, -1)) * _mT(inv_p(a)))
logabsdet_p.defjvp(lambda da, out, a: _trace_last(solve_p(a, da)))

# piecewise constant, so no rules: engines treat the sign as a constant
slogdet_sign_p = Primitive("slogdet_sign", lambda a: xp.linalg.slogdet(a)[0])


def _check_square(name, a):
    shape = shape_of(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{name}: expected square matrices of shape (..., n, n), "
                         f"got {describe(a)}")


def solve(a: Any, b: Any) -> Any:
    """Like ``numpy.linalg.solve``: x with ``a @ x == b``; ``b`` is a vector (n,) or
    a stack of matrices (..., n, k); batch axes broadcast.

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([1.0, 1.0]))
    array([0.5 , 0.25])
    """
    _check_square("solve", a)
    n, bs = shape_of(a)[-1], shape_of(b)
    rows = bs[0] if len(bs) == 1 else bs[-2] if bs else None
    if rows != n:
        raise ValueError(f"solve: b must have shape ({n},) or (..., {n}, k) to match a "
                         f"{describe(a)}, got {describe(b)}")
    return solve_p(a, b)


def inv(a: Any) -> Any:
    """Like ``numpy.linalg.inv``; a singular matrix raises ``LinAlgError``.

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    _check_square("inv", a)
    return inv_p(a)


def det(a: Any) -> Any:
    """Like ``numpy.linalg.det``. Its gradient uses ``inv(a)``, so it is not
    available at singular matrices.

    >>> import numpy as np, chainrule as cr
    >>> float(cr.linalg.det(np.array([[2.0, 1.0], [1.0, 3.0]])))
    5.0
    """
    _check_square("det", a)
    return det_p(a)


class SlogdetResult(NamedTuple):
    """The sign (no derivative) and log of the absolute value of a determinant."""

    sign: Any
    logabsdet: Any


def slogdet(a: Any) -> SlogdetResult:
    """Like ``numpy.linalg.slogdet``: ``(sign, logabsdet)`` with
    ``det(a) == sign * exp(logabsdet)``, without overflow. Only ``logabsdet``
    carries a derivative; ``sign`` is piecewise constant.

    >>> import numpy as np, chainrule as cr
    >>> sign, logabsdet = cr.linalg.slogdet(np.array([[0.0, 2.0], [3.0, 0.0]]))
    >>> float(sign), round(float(logabsdet), 6)
    (-1.0, 1.791759)
    """
    _check_square("slogdet", a)
    return SlogdetResult(slogdet_sign_p(a), logabsdet_p(a))


# ----- Taylor series rules (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.core.primitive import registry  # noqa: E402
from chainrule.ops import series as _s  # noqa: E402

for _name in ("diagonal", "diagonal_embed"):
    _s.defseries(_name, _s.linear(registry[_name]))
for _name in ("matmul", "tensordot"):
    _s.defseries(_name, _s.bilinear(registry[_name]))
