"""The GRU recurrence over a whole sequence as one primitive, as ``lstm_sequence`` is for
the LSTM. ``gru_sequence(p, w_hh, b_hh, h0)`` runs PyTorch's equations::

    g_t = h_{t-1} w_hh^T + b_hh                 (p_t: the input's projection x_t w_ih^T + b_ih)
    r = sigmoid(p_r + g_r),  z = sigmoid(p_z + g_z),  n = tanh(p_n + r g_n)
    h_t = (1 - z) n + z h_{t-1}

and returns five slabs over time, shape (5, L, N, H): ``h, r, z, n, g_n`` (the
activations are outputs so that the rules need not recompute them). The
reverse rule is backpropagation through time, ending in one matrix product
for ``w_hh`` over all steps; the forward rule carries the tangent along.
Both are written with chainrule operations, so they are differentiable
again; first-order reverse mode on plain arrays takes an in-place NumPy path.
"""

from __future__ import annotations

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.linalg import matmul, tensordot_p
from chainrule.ops.recurrent_sweep import LastSweep, is_array, stack
from chainrule.ops.reductions import sum as _sum
from chainrule.ops.shape import concatenate, expand_dims, transpose

__all__ = ["gru_sequence"]

HS, R, Z, NN, HN = range(5)  # the slabs of the output


def _gru_sequence_impl(p, w_hh, b_hh, h0):
    p, w_hh, b_hh, h0 = (xp.asarray(v) for v in (p, w_hh, b_hh, h0))
    n = h0.shape[-1]
    dtype = xp.result_type(p, w_hh, b_hh, h0)
    out = xp.empty((5, p.shape[0], *h0.shape), dtype=dtype)
    w_t = xp.ascontiguousarray(w_hh.T, dtype=dtype)
    a = xp.empty((h0.shape[0], 3 * n), dtype=dtype)
    s = xp.empty((h0.shape[0], 2 * n), dtype=dtype)
    h = h0
    for t in range(p.shape[0]):
        xp.matmul(h, w_t, out=a)
        a += b_hh
        xp.add(p[t, :, :2 * n], a[:, :2 * n], out=s)
        s *= 0.5  # sigmoid(x) = (1 + tanh(x / 2)) / 2, as for the LSTM
        xp.tanh(s, out=s)
        s *= 0.5
        s += 0.5
        r, z, cand, hn, hs = out[R, t], out[Z, t], out[NN, t], out[HN, t], out[HS, t]
        r[...], z[...], hn[...] = s[:, :n], s[:, n:], a[:, 2 * n:]
        xp.multiply(r, hn, out=cand)
        cand += p[t, :, 2 * n:]
        xp.tanh(cand, out=cand)
        xp.subtract(h, cand, out=hs)  # h' = n + z (h - n)
        hs *= z
        hs += cand
        h = hs
    return out


_last_sweep = LastSweep()


def _bptt_arrays(g, out, w_hh, h0):
    """``_backward`` on plain arrays: in-place per-step operations, one product each."""
    steps, batch, n = out.shape[1:]
    dtype = xp.result_type(g, out)
    dp = xp.empty((steps, batch, 3, n), dtype=dtype)
    dgh = xp.empty((steps, batch, 3, n), dtype=dtype)
    gh, dn, tmp = (xp.empty((batch, n), dtype=dtype) for _ in range(3))
    w = xp.ascontiguousarray(w_hh, dtype=dtype)
    direct = bool(g[R:].any())  # usually only h has a cotangent
    for t in range(steps - 1, -1, -1):
        r, z, cand, hn = out[R, t], out[Z, t], out[NN, t], out[HN, t]
        h_prev = h0 if t == 0 else out[HS, t - 1]
        if t == steps - 1:
            gh[...] = g[HS, t]
        else:
            xp.matmul(dgh[t + 1].reshape(batch, 3 * n), w, out=tmp)
            xp.multiply(gh, out[Z, t + 1], out=gh)
            gh += tmp
            gh += g[HS, t]
        d, e = dp[t], dgh[t]
        xp.subtract(1.0, z, out=dn)  # dn = gh (1 - z)
        dn *= gh
        xp.subtract(h_prev, cand, out=d[:, 1])  # dz = gh (h - n)
        d[:, 1] *= gh
        if direct:
            dn += g[NN, t]
            d[:, 1] += g[Z, t]
        xp.multiply(cand, cand, out=tmp)  # da_n = dn (1 - n^2)
        xp.subtract(1.0, tmp, out=tmp)
        xp.multiply(dn, tmp, out=d[:, 2])
        xp.multiply(d[:, 2], hn, out=d[:, 0])  # dr = da_n g_n
        xp.multiply(d[:, 2], r, out=e[:, 2])  # dg_n = da_n r
        if direct:
            d[:, 0] += g[R, t]
            e[:, 2] += g[HN, t]
        for k, act in ((0, r), (1, z)):  # through the sigmoids
            xp.subtract(1.0, act, out=tmp)
            tmp *= act
            d[:, k] *= tmp
        e[:, :2] = d[:, :2]
    dgh = dgh.reshape(steps, batch, 3 * n)
    dh0 = dgh[0] @ w
    dh0 += gh * out[Z, 0]
    return dp.reshape(steps, batch, 3 * n), dgh, dh0


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
    dps, dgs = [None] * steps, [None] * steps
    dh = None
    for t in range(steps - 1, -1, -1):
        r, z, cand, hn = out[R, t], out[Z, t], out[NN, t], out[HN, t]
        h_prev = h0 if t == 0 else out[HS, t - 1]
        gh = g[HS, t] if dh is None else g[HS, t] + dh
        dan = (gh * (1.0 - z) + g[NN, t]) * (1.0 - cand * cand)
        dz = gh * (h_prev - cand) + g[Z, t]
        dar = (dan * hn + g[R, t]) * r * (1.0 - r)
        daz = dz * z * (1.0 - z)
        dps[t] = concatenate([dar, daz, dan], axis=-1)
        dgs[t] = concatenate([dar, daz, dan * r + g[HN, t]], axis=-1)
        dh = gh * z + matmul(dgs[t], w_hh)
    result = (stack(dps, 0), stack(dgs, 0), dh)
    _last_sweep.put(g, out, result)
    return result


def _h_prev(out, h0):
    steps = shape_of(out)[1]
    if is_array(out, h0):
        return xp.concatenate([h0[None], out[HS, :steps - 1]], axis=0)
    return concatenate([expand_dims(h0, 0), out[HS, :steps - 1]], axis=0)


def _vjp_w_hh(g, out, p, w_hh, b_hh, h0):
    dgh = _backward(g, out, p, w_hh, b_hh, h0)[1]
    h_prev = _h_prev(out, h0)
    if is_array(dgh, h_prev):  # one product over every step
        return dgh.reshape(-1, dgh.shape[-1]).T @ h_prev.reshape(-1, h_prev.shape[-1])
    return tensordot_p(dgh, h_prev, axes=((0, 1), (0, 1)))


gru_sequence_p = Primitive("gru_sequence", _gru_sequence_impl)
gru_sequence_p.defvjp(
    lambda g, out, p, w_hh, b_hh, h0: _backward(g, out, p, w_hh, b_hh, h0)[0],
    _vjp_w_hh,
    lambda g, out, p, w_hh, b_hh, h0: _sum(_backward(g, out, p, w_hh, b_hh, h0)[1],
                                           axis=(0, 1)),
    lambda g, out, p, w_hh, b_hh, h0: _backward(g, out, p, w_hh, b_hh, h0)[2])


def _tangent(out, p, w_hh, b_hh, h0, dp=None, dw=None, db=None, dh=None):
    """The output's tangent from the tangent of one argument, carried through time."""
    n = shape_of(h0)[-1]
    zero = xp.zeros((shape_of(h0)[0], 3 * n), dtype=dtype_of(out))
    steps = []
    for t in range(shape_of(p)[0]):
        r, z, cand, hn = out[R, t], out[Z, t], out[NN, t], out[HN, t]
        h_prev = h0 if t == 0 else out[HS, t - 1]
        dg = zero if db is None else zero + db
        if dh is not None:
            dg = dg + matmul(dh, transpose(w_hh))
        if dw is not None:
            dg = dg + matmul(h_prev, transpose(dw))
        da = dg if dp is None else dg + concatenate([dp[t][..., :2 * n], zero[..., 2 * n:]],
                                                    axis=-1)
        dr = da[..., :n] * r * (1.0 - r)
        dz = da[..., n:2 * n] * z * (1.0 - z)
        dhn = dg[..., 2 * n:]
        dan = dr * hn + r * dhn
        if dp is not None:
            dan = dan + dp[t][..., 2 * n:]
        dn = dan * (1.0 - cand * cand)
        new = dn * (1.0 - z) + dz * (h_prev - cand)
        if dh is not None:
            new = new + z * dh
        steps.append(stack([new, dr, dz, dn, dhn], 0))
        dh = new
    return stack(steps, 1)


gru_sequence_p.defjvp(
    lambda dp, out, p, w_hh, b_hh, h0: _tangent(out, p, w_hh, b_hh, h0, dp=dp),
    lambda dw, out, p, w_hh, b_hh, h0: _tangent(out, p, w_hh, b_hh, h0, dw=dw),
    lambda db, out, p, w_hh, b_hh, h0: _tangent(out, p, w_hh, b_hh, h0, db=db),
    lambda dh, out, p, w_hh, b_hh, h0: _tangent(out, p, w_hh, b_hh, h0, dh=dh))


def gru_sequence(p, w_hh, b_hh, h0):
    """A GRU run over a sequence: the slabs (h, r, z, n, g_n) at every step, shape
    (5, L, N, H), from the input projections ``p`` (L, N, 3H: x_t w_ih^T + b_ih, gates
    in PyTorch's order r, z, n), the recurrent weight ``w_hh`` (3H, H), its bias
    ``b_hh`` (3H,) and the initial state ``h0`` (N, H).

    >>> import numpy as np
    >>> out = gru_sequence(np.zeros((3, 1, 3)), np.zeros((3, 1)), np.zeros(3), np.ones((1, 1)))
    >>> out.shape, out[0, :, 0, 0].tolist()   # z = 1/2, n = 0: h halves each step
    ((5, 3, 1, 1), [0.5, 0.25, 0.125])
    """
    ps, ws, bs, hs = (tuple(shape_of(v)) for v in (p, w_hh, b_hh, h0))
    if len(hs) != 2 or ws != (3 * hs[1], hs[1]) or bs != (3 * hs[1],) or len(ps) != 3 \
            or ps[1:] != (hs[0], 3 * hs[1]):
        raise ValueError(f"gru_sequence: expected p (L, N, 3H), w_hh (3H, H), b_hh (3H,) and "
                         f"h0 (N, H); got {ps}, {ws}, {bs}, {hs}")
    return gru_sequence_p(p, w_hh, b_hh, h0)
