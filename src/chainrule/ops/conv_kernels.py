"""NumPy kernels of the three convolution primitives, channels first ``(N, C, *spatial)``.

im2col is a loop over the kernel's taps (9 for 3x3), each one strided slice
copy of the whole padded batch; the contraction is one batched matmul. The
input gradient is one matmul and a shifted add per tap (col2im). Nothing
loops over pixels or channels.

Layouts were chosen by measurement (benchmarks/bench_nn.py, one thread):
batch first for wide images; for narrow ones (output rows shorter than
``_WIDE``) the batch goes last, so that each tap's copy or add runs over rows
of out_width * N numbers instead of out_width, and each contraction is one
matmul.
"""

from __future__ import annotations

import itertools
import math

from chainrule.backend import xp
from chainrule.ops.conv_flat import flat_filter_grad, flat_forward, flat_input_grad

__all__ = ["conv_forward", "conv_filter_grad", "conv_input_grad", "layout", "out_size", "pad"]

_WIDE = 16  # output rows at least this long: col2im batch first


def out_size(size, kernel, stride, padding, dilation):
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), d in zip(size, kernel, stride, padding, dilation))


def _inside(padding, size):
    return tuple(slice(lo, lo + s) for (lo, _), s in zip(padding, size))


def pad(x, padding, fill=0.0):
    """``x`` (N, C, *size) padded by ``padding`` ((lo, hi) per spatial axis) with ``fill``."""
    if not any(lo or hi for lo, hi in padding):
        return x
    shape = (*x.shape[:2], *(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding)))
    out = xp.full(shape, fill, dtype=x.dtype)
    out[(slice(None), slice(None), *_inside(padding, x.shape[2:]))] = x
    return out


def _taps(kernel, stride, dilation, out):
    """Per kernel tap, the slices of the padded image that its products read."""
    return [tuple(slice(i * d, i * d + s * (m - 1) + 1, s)
                  for i, d, s, m in zip(tap, dilation, stride, out))
            for tap in itertools.product(*(range(k) for k in kernel))]


def _columns(x, kernel, stride, padding, dilation, groups, out):
    """im2col: (N, G, K * C/G, prod(out)), rows in (tap, channel) order."""
    n, c = x.shape[:2]
    image = pad(x, padding)
    image = image.reshape(n, groups, c // groups, *image.shape[2:])
    taps = _taps(kernel, stride, dilation, out)
    cols = xp.empty((n, groups, len(taps), c // groups, *out), dtype=x.dtype)
    every = (slice(None),) * 3
    for k, region in enumerate(taps):  # kernel taps, not pixels
        cols[:, :, k] = image[every + region]
    return cols.reshape(n, groups, -1, math.prod(out))


def _columns_batch_last(x, kernel, stride, padding, dilation, groups, out):
    """im2col for narrow images: (G, K * C/G, prod(out) * N), the batch last."""
    n, c = x.shape[:2]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding))
    image = xp.zeros((c, *padded, n), dtype=x.dtype)
    image[(slice(None), *_inside(padding, x.shape[2:]))] = xp.moveaxis(x, 0, -1)
    image = image.reshape(groups, c // groups, *padded, n)
    taps = _taps(kernel, stride, dilation, out)
    cols = xp.empty((groups, len(taps), c // groups, *out, n), dtype=x.dtype)
    for k, region in enumerate(taps):  # kernel taps, not pixels
        cols[:, k] = image[(slice(None),) * 2 + region]
    return cols.reshape(groups, -1, math.prod(out) * n)


def _narrow(out):
    return out[-1] < _WIDE


def layout(stride, out):
    """The kernels for a geometry: ``"flat"`` (stride 1, wide output rows: conv_flat.py),
    ``"batch_first"`` (wide rows) or ``"batch_last"`` (narrow rows). Tests replace this
    function to run every layout on the same cases."""
    if _narrow(out):
        return "batch_last"
    return "flat" if all(s == 1 for s in stride) else "batch_first"


def _taps_last(w, groups):
    """Weights (O, C/G, *kernel) as (G, O/G, K * C/G), matching the columns' rows."""
    o, cg = w.shape[:2]
    return w.reshape(groups, o // groups, cg, -1).transpose(0, 1, 3, 2).reshape(
        groups, o // groups, -1)


def _matmul(a, b, groups):
    """(G, m, k) @ (N, G, k, p): with one group, 2-D @ 3-D (NumPy's direct BLAS path)."""
    if groups == 1:
        return xp.matmul(a[0], b[:, 0])[:, None]
    return xp.matmul(a, b)


def _grouped(a, b):
    """(G, m, k) @ (G, k, p), a 2-D product when there is one group."""
    if a.shape[0] == 1:
        return xp.matmul(a[0], b[0])[None]
    return xp.matmul(a, b)


def conv_forward(x, w, stride, padding, dilation, groups, bias=None):
    """out[n, o, p] = sum over c, k of x_padded[n, c, p * stride + k * dilation] w[o, c, k]
    (+ bias[o])."""
    out = out_size(x.shape[2:], w.shape[2:], stride, padding, dilation)
    kind = layout(stride, out)
    if kind == "flat":
        return flat_forward(x, w, padding, dilation, groups, bias)
    if kind == "batch_last":
        cols = _columns_batch_last(x, w.shape[2:], stride, padding, dilation, groups, out)
        y = _grouped(_taps_last(w, groups), cols)  # (G, O/G, P * N)
        y = xp.ascontiguousarray(xp.moveaxis(y.reshape(w.shape[0], *out, x.shape[0]), -1, 0))
    else:
        cols = _columns(x, w.shape[2:], stride, padding, dilation, groups, out)
        y = _matmul(_taps_last(w, groups), cols, groups)  # (N, G, O/G, P)
        y = y.reshape(x.shape[0], w.shape[0], *out)
    if bias is None:
        return y
    bias = bias.reshape((1, -1) + (1,) * len(out))
    if y.dtype == xp.result_type(y, bias):
        y += bias  # y is this call's own new array
        return y
    return y + bias


def conv_filter_grad(x, g, shape, stride, padding, dilation, groups):
    """The adjoint in w: sum over n, p of g[n, o, p] times the columns of x."""
    n, o = g.shape[:2]
    kind = layout(stride, g.shape[2:])
    if kind == "flat":
        return flat_filter_grad(x, g, shape, padding, dilation, groups)
    if kind == "batch_last":
        cols = _columns_batch_last(x, shape[2:], stride, padding, dilation, groups, g.shape[2:])
        gm = xp.ascontiguousarray(xp.moveaxis(g, 0, -1)).reshape(groups, o // groups, -1)
        dw = _grouped(gm, cols.swapaxes(-1, -2))  # (G, O/G, K * C/G)
    else:
        cols = _columns(x, shape[2:], stride, padding, dilation, groups, g.shape[2:])
        gm = g.reshape(n, groups, o // groups, -1)
        dw = xp.matmul(gm, cols.swapaxes(-1, -2)).sum(axis=0)
    return dw.reshape(groups, o // groups, -1, shape[1]).transpose(0, 1, 3, 2).reshape(shape)


def conv_input_grad(g, w, shape, stride, padding, dilation, groups):
    """The adjoint in x (col2im): each tap's products added back where they were read."""
    n, o, *out = g.shape
    kind = layout(stride, out)
    if kind == "flat":
        return flat_input_grad(g, w, shape, padding, dilation, groups)
    cg, kernel = w.shape[1], w.shape[2:]
    size = shape[2:]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, padding))
    taps = _taps(kernel, stride, dilation, out)
    weights = _taps_last(w, groups).transpose(0, 2, 1)  # (G, K * C/G, O/G)
    dtype = xp.result_type(g, w)
    if kind == "batch_first":
        cols = _matmul(weights, g.reshape(n, groups, o // groups, -1), groups)
        cols = cols.reshape(n, groups, len(taps), cg, *out)
        image = xp.zeros((n, groups, cg, *padded), dtype=dtype)
        for k, region in enumerate(taps):
            image[(slice(None),) * 3 + region] += cols[:, :, k]
        image = image.reshape(shape[0], shape[1], *padded)
    else:  # batch last: one matmul, and each tap's add runs over rows of out_width * N
        gt = xp.ascontiguousarray(xp.moveaxis(g, 0, -1)).reshape(groups, o // groups, -1)
        cols = xp.matmul(weights, gt).reshape(groups, len(taps), cg, *out, n)
        image = xp.zeros((groups, cg, *padded, n), dtype=dtype)
        for k, region in enumerate(taps):
            image[(slice(None),) * 2 + region] += cols[:, k]
        image = xp.moveaxis(image.reshape(shape[1], *padded, n), -1, 0)
    if padded != tuple(size) or not image.flags.c_contiguous:
        image = xp.ascontiguousarray(image[(slice(None),) * 2 + _inside(padding, size)])
    return image
