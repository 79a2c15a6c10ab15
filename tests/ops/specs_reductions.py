"""Specs of prod, var, std, norm, cumsum and cumprod, zeros planted where they matter."""

import numpy as np
import torch

import chainrule as cr
from tests.ops.harness import Spec

A = [((2, 3, 4),)]
SMALL = [((4,),), ((2, 3),)]
INF = float("inf")


def with_zeros(counts, axis=-1):
    """Arguments with ``counts[i % len(counts)]`` zeros planted in slice i along ``axis``.

    Slices with one and with several zeros are where a division-based rule
    breaks (0/0), so every prod/cumprod zero spec mixes them.
    """
    def make(rng, shapes):
        x = rng.uniform(-2.0, 2.0, size=shapes[0])
        moved = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
        for i, row in enumerate(moved):
            row[rng.choice(row.size, counts[i % len(counts)], replace=False)] = 0.0
        rest = np.moveaxis(x, axis, -1).shape
        return [np.moveaxis(moved.reshape(rest), -1, axis).copy()]
    return make


def torch_prod(x, dims=None, keepdim=False):
    """torch.prod reduces one dimension at a time: compose it for several."""
    if dims is None:
        out = torch.prod(x)
        return out.reshape((1,) * x.ndim) if keepdim else out
    for d in sorted(dims, reverse=True):
        x = torch.prod(x, d, keepdim=keepdim)
    return x


def torch_pnorm(x, p, dim=None):
    """The p-norm of positive x written out: torch's own double backward for p < 1
    (and for abs) loads its compiler, seconds of import for one spec."""
    return (x ** p).sum(dim) ** (1 / p)


def torch_cumprod_flat(x):
    return torch.cumprod(x.reshape(-1), 0)


SPECS = [
    # prod: random inputs, then planted zeros (one, two, three per slice, and none)
    Spec("prod", cr.prod, torch.prod, SMALL, primitives=("prod",)),
    Spec("prod_axis", lambda x: cr.prod(x, axis=1), lambda x: torch.prod(x, 1), A,
         primitives=("prod",)),
    Spec("prod_axes_keepdims", lambda x: cr.prod(x, axis=(0, 2), keepdims=True),
         lambda x: torch_prod(x, (0, 2), keepdim=True), A, primitives=("prod",)),
    Spec("prod_zeros_axis", lambda x: cr.prod(x, axis=1), lambda x: torch.prod(x, 1),
         [((4, 5),)], make_args=with_zeros([1, 2, 0, 3], axis=1), primitives=("prod",)),
    Spec("prod_zeros_axis0", lambda x: cr.prod(x, axis=0, keepdims=True),
         lambda x: torch.prod(x, 0, keepdim=True), [((3, 2),)],
         make_args=with_zeros([2, 1], axis=0)),
    Spec("prod_one_zero_all", cr.prod, torch.prod, [((5,),)], make_args=with_zeros([1]),
         primitives=("prod",)),
    Spec("prod_two_zeros_all", cr.prod, torch.prod, [((2, 3),)],
         make_args=with_zeros([1, 1], axis=1), primitives=("prod",)),
    Spec("prod_zeros_axes", lambda x: cr.prod(x, axis=(0, 2)),
         lambda x: torch_prod(x, (0, 2)), [((3, 2, 2),)], make_args=with_zeros([1, 2], axis=1),
         primitives=("prod",)),
    # var and std: NumPy's ddof is torch's correction
    Spec("var", cr.var, lambda x: torch.var(x, correction=0), SMALL, primitives=("var",)),
    Spec("var_axis_ddof", lambda x: cr.var(x, axis=1, ddof=1),
         lambda x: torch.var(x, 1, correction=1), A, primitives=("var",)),
    Spec("var_axes_keepdims", lambda x: cr.var(x, axis=(0, 2), keepdims=True, ddof=2),
         lambda x: torch.var(x, (0, 2), correction=2, keepdim=True), A, primitives=("var",)),
    Spec("std", cr.std, lambda x: torch.std(x, correction=0), SMALL, primitives=("std",)),
    Spec("std_axis_ddof", lambda x: cr.std(x, axis=-1, ddof=1),
         lambda x: torch.std(x, -1, correction=1), A, primitives=("std",)),
    Spec("std_axes_keepdims", lambda x: cr.std(x, axis=(0, 1), keepdims=True),
         lambda x: torch.std(x, (0, 1), correction=0, keepdim=True), A, primitives=("std",)),
    # norm: vector p-norms, then matrix norms, as numpy.linalg.norm
    Spec("norm", cr.norm, torch.linalg.vector_norm, SMALL, primitives=("vector_norm",)),
    Spec("norm_3d_keepdims", lambda x: cr.norm(x, keepdims=True),
         lambda x: torch.linalg.vector_norm(x, keepdim=True), A),
    Spec("norm_axis", lambda x: cr.norm(x, axis=1, keepdims=True),
         lambda x: torch.linalg.vector_norm(x, dim=1, keepdim=True), A,
         primitives=("vector_norm",)),
    Spec("norm_ord1", lambda x: cr.norm(x, 1, axis=-1),
         lambda x: torch.linalg.vector_norm(x, 1, dim=-1), A, primitives=("vector_norm",)),
    Spec("norm_ord3", lambda x: cr.norm(x, 3, axis=0),
         lambda x: torch.linalg.vector_norm(x, 3, dim=0), A, primitives=("vector_norm",)),
    Spec("norm_ord_half", lambda x: cr.norm(x, 0.5), lambda x: torch_pnorm(x, 0.5), [((4,),)],
         domain=(0.2, 2.0), primitives=("vector_norm",)),
    Spec("norm_ord_minus2", lambda x: cr.norm(x, -2, axis=1), lambda x: torch_pnorm(x, -2, 1),
         [((2, 3),)], domain=(0.2, 2.0), primitives=("vector_norm",)),
    Spec("norm_inf", lambda x: cr.norm(x, INF, axis=1),
         lambda x: torch.linalg.vector_norm(x, INF, dim=1), A),
    Spec("norm_minus_inf", lambda x: cr.norm(x, -INF), lambda x: torch.linalg.vector_norm(
        x, -INF), [((5,),)]),
    Spec("norm_fro", lambda x: cr.norm(x, "fro"), lambda x: torch.linalg.matrix_norm(x, "fro"),
         [((3, 4),)], primitives=("vector_norm",)),
    Spec("norm_matrix_axes", lambda x: cr.norm(x, "fro", axis=(2, 0), keepdims=True),
         lambda x: torch.linalg.matrix_norm(x, "fro", dim=(2, 0), keepdim=True), A),
    Spec("norm_matrix_1", lambda x: cr.norm(x, 1), lambda x: torch.linalg.matrix_norm(x, 1),
         [((3, 4),)]),
    Spec("norm_matrix_minus1", lambda x: cr.norm(x, -1, axis=(2, 0)),
         lambda x: torch.linalg.matrix_norm(x, -1, dim=(2, 0)), A),
    Spec("norm_matrix_inf", lambda x: cr.norm(x, INF, axis=(0, 1), keepdims=True),
         lambda x: torch.linalg.matrix_norm(x, INF, dim=(0, 1), keepdim=True), A),
    # cumulative sums and products
    Spec("cumsum", cr.cumsum, lambda x: torch.cumsum(x.reshape(-1), 0), SMALL),
    Spec("cumsum_axis", lambda x: cr.cumsum(x, axis=1), lambda x: torch.cumsum(x, 1), A,
         primitives=("cumsum",)),
    Spec("cumprod", cr.cumprod, torch_cumprod_flat, SMALL),
    Spec("cumprod_axis", lambda x: cr.cumprod(x, axis=-1), lambda x: torch.cumprod(x, -1), A,
         primitives=("cumprod",)),
    Spec("cumprod_long", lambda x: cr.cumprod(x, axis=0), lambda x: torch.cumprod(x, 0),
         [((9, 2),)], domain=(0.5, 1.5), primitives=("cumprod",)),
    Spec("cumprod_zeros", lambda x: cr.cumprod(x, axis=1), lambda x: torch.cumprod(x, 1),
         [((4, 6),)], make_args=with_zeros([1, 2, 3, 0], axis=1), primitives=("cumprod",)),
    Spec("cumprod_zeros_flat", cr.cumprod, torch_cumprod_flat, [((2, 3),)],
         make_args=with_zeros([1, 1], axis=1)),
]
