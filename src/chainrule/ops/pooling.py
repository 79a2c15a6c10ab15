"""Pooling: max and average over windows, channels first: ``(N, C, *spatial)``.

Two linear primitives carry every derivative: ``windows(x)`` gathers each
window, shape (N, *kernel, C, *out) (im2col), and
``windows_adjoint(g)`` adds each window's cotangent back in place (col2im).
Each is the other's rule. Max pooling is ``max`` over the window axes and
average pooling ``mean`` (or a sum over a count), so both inherit the
reductions' rules: tied maxima share the cotangent evenly (the minimum-norm
subgradient, as for ``cr.max``; PyTorch gives it all to the first, as does
``cr.subgradient_policy("pytorch")``). Under ``cr.kinks()`` max pooling reports
its tied windows in the input's coordinates (TABLE entry ``max_pool``).
"""

from __future__ import annotations

import itertools

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.conv import _batched, _ints, _out_size, _padded, _window_view
from chainrule.ops.reductions import max_p, mean, sum
from chainrule.ops.shape import squeeze
from chainrule.subgradients import concrete, watch
from chainrule.subgradients.detectors import Hits, ties_in_windows

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
]

# ----- windows: (N, C, *spatial) -> (N, *kernel, C, *out), padded with ``fill`` -----

def _offsets(kernel, stride, dilation, out):
    """(kernel offset, the slices of the padded input that offset reads) for each offset."""
    for offset in itertools.product(*(range(k) for k in kernel)):
        yield offset, tuple(slice(i * d, i * d + s * (m - 1) + 1, s)
                            for i, d, s, m in zip(offset, dilation, stride, out))


def _windows_impl(x, kernel, stride, padding, dilation, fill):
    """(N, *kernel, C, *out), contiguous: images first (as every image-wise operation
    has them), then the kernel axes, so that reducing over those is an elementwise pass
    over whole slabs (NumPy reduces the small trailing axes of a strided window view
    some 30x slower). Filled offset by offset, not pixel by pixel."""
    x = xp.asarray(x)
    out = _out_size(x.shape[2:], kernel, stride, padding, dilation)
    xpad = _padded(x, padding, fill)
    win = xp.empty((x.shape[0], *kernel, x.shape[1], *out), dtype=x.dtype)
    keep = (slice(None),) * 2
    for offset, region in _offsets(kernel, stride, dilation, out):
        win[(slice(None), *offset)] = xpad[keep + region]
    return win


def _windows_adjoint_impl(g, shape, kernel, stride, padding, dilation):
    """Each window's cotangent added back where the window was read from."""
    g = xp.asarray(g)
    out = g.shape[2 + len(kernel):]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(shape[2:], padding))
    image = xp.zeros((*shape[:2], *padded), dtype=g.dtype)
    keep = (slice(None),) * 2
    for offset, region in _offsets(kernel, stride, dilation, out):
        image[keep + region] += g[(slice(None), *offset)]
    if padded == tuple(shape[2:]):
        return image
    crop = tuple(slice(lo, lo + s) for (lo, _), s in zip(padding, shape[2:]))
    return xp.ascontiguousarray(image[keep + crop])


windows_p = Primitive("windows", _windows_impl)
windows_p.defvjp(lambda g, out, x, fill, **p: windows_adjoint_p(g, shape=shape_of(x), **p))
windows_p.defjvp(lambda dx, out, x, fill, **p: windows_p(dx, fill=0.0, **p))

windows_adjoint_p = Primitive("windows_adjoint", _windows_adjoint_impl)
windows_adjoint_p.defvjp(lambda h, out, g, shape, **p: windows_p(h, fill=0.0, **p))
windows_adjoint_p.defjvp(lambda dg, out, g, shape, **p: windows_adjoint_p(dg, shape=shape, **p))



def _pool_geometry(name, nd, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Checked kernel, stride, dilation, the (low, high) padding and the output size.

    With ``ceil_mode`` a last, partial window may start inside the input or its
    left padding (PyTorch's rule); the high padding grows to hold it.
    """
    kernel = _ints(name, "kernel_size", kernel_size, nd, 1)
    stride = kernel if stride is None or stride == [] else _ints(name, "stride", stride, nd, 1)
    dilation = _ints(name, "dilation", dilation, nd, 1)
    pads = _ints(name, "padding", padding, nd, 0)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{name}: padding {pads} must be at most half the kernel size {kernel}")
    size = shape_of(x)[2:]
    out, high = [], []
    for n, k, s, p, d in zip(size, kernel, stride, pads, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        if span < 0:
            raise ValueError(f"{name}: kernel {kernel} with dilation {dilation} does not fit "
                             f"in the padded input of spatial size {size}")
        m = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (m - 1) * s >= n + p:
            m -= 1
        out.append(m)
        high.append(p + max(0, (m - 1) * s + d * (k - 1) + 1 - (n + 2 * p)))
    return kernel, stride, dilation, tuple(zip(pads, high)), tuple(out)


def _kernel_axes(nd):
    return tuple(range(1, nd + 1))


def _max_pool(name, nd, x, kernel_size, stride, padding, dilation, ceil_mode):
    x, added = _batched(name, x, nd)
    kernel, stride, dilation, pads, _ = _pool_geometry(name, nd, x, kernel_size, stride,
                                                       padding, dilation, ceil_mode)
    win = windows_p(x, kernel=kernel, stride=stride, padding=pads, dilation=dilation,
                    fill=-xp.inf)
    out = max_p(win, axis=_kernel_axes(nd), keepdims=False, ties="max_pool")
    if watch.active:
        watch.record(name, "max_pool", lambda tol: _pool_ties(win, out, nd, stride, dilation,
                                                               pads, added, tol))
    return squeeze(out, 0) if added else out


def _pool_ties(win, out, nd, stride, dilation, pads, added, tol) -> Hits | None:
    """Windows with tied maxima, named by output index and the input pixels that tie."""
    win, out = concrete(win), concrete(out)
    if win is None or out is None:
        return None  # a symbolic value: no numbers to look at

    def pixel(w):  # an index of the windows (n, *offset, c, *position) -> of the input
        n, offset, c, where = w[0], w[1:1 + nd], w[1 + nd], w[2 + nd:]
        return (n, c, *(o * s + k * d - lo for o, k, s, d, (lo, _) in
                        zip(where, offset, stride, dilation, pads)))

    shares = max_p.vjps[0](xp.ones_like(out), out, win, axis=_kernel_axes(nd),
                           keepdims=False, ties="max_pool")
    return ties_in_windows(win, out, _kernel_axes(nd), tol, shares, pixel, drop_batch=added)


def _avg_pool(name, nd, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x, added = _batched(name, x, nd)
    kernel, stride, dilation, pads, out = _pool_geometry(name, nd, x, kernel_size, stride,
                                                         padding, 1, ceil_mode)
    win = windows_p(x, kernel=kernel, stride=stride, padding=pads, dilation=dilation,
                    fill=0.0)
    axes = _kernel_axes(nd)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int) \
                or divisor_override < 1:
            raise ValueError(f"{name}: divisor_override must be a positive int, "
                             f"got {divisor_override!r}")
        y = sum(win, axis=axes) / float(divisor_override)
    elif count_include_pad and all(lo == hi for lo, hi in pads):
        y = mean(win, axis=axes)  # every window holds prod(kernel) cells, padding included
    else:
        counts = _window_counts(shape_of(x)[2:], kernel, stride, pads, out, count_include_pad)
        y = sum(win, axis=axes) / counts.astype(dtype_of(x))
    return squeeze(y, 0) if added else y


def _window_counts(size, kernel, stride, pads, out, count_include_pad):
    """How many cells each window averages: the input's, plus the symmetric padding's
    if ``count_include_pad``; never the extra cells a ceil_mode window hangs over."""
    grid = xp.zeros((1, 1, *(n + lo + hi for n, (lo, hi) in zip(size, pads))))
    inner = tuple(slice(0 if count_include_pad else lo, lo + n + (lo if count_include_pad else 0))
                  for n, (lo, _) in zip(size, pads))
    grid[(0, 0, *inner)] = 1.0
    view = _window_view(grid, kernel, stride, (1,) * len(size), out)
    return view.sum(axis=tuple(range(-len(size), 0)))[0, 0]


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The maximum of each window along the last axis of (N, C, L) or (C, L), as
    ``torch.nn.functional.max_pool1d``; ``stride`` defaults to ``kernel_size``.

    >>> import numpy as np, chainrule as cr
    >>> cr.max_pool1d(np.array([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    array([[[3., 2.]]])
    """
    return _max_pool("max_pool1d", 1, x, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The maximum of each window of (N, C, H, W) or (C, H, W), as
    ``torch.nn.functional.max_pool2d``: padding is -inf, ``stride`` defaults to
    ``kernel_size``. Tied maxima share the cotangent evenly.

    >>> import numpy as np, chainrule as cr
    >>> cr.max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """
    return _max_pool("max_pool2d", 2, x, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """The mean of each window along the last axis, as ``torch.nn.functional.avg_pool1d``.

    >>> import numpy as np, chainrule as cr
    >>> cr.avg_pool1d(np.array([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    array([[[2., 1.]]])
    """
    return _avg_pool("avg_pool1d", 1, x, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """The mean of each window of (N, C, H, W) or (C, H, W), as
    ``torch.nn.functional.avg_pool2d``: zero padding counts towards the mean unless
    ``count_include_pad=False``; ``divisor_override`` replaces the count.

    >>> import numpy as np, chainrule as cr
    >>> cr.avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """
    return _avg_pool("avg_pool2d", 2, x, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)
