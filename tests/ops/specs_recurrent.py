"""Specs of the LSTM and GRU recurrence primitives against the same recurrence written step by
step with torch operations (so PyTorch differentiates it twice for the second order)."""

import torch

from chainrule.ops.recurrent import gru_sequence, lstm_sequence
from tests.ops.harness import Spec


def _torch_lstm_sequence(p, w_hh, h, c):
    """PyTorch's LSTM equations, step by step, with the batch along the last axis."""
    slabs = []
    for t in range(p.shape[0]):
        a = p[t] + w_hh @ h
        i, f, g, o = torch.chunk(a, 4, dim=0)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        tc = torch.tanh(c)
        h = o * tc
        slabs.append(torch.stack([h, c, tc, i, f, g, o]))
    return torch.stack(slabs)


SPECS = [
    # (L, 4H, N), (4H, H), (H, N), (H, N); N != H catches a transposed product
    Spec("lstm_sequence", lstm_sequence, _torch_lstm_sequence,
         [((3, 8, 3), (8, 2), (2, 3), (2, 3)), ((1, 4, 1), (4, 1), (1, 1), (1, 1))],
         domain=(-1.5, 1.5), rtol=1e-9, atol=1e-12, primitives=("lstm_sequence",)),
]


def _torch_gru_sequence(p, w_hh, b_hh, h):
    """PyTorch's GRU equations (torch.nn.GRU's documented form), step by step, with the
    batch along the last axis."""
    slabs = []
    for t in range(p.shape[0]):
        gh = w_hh @ h + b_hh[:, None]
        p_r, p_z, p_n = torch.chunk(p[t], 3, dim=0)
        g_r, g_z, g_n = torch.chunk(gh, 3, dim=0)
        r, z = torch.sigmoid(p_r + g_r), torch.sigmoid(p_z + g_z)
        n = torch.tanh(p_n + r * g_n)
        h = (1 - z) * n + z * h
        slabs.append(torch.stack([h, r, z, n, g_n]))
    return torch.stack(slabs)


SPECS.append(
    Spec("gru_sequence", gru_sequence, _torch_gru_sequence,
         [((3, 6, 3), (6, 2), (6,), (2, 3)), ((1, 3, 1), (3, 1), (3,), (1, 1))],
         domain=(-1.5, 1.5), rtol=1e-9, atol=1e-12, primitives=("gru_sequence",)))
