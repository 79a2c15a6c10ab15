"""Specs of the LSTM recurrence primitive against the same recurrence written step by
step with torch operations (so PyTorch differentiates it twice for the second order)."""

import torch

from chainrule.ops.recurrent import lstm_sequence
from tests.ops.harness import Spec


def _torch_lstm_sequence(p, w_hh, h, c):
    slabs = []
    for t in range(p.shape[0]):
        a = p[t] + h @ w_hh.T
        i, f, g, o = torch.chunk(a, 4, dim=-1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        tc = torch.tanh(c)
        h = o * tc
        slabs.append(torch.stack([h, c, tc, i, f, g, o]))
    return torch.stack(slabs, dim=1)


SPECS = [
    Spec("lstm_sequence", lstm_sequence, _torch_lstm_sequence,
         [((3, 2, 8), (8, 2), (2, 2), (2, 2)), ((1, 1, 4), (4, 1), (1, 1), (1, 1))],
         domain=(-1.5, 1.5), rtol=1e-9, atol=1e-12, primitives=("lstm_sequence",)),
]
