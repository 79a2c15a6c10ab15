"""Specs of sign, floor, ceil and round: piecewise constant, so zero derivative away
from their jumps (sign at 0, floor and ceil at the integers, round at the
half-integers), where the arguments are drawn.

A bare row checks the value against PyTorch and that every engine gives a
zero derivative (the output is a constant: no graph is recorded); a row
that multiplies by x checks that the result enters a product as a constant
factor, d/dx [x floor(x)] = floor(x), with a zero second derivative from it.
What the library does exactly at a jump is in tests/test_kinks_poles_jumps.py.
"""

import numpy as np
import torch

import chainrule as cr
from tests.ops.harness import Spec

UNARY = [((3,),), ((2, 3),), ((),)]
BINARY = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2))]
MARGIN = 0.1  # distance kept from every jump: central differences step 1e-6


def _between(offset_lo, offset_hi):
    """Arguments whole + u, u in [offset_lo, offset_hi]: away from the jumps of
    floor and ceil (offsets in (0, 1)) or of round (offsets in (-1/2, 1/2))."""
    def make(rng, shapes):
        return [rng.integers(-3, 3, size=s) + rng.uniform(offset_lo, offset_hi, size=s)
                for s in shapes]
    return make


def _away_from_zero(rng, shapes):
    out = [rng.uniform(MARGIN, 2.0, size=s) * rng.choice([-1.0, 1.0], size=s) for s in shapes]
    return [np.asarray(a, dtype=np.float64) for a in out]


FRACTIONAL = _between(MARGIN, 1 - MARGIN)
NEAR_WHOLE = _between(-0.5 + MARGIN, 0.5 - MARGIN)

SPECS = [
    Spec("sign", cr.sign, torch.sign, UNARY, make_args=_away_from_zero, primitives=("sign",)),
    Spec("floor", cr.floor, torch.floor, UNARY, make_args=FRACTIONAL, primitives=("floor",)),
    Spec("ceil", cr.ceil, torch.ceil, UNARY, make_args=FRACTIONAL, primitives=("ceil",)),
    Spec("round", cr.round, torch.round, UNARY, make_args=NEAR_WHOLE, primitives=("round",)),
    Spec("round_decimals", lambda x: cr.round(x, 1), lambda x: torch.round(x, decimals=1),
         UNARY, make_args=lambda rng, shapes: [a / 10 for a in NEAR_WHOLE(rng, shapes)],
         primitives=("round",)),
    Spec("sign_times_y", lambda x, y: cr.sign(x) * y, lambda x, y: torch.sign(x) * y, BINARY,
         make_args=_away_from_zero),
    Spec("x_floor_x", lambda x: x * cr.floor(x), lambda x: x * torch.floor(x), UNARY,
         make_args=FRACTIONAL),
    Spec("x_ceil_x", lambda x: x * cr.ceil(x), lambda x: x * torch.ceil(x), UNARY,
         make_args=FRACTIONAL),
    Spec("round_x_squared", lambda x: cr.round(x) * x**2, lambda x: torch.round(x) * x**2,
         UNARY, make_args=NEAR_WHOLE),
    Spec("np_floor_ceil_rint", lambda x: np.floor(x) + np.ceil(x) * x + np.rint(x),
         lambda x: torch.floor(x) + torch.ceil(x) * x + torch.round(x), UNARY,
         make_args=_between(MARGIN, 0.5 - MARGIN)),
]
