"""The LSTM recurrence over a whole sequence as one primitive (cuDNN's approach).

Written as a composite, an LSTM records about fifteen operations per step,
and the gradient of each weight arrives as one small product per step.
``lstm_sequence(p, w_hh, h0, c0)`` runs the recurrence in one call, with the
batch along the last axis (states are columns)::

    a_t = p_t + w_hh h_{t-1}            (p_t: the input's projection w_ih x_t + biases)
    i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of a_t's row blocks (PyTorch's order)
    c_t = f c_{t-1} + i g,   h_t = o tanh(c_t)

and returns seven slabs per step, shape (L, 7, H, N): ``h, c, tanh(c), i, f,
g, o``. Why columns: the recurrent product ``w_hh h`` then yields the four
gates as four contiguous (H, N) blocks, so every per-step NumPy call (the
cost of an LSTM on a CPU is the number of those calls) runs over contiguous
memory, and all four gates go through one call where their formulas agree.
The activations are outputs so that the rules, which see the output, need
not recompute them (a staged VJP within a single-output primitive).

The reverse rule is backpropagation through time, ending in one matrix
product for ``w_hh`` over all steps; the forward rule carries the tangent
along the recurrence. Both are written with chainrule operations, so they
are differentiable again; first-order reverse mode on plain arrays (the
training case) takes an in-place NumPy sweep instead.
``tests/ops/specs_recurrent.py`` checks both against the same recurrence
written step by step in PyTorch. The GRU's primitive, ``gru_sequence``, is in
``recurrent_gru.py``.
"""

from __future__ import annotations

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.linalg import matmul
from chainrule.ops.recurrent_gru import gru_sequence
from chainrule.ops.recurrent_sweep import LastSweep, is_array, stack, step_products
from chainrule.ops.shape import concatenate, transpose

__all__ = ["gru_sequence", "lstm_sequence"]

H, C, TC, I, F, G, O = range(7)  # the slabs of each step's output
# sigmoid(x) = (1 + tanh(x / 2)) / 2, so one tanh serves all four gates: the
# sigmoid gates' (i, f, o) pre-activations are halved before it and mapped back
# after, with scalar operations on slices (a broadcast vector costs twice as
# much); exact to rounding in absolute terms, which is what a gate's product needs


def _lstm_sequence_impl(p, w_hh, h0, c0):
    p, w_hh, h0, c0 = (xp.asarray(v) for v in (p, w_hh, h0, c0))
    n, batch = h0.shape
    dtype = xp.result_type(p, w_hh, h0, c0)
    out = xp.empty((p.shape[0], 7, n, batch), dtype=dtype)
    w = xp.ascontiguousarray(w_hh, dtype=dtype)
    a = xp.empty((4, n, batch), dtype=dtype)
    a_rows = a.reshape(4 * n, batch)
    h, c = h0, c0
    for t in range(p.shape[0]):
        step = out[t]
        xp.matmul(w, h, out=a_rows)
        a_rows += p[t]
        a[:2] *= 0.5
        a[3] *= 0.5
        gates = step[I:]
        xp.tanh(a, out=gates)
        for sig in gates[:2], gates[3]:
            sig *= 0.5
            sig += 0.5
        xp.multiply(gates[1], c, out=step[C])
        xp.multiply(gates[0], gates[2], out=step[TC])
        step[C] += step[TC]
        xp.tanh(step[C], out=step[TC])
        xp.multiply(gates[3], step[TC], out=step[H])
        h, c = step[H], step[C]
    return out


_last_sweep = LastSweep()


def _bptt_arrays(g, out, w_hh, h0, c0):
    """``_backward`` on plain arrays (first-order reverse mode): per step, a few in-place
    NumPy calls on contiguous step-sized buffers (they stay in cache; whole-sequence
    temporaries cost more than they save) and one matrix product; the four gates'
    slopes are applied together over the (4, H, N) block."""
    steps, _, n, batch = out.shape
    dtype = xp.result_type(g, out)
    da = xp.empty((steps, 4, n, batch), dtype=dtype)
    gh, dct, dc, tmp = (xp.empty((n, batch), dtype=dtype) for _ in range(4))
    slope = xp.empty((4, n, batch), dtype=dtype)
    w_t = xp.ascontiguousarray(w_hh.T, dtype=dtype)
    cell = bool(g[:, C:TC + 1].any())  # usually only h has a cotangent
    direct = bool(g[:, I:].any())
    for t in range(steps - 1, -1, -1):
        step, gt = out[t], g[t]
        if t == steps - 1:
            gh[...] = gt[H]
        else:
            xp.matmul(w_t, da[t + 1].reshape(4 * n, batch), out=gh)
            gh += gt[H]
        tc, acts = step[TC], step[I:]  # acts: i, f, g, o
        xp.multiply(tc, tc, out=tmp)
        xp.subtract(1.0, tmp, out=tmp)  # tanh'(c)
        xp.multiply(gh, acts[3], out=dct)
        if cell:
            dct += gt[TC]
        dct *= tmp
        if cell:
            dct += gt[C]
        if t < steps - 1:
            dct += dc
        d = da[t]
        xp.multiply(dct, acts[2], out=d[0])
        xp.multiply(dct, c0 if t == 0 else out[t - 1, C], out=d[1])
        xp.multiply(dct, acts[0], out=d[2])
        xp.multiply(gh, tc, out=d[3])
        if direct:
            d += gt[I:]
        # PyTorch's forms, so rounding follows its own: sigmoid' = (1 - s) s for i, f, o,
        # tanh' = 1 - g^2 for g
        xp.subtract(1.0, acts, out=slope)
        slope[:2] *= acts[:2]
        slope[3] *= acts[3]
        xp.multiply(acts[2], acts[2], out=tmp)
        xp.subtract(1.0, tmp, out=slope[2])
        d *= slope
        xp.multiply(dct, acts[1], out=dc)
    return da.reshape(steps, 4 * n, batch), w_t @ da[0].reshape(4 * n, batch), dc


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
    w_t = transpose(w_hh)
    das = [None] * steps
    dh = dc = None
    for t in range(steps - 1, -1, -1):
        tc, i, f, gg, o = out[t, TC], out[t, I], out[t, F], out[t, G], out[t, O]
        gh = g[t, H] if dh is None else g[t, H] + dh
        dct = g[t, C] + (g[t, TC] + gh * o) * (1.0 - tc * tc)
        if dc is not None:
            dct = dct + dc
        c_prev = c0 if t == 0 else out[t - 1, C]
        di, df = g[t, I] + dct * gg, g[t, F] + dct * c_prev
        dg, do = g[t, G] + dct * i, g[t, O] + gh * tc
        das[t] = concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - gg * gg),
                              do * o * (1.0 - o)], axis=0)
        dc = dct * f
        dh = matmul(w_t, das[t])
    result = (stack(das, 0), dh, dc)
    _last_sweep.put(g, out, result)
    return result


def _vjp_w_hh(g, out, p, w_hh, h0, c0):
    dp = _backward(g, out, p, w_hh, h0, c0)[0]
    return step_products(dp, out[:, H], h0)


lstm_sequence_p = Primitive("lstm_sequence", _lstm_sequence_impl)
lstm_sequence_p.defvjp(lambda g, out, p, w_hh, h0, c0: _backward(g, out, p, w_hh, h0, c0)[0],
                       _vjp_w_hh,
                       lambda g, out, p, w_hh, h0, c0: _backward(g, out, p, w_hh, h0, c0)[1],
                       lambda g, out, p, w_hh, h0, c0: _backward(g, out, p, w_hh, h0, c0)[2])


def _tangent(out, p, w_hh, h0, c0, dp=None, dw=None, dh=None, dc=None):
    """The output's tangent from the tangent of one argument, carried through time."""
    n = shape_of(h0)[0]
    zero = xp.zeros(shape_of(h0), dtype=dtype_of(out))
    steps = []
    for t in range(shape_of(p)[0]):
        tc, i, f, gg, o = out[t, TC], out[t, I], out[t, F], out[t, G], out[t, O]
        da = None if dp is None else dp[t]
        if dh is not None:
            da = matmul(w_hh, dh) if da is None else da + matmul(w_hh, dh)
        if dw is not None:
            h_prev = h0 if t == 0 else out[t - 1, H]
            da = matmul(dw, h_prev) if da is None else da + matmul(dw, h_prev)
        if da is None:  # only the initial cell state moves (first step of dc0's tangent)
            di = df = dg = do = zero
            dct = f * dc
        else:
            di, df = da[:n] * i * (1.0 - i), da[n:2 * n] * f * (1.0 - f)
            dg, do = da[2 * n:3 * n] * (1.0 - gg * gg), da[3 * n:] * o * (1.0 - o)
            c_prev = c0 if t == 0 else out[t - 1, C]
            dct = df * c_prev + di * gg + i * dg
            if dc is not None:
                dct = dct + f * dc
        dtc = dct * (1.0 - tc * tc)
        dh, dc = do * tc + o * dtc, dct
        steps.append(stack([dh, dct, dtc, di, df, dg, do], 0))
    return stack(steps, 0)


lstm_sequence_p.defjvp(
    lambda dp, out, p, w_hh, h0, c0: _tangent(out, p, w_hh, h0, c0, dp=dp),
    lambda dw, out, p, w_hh, h0, c0: _tangent(out, p, w_hh, h0, c0, dw=dw),
    lambda dh, out, p, w_hh, h0, c0: _tangent(out, p, w_hh, h0, c0, dh=dh),
    lambda dc, out, p, w_hh, h0, c0: _tangent(out, p, w_hh, h0, c0, dc=dc))


def lstm_sequence(p, w_hh, h0, c0):
    """An LSTM run over a sequence, the batch along the last axis: the slabs (h, c,
    tanh c, i, f, g, o) at every step, shape (L, 7, H, N), from the input projections
    ``p`` (L, 4H, N: w_ih x_t plus both biases, gate blocks in PyTorch's order i, f, g,
    o), the recurrent weight ``w_hh`` (4H, H) and the initial states ``h0``, ``c0``
    (H, N).

    >>> import numpy as np
    >>> out = lstm_sequence(np.zeros((3, 4, 1)), np.zeros((4, 1)), np.zeros((1, 1)),
    ...                     np.ones((1, 1)))
    >>> out.shape, out[:, 1, 0, 0].tolist()   # c halves each step: f = 1/2, i g = 0
    ((3, 7, 1, 1), [0.5, 0.25, 0.125])
    """
    ps, ws, hs, cs = (tuple(shape_of(v)) for v in (p, w_hh, h0, c0))
    if len(hs) != 2 or cs != hs or ws != (4 * hs[0], hs[0]) or len(ps) != 3 \
            or ps[1:] != (4 * hs[0], hs[1]):
        raise ValueError(f"lstm_sequence: expected p (L, 4H, N), w_hh (4H, H), h0 and c0 "
                         f"(H, N); got {ps}, {ws}, {hs}, {cs}")
    return lstm_sequence_p(p, w_hh, h0, c0)
