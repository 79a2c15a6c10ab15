"""Specs of repeat and tile."""

import torch

import chainrule as cr
from tests.ops.harness import Spec

SPECS = [
    Spec("repeat_flat", lambda x: cr.repeat(x, 2), lambda x: torch.repeat_interleave(
        x.reshape(-1), 2), [((2, 3),), ((3,),), ((),)]),
    Spec("repeat_axis", lambda x: cr.repeat(x, 3, axis=1),
         lambda x: torch.repeat_interleave(x, 3, dim=1), [((2, 3, 2),)]),
    Spec("repeat_counts", lambda x: cr.repeat(x, [1, 0, 3], axis=-1),
         lambda x: torch.repeat_interleave(x, torch.tensor([1, 0, 3]), dim=-1), [((2, 3),)]),
    Spec("repeat_counts_flat", lambda x: cr.repeat(x, [2, 1, 1, 3]),
         lambda x: torch.repeat_interleave(x.reshape(-1), torch.tensor([2, 1, 1, 3])),
         [((2, 2),)]),
    Spec("tile", lambda x: cr.tile(x, 3), lambda x: torch.tile(x, (3,)), [((2,),), ((2, 3),)]),
    Spec("tile_more_axes", lambda x: cr.tile(x, (2, 1, 2)), lambda x: torch.tile(x, (2, 1, 2)),
         [((2, 3),)]),
    Spec("tile_fewer_reps", lambda x: cr.tile(x, (2, 1)), lambda x: torch.tile(x, (2, 1)),
         [((2, 1, 3),)]),
]
