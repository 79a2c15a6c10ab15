"""Specs of softmax and log_softmax, including inputs large enough to overflow exp."""

import torch

import chainrule as cr
from tests.ops.harness import Spec

SHAPES = [((3,),), ((2, 4),)]
WIDE = (-1000.0, 1000.0)  # exp would overflow; the max is subtracted first


def torch_over(fn, dims):
    """softmax/log_softmax over several dimensions (torch takes one): via logsumexp."""
    def f(x):
        return fn(x - torch.logsumexp(x, dim=dims, keepdim=True))
    return f


SPECS = [
    Spec("softmax", cr.softmax, lambda x: torch.softmax(x, -1), SHAPES,
         primitives=("softmax",)),
    Spec("softmax_axis0", lambda x: cr.softmax(x, axis=0), lambda x: torch.softmax(x, 0),
         [((3, 2),)], primitives=("softmax",)),
    Spec("softmax_axes", lambda x: cr.softmax(x, axis=(0, 2)),
         torch_over(torch.exp, (0, 2)), [((2, 3, 2),)], primitives=("softmax",)),
    Spec("softmax_wide", cr.softmax, lambda x: torch.softmax(x, -1), [((2, 3),)], domain=WIDE,
         rtol=1e-9, atol=1e-12, numeric=False),
    Spec("log_softmax", cr.log_softmax, lambda x: torch.log_softmax(x, -1), SHAPES,
         primitives=("log_softmax",)),
    Spec("log_softmax_all", lambda x: cr.log_softmax(x, axis=None),
         torch_over(lambda z: z, (0, 1)), [((2, 3),)], primitives=("log_softmax",)),
    Spec("log_softmax_wide", cr.log_softmax, lambda x: torch.log_softmax(x, -1), [((2, 3),)],
         domain=WIDE, numeric=False),
]
