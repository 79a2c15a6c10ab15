"""Specs of the fused LSTM cell against the same update written with torch operations."""

import torch

from chainrule.ops.recurrent import lstm_cell
from tests.ops.harness import Spec


def _torch_lstm_cell(a, c):
    i, f, g, o = torch.chunk(a, 4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_new = f * c + i * g
    tc = torch.tanh(c_new)
    return torch.stack(torch.broadcast_tensors(o * tc, c_new, tc, i, f, g, o))


SPECS = [
    Spec("lstm_cell", lstm_cell, _torch_lstm_cell, [((3, 8), (3, 2)), ((12,), (3,)),
                                                    ((2, 1, 8), (3, 2))],
         domain=(-3.0, 3.0), rtol=1e-9, atol=1e-12, primitives=("lstm_cell",)),
]
