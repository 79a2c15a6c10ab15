"""Specs of the linear-algebra family: contractions, diagonals, matrix functions.

Where one spec covers several calls of an operation (tensordot's ``axes``,
einsum's subscripts), the call is looked up from the argument shapes, so
every case of the spec is the same single primitive call.
"""

import numpy as np
import torch

import chainrule as cr
from tests.ops.harness import Spec


def _well_conditioned(rng, shapes):
    """First argument: a stack of diagonally dominant matrices (random + (n+1)*I) with
    random sign flips of the first row, so determinants of both signs occur."""
    args = [rng.uniform(-1.0, 1.0, size=s) for s in shapes]
    a, n = args[0], shapes[0][-1]
    a += (n + 1) * np.eye(n)
    a[..., 0, :] *= rng.choice([-1.0, 1.0], size=shapes[0][:-2] + (1,))
    return args


def _torch_dot(a, b):  # NumPy's dot, written with torch
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return torch.tensordot(a, b, dims=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def _by_shape(table):
    """A (chainrule, torch) pair of functions choosing the call from the shapes."""
    def key(xs):
        return tuple(tuple(x.shape) for x in xs)

    return (lambda *xs: table[key(xs)][0](cr, *xs),
            lambda *xs: table[key(xs)][0](torch, *xs))


# tensordot: shapes -> (call, ...); the call works with cr and with torch
TENSORDOT = {
    ((2, 3, 4), (3, 4, 2)): (lambda m, a, b: m.tensordot(a, b, 2),),
    ((3, 4), (4, 2)): (lambda m, a, b: m.tensordot(a, b, 1),),
    ((2, 3, 4), (4, 3, 5)): (lambda m, a, b: m.tensordot(a, b, ([1, 2], [1, 0])),),
    ((2, 3), (4,)): (lambda m, a, b: m.tensordot(a, b, 0),),
    ((3, 2, 4), (4, 3)): (lambda m, a, b: m.tensordot(a, b, ([2, 0], [0, 1])),),
}

# einsum: subscripts per operand shapes (repeated indices, implicit mode, '...')
EINSUM = {
    ((3, 4), (4, 2)): "ij,jk->ik",
    ((2, 3, 4), (2, 4, 5)): "bij,bjk->bik",
    ((1, 3, 4), (2, 4, 5)): "bij,bjk->bik",  # a broadcast batch index
    ((4, 3), (3, 2)): "ij,jk",  # implicit: ik
    ((2, 3),): "ba",  # implicit: ab, a transpose
    ((3, 3),): "ii->i",
    ((4, 4),): "ii",  # implicit: the trace
    ((3, 3, 2),): "iij->j",
    ((3, 4),): "ij->",
    ((4,), (4,)): "i,i",
    ((3,), (4,)): "i,j->ij",
    ((2, 3), (3, 4), (4, 2)): "ij,jk,kl->il",
    ((2, 3, 4), (4, 5)): "...ij,...jk->...ik",
    ((3, 4), (2, 4, 5)): "...ij,...jk",
    ((3, 3), (3,)): "ii,i->i",
    ((2, 3), (2, 4)): "ij,ik->j",  # k only in the second operand, summed
}

SQUARE = [((3, 3),), ((2, 3, 3),), ((1, 1),), ((2, 1, 2, 2),)]

SPECS = [
    Spec("tensordot", *_by_shape(TENSORDOT), list(TENSORDOT), primitives=("tensordot",)),
    Spec("dot", cr.dot, _torch_dot,
         [((4,), (4,)), ((3, 4), (4, 2)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4,)),
          ((2, 3, 4), (2, 4, 3)), ((4,), (2, 4, 3)), ((), (3,))],
         primitives=("tensordot",)),
    Spec("inner", cr.inner, torch.inner,
         [((4,), (4,)), ((2, 4), (3, 4)), ((2, 3, 4), (4,)), ((3,), ())],
         primitives=("tensordot",)),
    Spec("outer", cr.outer, lambda a, b: torch.outer(a.reshape(-1), b.reshape(-1)),
         [((3,), (4,)), ((2, 2), (3,))]),
    Spec("einsum", lambda *xs: cr.einsum(EINSUM[tuple(x.shape for x in xs)], *xs),
         lambda *xs: torch.einsum(EINSUM[tuple(tuple(x.shape) for x in xs)], *xs),
         list(EINSUM), primitives=("einsum",)),
    Spec("diagonal", lambda x: cr.diagonal(x, *DIAGONAL[x.shape]),
         lambda x: torch.diagonal(x, *DIAGONAL[tuple(x.shape)]),
         [((3, 4),), ((4, 3),), ((2, 3, 4),), ((3, 2, 2),)], primitives=("diagonal",)),
    Spec("trace", cr.trace, torch.trace, [((3, 3),), ((3, 4),)]),
    Spec("trace_offset_axes", lambda x: cr.trace(x, -1, 2, 0),
         lambda x: torch.diagonal(x, -1, 2, 0).sum(-1), [((3, 2, 4),)]),
    Spec("solve", cr.linalg.solve, torch.linalg.solve,
         [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)), ((2, 3, 3), (3,)),
          ((3, 3), (2, 3, 2)), ((2, 1, 3, 3), (3, 3, 2))],
         make_args=_well_conditioned, rtol=1e-9, primitives=("solve",)),
    Spec("inv", cr.linalg.inv, torch.linalg.inv, SQUARE, make_args=_well_conditioned,
         rtol=1e-9, primitives=("inv",)),
    Spec("det", cr.linalg.det, torch.linalg.det, SQUARE, make_args=_well_conditioned,
         rtol=1e-9, primitives=("det",)),
    Spec("slogdet", lambda a: cr.linalg.slogdet(a).logabsdet,
         lambda a: torch.linalg.slogdet(a).logabsdet, SQUARE, make_args=_well_conditioned,
         rtol=1e-9, primitives=("logabsdet",)),
    Spec("slogdet_det", lambda a: cr.linalg.slogdet(a)[0] * cr.exp(cr.linalg.slogdet(a)[1]),
         torch.linalg.det, SQUARE[:2], make_args=_well_conditioned, rtol=1e-9),
]

# diagonal: (offset, axis1, axis2) per shape
DIAGONAL = {
    (3, 4): (1, 0, 1),
    (4, 3): (-2, 1, 0),
    (2, 3, 4): (0, 2, 1),
    (3, 2, 2): (1, -1, 0),
}
