"""Specs of sort and topk, away from ties (uniform random values never tie).

A sort's derivative is a permutation, so its own second derivative is 0;
the cubed specs put a curve after it, so second order checks that the rules
route a cotangent that depends on x. Ties are in tests/test_kinks_sorting.py.
"""

import torch

import chainrule as cr
from tests.ops.harness import Spec


def torch_sort(x, dim=-1, descending=False):
    return torch.sort(x, dim=dim, descending=descending, stable=True).values


SPECS = [
    Spec("sort", cr.sort, torch_sort, [((5,),), ((3, 4),), ((2, 3, 4),)], primitives=("sort",)),
    Spec("sort_axis0", lambda x: cr.sort(x, axis=0), lambda x: torch_sort(x, 0),
         [((4, 3),), ((3, 2, 2),)], primitives=("sort",)),
    Spec("sort_descending", lambda x: cr.sort(x, axis=1, descending=True),
         lambda x: torch_sort(x, 1, descending=True), [((2, 5),), ((2, 3, 2),)],
         primitives=("sort",)),
    Spec("sort_flat", lambda x: cr.sort(x, axis=None), lambda x: torch_sort(x.reshape(-1)),
         [((2, 3),), ((4,),)]),
    Spec("sort_cubed", lambda x: cr.sort(x, axis=0) ** 3, lambda x: torch_sort(x, 0) ** 3,
         [((4, 3),)]),
    Spec("topk", lambda x: cr.topk(x, 2)[0], lambda x: torch.topk(x, 2).values,
         [((5,),), ((3, 4),)], primitives=("topk",)),
    Spec("topk_smallest_axis0", lambda x: cr.topk(x, 3, axis=0, largest=False)[0],
         lambda x: torch.topk(x, 3, dim=0, largest=False).values, [((4, 2),), ((5, 2, 2),)],
         primitives=("topk",)),
    Spec("topk_all", lambda x: cr.topk(x, 4, axis=-1)[0], lambda x: torch.topk(x, 4).values,
         [((2, 4),)], primitives=("topk",)),
    Spec("topk_cubed", lambda x: cr.topk(x, 2, axis=1)[0] ** 3,
         lambda x: torch.topk(x, 2, dim=1).values ** 3, [((3, 5),)]),
]
