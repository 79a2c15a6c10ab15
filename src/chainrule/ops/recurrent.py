"""The LSTM recurrence over a whole sequence as one primitive (cuDNN's approach).

Written as a composite, an LSTM records about fifteen operations per step,
and the gradient of each weight arrives as one small product per step.
``lstm_sequence(p, w_hh, h0, c0)`` runs the recurrence in one call::

    a_t = p_t + h_{t-1} w_hh^T          (p_t: the input's projection x_t w_ih^T + biases)
    i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of a_t's quarters (PyTorch's order)
    c_t = f c_{t-1} + i g,   h_t = o tanh(c_t)

and returns seven slabs over time, shape (7, L, N, H): ``h, c, tanh(c), i, f,
g, o``. The activations are outputs so that the rules, which see the output,
need not recompute them (a staged VJP within a single-output primitive).
The reverse rule is backpropagation through time, ending in one matrix
product for ``w_hh`` over all steps; the forward rule carries the tangent
along the recurrence. Both are written with chainrule operations, so they
are differentiable again; first-order reverse mode on plain arrays (the
training case) takes an in-place NumPy sweep instead. ``tests/ops/specs_recurrent.py``
checks both against the same recurrence written step by step in PyTorch.
The GRU's primitive, ``gru_sequence``, is in ``recurrent_gru.py``.
"""

from __future__ import annotations

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.linalg import matmul, tensordot_p
from chainrule.ops.recurrent_gru import gru_sequence
from chainrule.ops.recurrent_sweep import LastSweep, is_array, stack
from chainrule.ops.shape import concatenate, expand_dims, transpose

__all__ = ["gru_sequence", "lstm_sequence"]

H, C, TC, I, F, G, O = range(7)  # the slabs of the output


def _lstm_sequence_impl(p, w_hh, h0, c0):
    p, w_hh, h0, c0 = (xp.asarray(v) for v in (p, w_hh, h0, c0))
    n = h0.shape[-1]
    dtype = xp.result_type(p, w_hh, h0, c0)
    out = xp.empty((7, p.shape[0], *h0.shape), dtype=dtype)
    w_t = xp.ascontiguousarray(w_hh.T, dtype=dtype)  # a transposed operand: 1.5x slower gemm
    a = xp.empty((h0.shape[0], 4 * n), dtype=dtype)
    s = xp.empty_like(a)
    h, c = h0, c0
    for t in range(p.shape[0]):
        xp.matmul(h, w_t, out=a)
        a += p[t]
        # sigmoid(x) = (1 + tanh(x / 2)) / 2: four passes over the gates instead of seven,
        # exact to rounding in absolute terms, which is what a gate's product needs
        xp.multiply(a, 0.5, out=s)
        xp.tanh(s, out=s)
        s *= 0.5
        s += 0.5
        i, f, g, o = out[I, t], out[F, t], out[G, t], out[O, t]
        i[...], f[...], o[...] = s[:, :n], s[:, n:2 * n], s[:, 3 * n:]
        xp.tanh(a[:, 2 * n:3 * n], out=g)
        xp.multiply(f, c, out=out[C, t])
        xp.multiply(i, g, out=out[TC, t])
        out[C, t] += out[TC, t]
        xp.tanh(out[C, t], out=out[TC, t])
        xp.multiply(o, out[TC, t], out=out[H, t])
        h, c = out[H, t], out[C, t]
    return out


_last_sweep = LastSweep()


def _bptt_arrays(g, out, w_hh, h0, c0):
    """``_backward`` on plain arrays (first-order reverse mode): per step, a few in-place
    operations on step-sized buffers (they stay in cache; whole-sequence temporaries
    cost more than they save) and one matrix product; the four gates are handled
    together as one strided (4, N, H) view."""
    steps, batch, n = out.shape[1:]
    dtype = xp.result_type(g, out)
    da = xp.empty((steps, batch, 4, n), dtype=dtype)
    gh, dct, dc, tmp = (xp.empty((batch, n), dtype=dtype) for _ in range(4))
    slope = xp.empty((4, batch, n), dtype=dtype)
    w = xp.ascontiguousarray(w_hh, dtype=dtype)
    cell, direct = bool(g[C:TC + 1].any()), bool(g[I:].any())  # usually only h has one
    for t in range(steps - 1, -1, -1):
        if t == steps - 1:
            gh[...] = g[H, t]
        else:
            xp.matmul(da[t + 1].reshape(batch, 4 * n), w, out=gh)
            gh += g[H, t]
        tc, acts = out[TC, t], out[I:, t]  # acts: i, f, g, o
        xp.multiply(tc, tc, out=tmp)
        xp.subtract(1.0, tmp, out=tmp)  # tanh'(c)
        xp.multiply(gh, acts[3], out=dct)
        if cell:
            dct += g[TC, t]
        dct *= tmp
        if cell:
            dct += g[C, t]
        if t < steps - 1:
            dct += dc
        d = da[t].transpose(1, 0, 2)  # (4, N, H), writing into (N, 4H) rows
        xp.multiply(dct, acts[2], out=d[0])
        xp.multiply(dct, c0 if t == 0 else out[C, t - 1], out=d[1])
        xp.multiply(dct, acts[0], out=d[2])
        xp.multiply(gh, tc, out=d[3])
        if direct:
            d += g[I:, t]
        xp.subtract(1.0, acts, out=slope)  # sigmoid' = s (1 - s), tanh' = (1 - g)(1 + g)
        d *= slope
        d[:2] *= acts[:2]
        d[3] *= acts[3]
        xp.add(1.0, acts[2], out=tmp)
        d[2] *= tmp
        xp.multiply(dct, acts[1], out=dc)
    da = da.reshape(steps, batch, 4 * n)
    return da, da[0] @ w, dc


def _backward(g, out, p, w_hh, h0, c0):
    """(dp, dh0, dc0) by backpropagation through time."""
    known = _last_sweep.get(g, out)
    if known is not None:
        return known
    if is_array(g, out, w_hh, h0, c0):
        result = _bptt_arrays(g, out, w_hh, h0, c0)
        _last_sweep.put(g, out, result)
        return result
    steps = shape_of(p)[0]
    das = [None] * steps
    dh = dc = None
    for t in range(steps - 1, -1, -1):
        tc, i, f, gg, o = out[TC, t], out[I, t], out[F, t], out[G, t], out[O, t]
        gh = g[H, t] if dh is None else g[H, t] + dh
        dct = g[C, t] + (g[TC, t] + gh * o) * (1.0 - tc * tc)
        if dc is not None:
            dct = dct + dc
        c_prev = c0 if t == 0 else out[C, t - 1]
        di, df = g[I, t] + dct * gg, g[F, t] + dct * c_prev
        dg, do = g[G, t] + dct * i, g[O, t] + gh * tc
        das[t] = concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - gg * gg),
                              do * o * (1.0 - o)], axis=-1)
        dc = dct * f
        dh = matmul(das[t], w_hh)
    result = (stack(das, 0), dh, dc)
    _last_sweep.put(g, out, result)
    return result


def _vjp_w_hh(g, out, p, w_hh, h0, c0):
    dp = _backward(g, out, p, w_hh, h0, c0)[0]
    steps = shape_of(p)[0]
    if is_array(dp, out, h0):  # one product over every step
        h_prev = xp.concatenate([h0[None], out[H, :steps - 1]], axis=0)
        return dp.reshape(-1, dp.shape[-1]).T @ h_prev.reshape(-1, h_prev.shape[-1])
    h_prev = concatenate([expand_dims(h0, 0), out[H, :steps - 1]], axis=0)
    return tensordot_p(dp, h_prev, axes=((0, 1), (0, 1)))  # one product over every step


lstm_sequence_p = Primitive("lstm_sequence", _lstm_sequence_impl)
lstm_sequence_p.defvjp(lambda g, out, p, w_hh, h0, c0: _backward(g, out, p, w_hh, h0, c0)[0],
                       _vjp_w_hh,
                       lambda g, out, p, w_hh, h0, c0: _backward(g, out, p, w_hh, h0, c0)[1],
                       lambda g, out, p, w_hh, h0, c0: _backward(g, out, p, w_hh, h0, c0)[2])


def _tangent(out, p, w_hh, h0, c0, dp=None, dw=None, dh=None, dc=None):
    """The output's tangent from the tangent of one argument, carried through time."""
    n = shape_of(h0)[-1]
    zero = xp.zeros(shape_of(h0), dtype=dtype_of(out))
    steps = []
    for t in range(shape_of(p)[0]):
        tc, i, f, gg, o = out[TC, t], out[I, t], out[F, t], out[G, t], out[O, t]
        da = None if dp is None else dp[t]
        if dh is not None:
            da = matmul(dh, transpose(w_hh)) if da is None else da + matmul(dh, transpose(w_hh))
        if dw is not None:
            h_prev = h0 if t == 0 else out[H, t - 1]
            da = matmul(h_prev, transpose(dw)) if da is None else da + matmul(h_prev,
                                                                              transpose(dw))
        if da is None:  # only the initial cell state moves (first step of dc0's tangent)
            di = df = dg = do = zero
            dct = f * dc
        else:
            di, df = da[..., :n] * i * (1.0 - i), da[..., n:2 * n] * f * (1.0 - f)
            dg, do = da[..., 2 * n:3 * n] * (1.0 - gg * gg), da[..., 3 * n:] * o * (1.0 - o)
            c_prev = c0 if t == 0 else out[C, t - 1]
            dct = df * c_prev + di * gg + i * dg
            if dc is not None:
                dct = dct + f * dc
        dtc = dct * (1.0 - tc * tc)
        dh, dc = do * tc + o * dtc, dct
        steps.append(stack([dh, dct, dtc, di, df, dg, do], 0))
    return stack(steps, 1)


lstm_sequence_p.defjvp(
    lambda dp, out, p, w_hh, h0, c0: _tangent(out, p, w_hh, h0, c0, dp=dp),
    lambda dw, out, p, w_hh, h0, c0: _tangent(out, p, w_hh, h0, c0, dw=dw),
    lambda dh, out, p, w_hh, h0, c0: _tangent(out, p, w_hh, h0, c0, dh=dh),
    lambda dc, out, p, w_hh, h0, c0: _tangent(out, p, w_hh, h0, c0, dc=dc))


def lstm_sequence(p, w_hh, h0, c0):
    """An LSTM run over a sequence: the slabs (h, c, tanh c, i, f, g, o) at every step,
    shape (7, L, N, H), from the input projections ``p`` (L, N, 4H: x_t w_ih^T plus
    both biases, gates in PyTorch's order i, f, g, o), the recurrent weight ``w_hh``
    (4H, H) and the initial states ``h0``, ``c0`` (N, H).

    >>> import numpy as np
    >>> out = lstm_sequence(np.zeros((3, 1, 4)), np.zeros((4, 1)), np.zeros((1, 1)),
    ...                     np.ones((1, 1)))
    >>> out.shape, out[1, :, 0, 0].tolist()   # c halves each step: f = 1/2, i g = 0
    ((7, 3, 1, 1), [0.5, 0.25, 0.125])
    """
    ps, ws, hs, cs = (tuple(shape_of(v)) for v in (p, w_hh, h0, c0))
    if len(hs) != 2 or cs != hs or ws != (4 * hs[1], hs[1]) or len(ps) != 3 \
            or ps[1:] != (hs[0], 4 * hs[1]):
        raise ValueError(f"lstm_sequence: expected p (L, N, 4H), w_hh (4H, H), h0 and c0 "
                         f"(N, H); got {ps}, {ws}, {hs}, {cs}")
    return lstm_sequence_p(p, w_hh, h0, c0)
