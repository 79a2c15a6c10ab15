"""The LSTM cell update as one primitive, for speed.

An LSTM step written as a composite records about fifteen operations, most
of them small elementwise ones, and its backward pass builds a zero array
the size of all four gates for each of the four gate slices. Fused, a step
is two matmuls, two adds and this primitive: ``lstm_cell(a, c)`` takes the
gates' pre-activations ``a`` (..., 4H) in PyTorch's order i, f, g, o and the
cell state ``c`` (..., H), and returns seven slabs stacked on a new leading
axis::

    h', c', tanh(c'), i, f, g, o      with  c' = f c + i g,  h' = o tanh(c')

The activations are outputs so that the rules, which see the output, need
not recompute them (HIPS autograd's staged VJP, within a single-output
primitive). The rules are written with chainrule operations, so higher
derivatives work; ``chainrule.nn.recurrent`` keeps the composite step as
the test oracle.
"""

from __future__ import annotations

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.shape import concatenate, expand_dims

__all__: list[str] = []

H, C, TC, I, F, G, O = range(7)  # the slabs of the output


def _lstm_cell_impl(a, c):
    a, c = xp.asarray(a), xp.asarray(c)
    n = c.shape[-1]
    out = xp.empty((7, *xp.broadcast_shapes(a.shape[:-1] + (n,), c.shape)),
                   dtype=xp.result_type(a, c))
    # sigmoid(x) = (1 + tanh(x / 2)) / 2: four passes over the gates instead of seven;
    # exact to rounding in absolute terms, which is what a gate's product needs
    s = xp.multiply(a, 0.5)
    xp.tanh(s, out=s)
    s *= 0.5
    s += 0.5
    out[I], out[F], out[O] = s[..., :n], s[..., n:2 * n], s[..., 3 * n:]
    xp.tanh(a[..., 2 * n:3 * n], out=out[G])
    xp.multiply(out[F], c, out=out[C])
    out[C] += out[I] * out[G]
    xp.tanh(out[C], out=out[TC])
    xp.multiply(out[O], out[TC], out=out[H])
    return out


def _cotangents(g, out, c):
    """Cotangents of the new cell state and of the four activations."""
    tc, i, gg, o = out[TC], out[I], out[G], out[O]
    dtc = g[TC] + g[H] * o
    dc = g[C] + dtc * (1.0 - tc * tc)
    return dc, g[I] + dc * gg, g[F] + dc * c, g[G] + dc * i, g[O] + g[H] * tc


def _vjp_a(g, out, a, c):
    _, di, df, dg, do = _cotangents(g, out, c)
    i, f, gg, o = out[I], out[F], out[G], out[O]
    return concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - gg * gg),
                        do * o * (1.0 - o)], axis=-1)


def _vjp_c(g, out, a, c):
    return _cotangents(g, out, c)[0] * out[F]


def _stack(slabs):
    return concatenate([expand_dims(s, 0) for s in slabs], axis=0)


def _tangents_from(dc_new, di, df, dg, do, out):
    """The output tangent, given the tangents of c' and of the four activations."""
    tc = out[TC]
    dtc = dc_new * (1.0 - tc * tc)
    return _stack([do * tc + out[O] * dtc, dc_new, dtc, di, df, dg, do])


def _jvp_a(da, out, a, c):
    n = shape_of(c)[-1]
    i, f, gg, o = out[I], out[F], out[G], out[O]
    di = da[..., :n] * i * (1.0 - i)
    df = da[..., n:2 * n] * f * (1.0 - f)
    dg = da[..., 2 * n:3 * n] * (1.0 - gg * gg)
    do = da[..., 3 * n:] * o * (1.0 - o)
    return _tangents_from(df * c + di * gg + i * dg, di, df, dg, do, out)


def _jvp_c(dc, out, a, c):
    zero = xp.zeros(shape_of(out)[1:], dtype=dtype_of(dc))  # the activations do not move
    return _tangents_from(dc * out[F], zero, zero, zero, zero, out)


lstm_cell_p = Primitive("lstm_cell", _lstm_cell_impl)
lstm_cell_p.defvjp(_vjp_a, _vjp_c)
lstm_cell_p.defjvp(_jvp_a, _jvp_c)


def lstm_cell(a, c):
    """The seven slabs (h', c', tanh c', i, f, g, o) of an LSTM step from the gates'
    pre-activations ``a`` (..., 4H, order i, f, g, o) and the cell state ``c`` (..., H).

    >>> import numpy as np
    >>> out = lstm_cell(np.zeros((1, 8)), np.ones((1, 2)))
    >>> out.shape, out[1].tolist()   # c' = f c + i g = 0.5 * 1 + 0.5 * 0
    ((7, 1, 2), [[0.5, 0.5]])
    """
    sa, sc = shape_of(a), shape_of(c)
    if not sa or not sc or sa[-1] != 4 * sc[-1]:
        raise ValueError(f"lstm_cell: for a cell state of shape {sc} the pre-activations "
                         f"need 4 * H entries on their last axis, got shape {sa}")
    return lstm_cell_p(a, c)
