"""The GRU recurrence over a whole sequence as one primitive, as ``lstm_sequence`` is for
the LSTM, with the batch along the last axis for the same reason (contiguous gate
blocks). ``gru_sequence(p, w_hh, b_hh, h0)`` runs PyTorch's equations::

    g_t = w_hh h_{t-1} + b_hh                   (p_t: the input's projection w_ih x_t + b_ih)
    r = sigmoid(p_r + g_r),  z = sigmoid(p_z + g_z),  n = tanh(p_n + r g_n)
    h_t = (1 - z) n + z h_{t-1}

and returns five slabs per step, shape (L, 5, H, N): ``h, r, z, n, g_n`` (the
activations are outputs so that the rules need not recompute them). The
reverse rule is backpropagation through time, ending in one matrix product
for ``w_hh`` over all steps; the forward rule carries the tangent along.
Both are written with chainrule operations, so they are differentiable
again; first-order reverse mode on plain arrays takes an in-place NumPy path.
"""

from __future__ import annotations

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.linalg import matmul
from chainrule.ops.recurrent_sweep import LastSweep, is_array, stack, step_products
from chainrule.ops.reductions import sum as _sum
from chainrule.ops.shape import concatenate, expand_dims, transpose

__all__ = ["gru_sequence"]

HS, R, Z, NN, HN = range(5)  # the slabs of each step's output


def _gru_sequence_impl(p, w_hh, b_hh, h0):
    p, w_hh, b_hh, h0 = (xp.asarray(v) for v in (p, w_hh, b_hh, h0))
    n, batch = h0.shape
    dtype = xp.result_type(p, w_hh, b_hh, h0)
    out = xp.empty((p.shape[0], 5, n, batch), dtype=dtype)
    w = xp.ascontiguousarray(w_hh, dtype=dtype)
    bias = xp.empty((3 * n, batch), dtype=dtype)  # b_hh as columns: a contiguous add
    bias[...] = b_hh[:, None]
    a = xp.empty((3, n, batch), dtype=dtype)
    a_rows = a.reshape(3 * n, batch)
    h = h0
    for t in range(p.shape[0]):
        step, pt = out[t], p[t].reshape(3, n, batch)
        xp.matmul(w, h, out=a_rows)
        a_rows += bias
        step[HN] = a[2]
        a[:2] += pt[:2]
        a[:2] *= 0.5  # sigmoid(x) = (1 + tanh(x / 2)) / 2, as for the LSTM
        gates = step[R:Z + 1]
        xp.tanh(a[:2], out=gates)
        gates *= 0.5
        gates += 0.5
        cand = step[NN]
        xp.multiply(step[R], step[HN], out=cand)
        cand += pt[2]
        xp.tanh(cand, out=cand)
        xp.subtract(h, cand, out=step[HS])  # h' = n + z (h - n)
        step[HS] *= step[Z]
        step[HS] += cand
        h = step[HS]
    return out


_last_sweep = LastSweep()


def _bptt_arrays(g, out, w_hh, h0):
    """``_backward`` on plain arrays: in-place per-step operations on contiguous blocks,
    one product each."""
    steps, _, n, batch = out.shape
    dtype = xp.result_type(g, out)
    dp = xp.empty((steps, 3, n, batch), dtype=dtype)
    dgh = xp.empty((steps, 3, n, batch), dtype=dtype)
    gh, dn, tmp = (xp.empty((n, batch), dtype=dtype) for _ in range(3))
    slope = xp.empty((2, n, batch), dtype=dtype)
    w_t = xp.ascontiguousarray(w_hh.T, dtype=dtype)
    direct = bool(g[:, R:].any())  # usually only h has a cotangent
    for t in range(steps - 1, -1, -1):
        step, gt = out[t], g[t]
        r, z, cand, hn = step[R], step[Z], step[NN], step[HN]
        h_prev = h0 if t == 0 else out[t - 1, HS]
        if t == steps - 1:
            gh[...] = gt[HS]
        else:
            xp.matmul(w_t, dgh[t + 1].reshape(3 * n, batch), out=tmp)
            xp.multiply(gh, out[t + 1, Z], out=gh)
            gh += tmp
            gh += gt[HS]
        d, e = dp[t], dgh[t]
        xp.subtract(1.0, z, out=dn)  # dn = gh (1 - z)
        dn *= gh
        xp.subtract(h_prev, cand, out=d[1])  # dz = gh (h - n)
        d[1] *= gh
        if direct:
            dn += gt[NN]
            d[1] += gt[Z]
        xp.multiply(cand, cand, out=tmp)  # da_n = dn (1 - n^2)
        xp.subtract(1.0, tmp, out=tmp)
        xp.multiply(dn, tmp, out=d[2])
        xp.multiply(d[2], hn, out=d[0])  # dr = da_n g_n
        xp.multiply(d[2], r, out=e[2])  # dg_n = da_n r
        if direct:
            d[0] += gt[R]
            e[2] += gt[HN]
        acts = step[R:Z + 1]  # through the sigmoids: s' = (1 - s) s, as PyTorch
        xp.subtract(1.0, acts, out=slope)
        slope *= acts
        d[:2] *= slope
        e[:2] = d[:2]
    dgh = dgh.reshape(steps, 3 * n, batch)
    dh0 = w_t @ dgh[0]
    dh0 += gh * out[0, Z]
    return dp.reshape(steps, 3 * n, batch), dgh, dh0


def _backward(g, out, p, w_hh, b_hh, h0):
    """(dp, the cotangent of every step's g_t, dh0) by backpropagation through time."""
    known = _last_sweep.get(g, out)
    if known is not None:
        return known
    if is_array(g, out, w_hh, h0):
        result = _bptt_arrays(g, out, w_hh, h0)
        _last_sweep.put(g, out, result)
        return result
    steps = shape_of(p)[0]
    w_t = transpose(w_hh)
    dps, dgs = [None] * steps, [None] * steps
    dh = None
    for t in range(steps - 1, -1, -1):
        r, z, cand, hn = out[t, R], out[t, Z], out[t, NN], out[t, HN]
        h_prev = h0 if t == 0 else out[t - 1, HS]
        gh = g[t, HS] if dh is None else g[t, HS] + dh
        dan = (gh * (1.0 - z) + g[t, NN]) * (1.0 - cand * cand)
        dz = gh * (h_prev - cand) + g[t, Z]
        dar = (dan * hn + g[t, R]) * r * (1.0 - r)
        daz = dz * z * (1.0 - z)
        dps[t] = concatenate([dar, daz, dan], axis=0)
        dgs[t] = concatenate([dar, daz, dan * r + g[t, HN]], axis=0)
        dh = gh * z + matmul(w_t, dgs[t])
    result = (stack(dps, 0), stack(dgs, 0), dh)
    _last_sweep.put(g, out, result)
    return result


def _vjp_w_hh(g, out, p, w_hh, b_hh, h0):
    dgh = _backward(g, out, p, w_hh, b_hh, h0)[1]
    return step_products(dgh, out[:, HS], h0)


def _vjp_b_hh(g, out, p, w_hh, b_hh, h0):
    dgh = _backward(g, out, p, w_hh, b_hh, h0)[1]
    if is_array(dgh):
        return dgh.sum(axis=0).sum(axis=-1)  # one axis at a time: the faster order
    return _sum(dgh, axis=(0, 2))


gru_sequence_p = Primitive("gru_sequence", _gru_sequence_impl)
gru_sequence_p.defvjp(
    lambda g, out, p, w_hh, b_hh, h0: _backward(g, out, p, w_hh, b_hh, h0)[0],
    _vjp_w_hh,
    _vjp_b_hh,
    lambda g, out, p, w_hh, b_hh, h0: _backward(g, out, p, w_hh, b_hh, h0)[2])


def _tangent(out, p, w_hh, b_hh, h0, dp=None, dw=None, db=None, dh=None):
    """The output's tangent from the tangent of one argument, carried through time."""
    n, batch = shape_of(h0)
    zero = xp.zeros((3 * n, batch), dtype=dtype_of(out))
    steps = []
    for t in range(shape_of(p)[0]):
        r, z, cand, hn = out[t, R], out[t, Z], out[t, NN], out[t, HN]
        h_prev = h0 if t == 0 else out[t - 1, HS]
        dg = zero if db is None else zero + expand_dims(db, 1)
        if dh is not None:
            dg = dg + matmul(w_hh, dh)
        if dw is not None:
            dg = dg + matmul(dw, h_prev)
        da = dg if dp is None else dg + concatenate([dp[t][:2 * n], zero[2 * n:]], axis=0)
        dr = da[:n] * r * (1.0 - r)
        dz = da[n:2 * n] * z * (1.0 - z)
        dhn = dg[2 * n:]
        dan = dr * hn + r * dhn
        if dp is not None:
            dan = dan + dp[t][2 * n:]
        dn = dan * (1.0 - cand * cand)
        new = dn * (1.0 - z) + dz * (h_prev - cand)
        if dh is not None:
            new = new + z * dh
        steps.append(stack([new, dr, dz, dn, dhn], 0))
        dh = new
    return stack(steps, 0)


gru_sequence_p.defjvp(
    lambda dp, out, p, w_hh, b_hh, h0: _tangent(out, p, w_hh, b_hh, h0, dp=dp),
    lambda dw, out, p, w_hh, b_hh, h0: _tangent(out, p, w_hh, b_hh, h0, dw=dw),
    lambda db, out, p, w_hh, b_hh, h0: _tangent(out, p, w_hh, b_hh, h0, db=db),
    lambda dh, out, p, w_hh, b_hh, h0: _tangent(out, p, w_hh, b_hh, h0, dh=dh))


def gru_sequence(p, w_hh, b_hh, h0):
    """A GRU run over a sequence, the batch along the last axis: the slabs (h, r, z, n,
    g_n) at every step, shape (L, 5, H, N), from the input projections ``p`` (L, 3H, N:
    w_ih x_t + b_ih, gate blocks in PyTorch's order r, z, n), the recurrent weight
    ``w_hh`` (3H, H), its bias ``b_hh`` (3H,) and the initial state ``h0`` (H, N).

    >>> import numpy as np
    >>> out = gru_sequence(np.zeros((3, 3, 1)), np.zeros((3, 1)), np.zeros(3), np.ones((1, 1)))
    >>> out.shape, out[:, 0, 0, 0].tolist()   # z = 1/2, n = 0: h halves each step
    ((3, 5, 1, 1), [0.5, 0.25, 0.125])
    """
    ps, ws, bs, hs = (tuple(shape_of(v)) for v in (p, w_hh, b_hh, h0))
    if len(hs) != 2 or ws != (3 * hs[0], hs[0]) or bs != (3 * hs[0],) or len(ps) != 3 \
            or ps[1:] != (3 * hs[0], hs[1]):
        raise ValueError(f"gru_sequence: expected p (L, 3H, N), w_hh (3H, H), b_hh (3H,) and "
                         f"h0 (H, N); got {ps}, {ws}, {bs}, {hs}")
    return gru_sequence_p(p, w_hh, b_hh, h0)
