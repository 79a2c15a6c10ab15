"""Specs of remainder (differentiable between its jumps)."""

import torch

import chainrule as cr
from tests.ops.harness import Spec


def _away_from_jumps(rng, shapes):
    # equal shapes; x / y kept away from the integers, where remainder jumps
    y = rng.uniform(0.5, 2.0, size=shapes[1])
    whole = rng.integers(-3, 3, size=shapes[1])
    x = (whole + rng.uniform(0.1, 0.9, size=shapes[1])) * y
    return [x, y]


SPECS = [
    Spec("remainder", cr.remainder, torch.remainder, [((3,), (3,)), ((2, 3), (2, 3))],
         make_args=_away_from_jumps, primitives=("remainder",)),
    Spec("mod_operator", lambda x, y: x % y, lambda x, y: x % y, [((4,), (4,))],
         make_args=_away_from_jumps),
]
