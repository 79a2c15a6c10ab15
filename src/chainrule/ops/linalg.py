"""Linear algebra primitives.

``matmul`` covers 1-D, 2-D and batched operands with broadcast batch
dimensions; its rule returns cotangents of the broadcast shape and the
engine sums them back over batch dimensions.
"""

from __future__ import annotations

from chainrule.backend import ndim_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.shape import expand_dims, squeeze, swapaxes

__all__ = [
    "matmul",
]


def _matmul_vjp_x(g, out, x, y):
    if ndim_of(x) == 1 and ndim_of(y) == 1:
        return g * y
    if ndim_of(y) == 1:  # out (..., n): outer product of g with y
        return expand_dims(g, -1) * y
    if ndim_of(x) == 1:  # out (..., m): g @ y^T row by row
        return squeeze(matmul(expand_dims(g, -2), swapaxes(y, -1, -2)), -2)
    return matmul(g, swapaxes(y, -1, -2))


def _matmul_vjp_y(g, out, x, y):
    if ndim_of(x) == 1 and ndim_of(y) == 1:
        return g * x
    if ndim_of(x) == 1:  # out (..., m): outer product of x with g
        return expand_dims(x, -1) * expand_dims(g, -2)
    if ndim_of(y) == 1:  # out (..., n): x^T @ g
        return squeeze(matmul(swapaxes(x, -1, -2), expand_dims(g, -1)), -1)
    return matmul(swapaxes(x, -1, -2), g)


matmul = Primitive("matmul", xp.matmul)
matmul.defvjp(_matmul_vjp_x, _matmul_vjp_y)
matmul.defjvp(lambda dx, out, x, y: matmul(dx, y), lambda dy, out, x, y: matmul(x, dy))
