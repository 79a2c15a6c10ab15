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
are differentiable again; ``tests/ops/specs_recurrent.py`` checks them
against the same recurrence written step by step in PyTorch.
"""

from __future__ import annotations

import weakref

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.linalg import matmul, tensordot_p
from chainrule.ops.shape import concatenate, expand_dims, transpose

__all__ = ["lstm_sequence"]

H, C, TC, I, F, G, O = range(7)  # the slabs of the output


def _lstm_sequence_impl(p, w_hh, h0, c0):
    p, w_hh, h0, c0 = (xp.asarray(v) for v in (p, w_hh, h0, c0))
    n = h0.shape[-1]
    out = xp.empty((7, p.shape[0], *h0.shape), dtype=xp.result_type(p, w_hh, h0, c0))
    w_t = w_hh.T
    h, c = h0, c0
    for t in range(p.shape[0]):
        a = p[t] + h @ w_t
        # sigmoid(x) = (1 + tanh(x / 2)) / 2: four passes over the gates instead of seven,
        # exact to rounding in absolute terms, which is what a gate's product needs
        s = xp.multiply(a, 0.5)
        xp.tanh(s, out=s)
        s *= 0.5
        s += 0.5
        out[I, t], out[F, t], out[O, t] = s[..., :n], s[..., n:2 * n], s[..., 3 * n:]
        xp.tanh(a[..., 2 * n:3 * n], out=out[G, t])
        xp.multiply(out[F, t], c, out=out[C, t])
        out[C, t] += out[I, t] * out[G, t]
        xp.tanh(out[C, t], out=out[TC, t])
        xp.multiply(out[O, t], out[TC, t], out=out[H, t])
        h, c = out[H, t], out[C, t]
    return out


class _LastSweep:
    """The four reverse rules share one sweep back through time; the engine asks for
    them one after another with the same cotangent and output, so the last sweep is
    kept, keyed by weak references to those two: once the engine drops the cotangent,
    the sweep's arrays go too."""

    __slots__ = ("keys", "result")

    def __init__(self) -> None:
        self.keys: tuple = ()
        self.result = None

    def get(self, g, out):
        if self.keys and self.keys[0]() is g and self.keys[1]() is out:
            return self.result
        return None

    def put(self, g, out, result) -> None:
        try:
            keys = (weakref.ref(g), weakref.ref(out))
        except TypeError:  # a traced value without weak references: recompute instead
            return
        self.keys, self.result = keys, result
        weakref.finalize(g, self._forget, keys)

    def _forget(self, keys) -> None:
        if self.keys is keys:
            self.keys, self.result = (), None


_last_sweep = _LastSweep()


def _stack(values, axis):
    return concatenate([expand_dims(v, axis) for v in values], axis=axis)


def _backward(g, out, p, w_hh, h0, c0):
    """(dp, dh0, dc0) by backpropagation through time."""
    known = _last_sweep.get(g, out)
    if known is not None:
        return known
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
    result = (_stack(das, 0), dh, dc)
    _last_sweep.put(g, out, result)
    return result


def _vjp_w_hh(g, out, p, w_hh, h0, c0):
    dp = _backward(g, out, p, w_hh, h0, c0)[0]
    steps = shape_of(p)[0]
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
        steps.append(_stack([dh, dct, dtc, di, df, dg, do], 0))
    return _stack(steps, 1)


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
