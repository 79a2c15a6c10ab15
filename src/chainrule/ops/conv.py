"""Convolution primitives, channels first: ``(N, C, *spatial)``.

Three bilinear primitives close under differentiation:

* ``conv(x, w)``: the cross-correlation deep learning calls convolution;
* ``conv_transpose(g, w)``: its adjoint in ``x`` (the input gradient, col2im);
* ``conv_filter(x, g)``: its adjoint in ``w`` (the filter gradient).

Each one's rules are the other two, so every derivative of a convolution,
of any order, is again one of these three. (Pooling, in ``pooling.py``,
reuses the window geometry below.)

The NumPy kernels are in ``conv_kernels.py``: loops over the kernel's taps
(9 for 3x3), each a whole-array copy or add, and one batched matmul; never a
loop over pixels or channels.
"""

from __future__ import annotations

from chainrule.backend import dtype_of, is_float_dtype, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops import reductions
from chainrule.ops.conv_kernels import (
    conv_filter_grad,
    conv_forward,
    conv_input_grad,
    out_size,
    pad,
)
from chainrule.ops.shape import broadcast_to, expand_dims, reshape, squeeze

__all__ = [
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
]

_as_strided = xp.lib.stride_tricks.as_strided
_out_size, _padded = out_size, pad  # the names pooling imports


def _window_view(xpad, kernel, stride, dilation, out):
    """(N, C, *out, *kernel): every window of ``xpad``, without copying."""
    steps = xpad.strides[2:]
    strides = (*xpad.strides[:2], *(a * s for a, s in zip(steps, stride)),
               *(a * d for a, d in zip(steps, dilation)))
    return _as_strided(xpad, (*xpad.shape[:2], *out, *kernel), strides, writeable=False)


# ----- the three primitives' implementations (NumPy kernels in conv_kernels.py) -----

def _conv_impl(x, w, *bias, stride, padding, dilation, groups):
    return conv_forward(xp.asarray(x), xp.asarray(w), stride, padding, dilation, groups,
                        xp.asarray(bias[0]) if bias else None)


def _conv_transpose_impl(g, w, shape, stride, padding, dilation, groups):
    return conv_input_grad(xp.asarray(g), xp.asarray(w), shape, stride, padding, dilation,
                           groups)


def _conv_filter_impl(x, g, shape, stride, padding, dilation, groups):
    return conv_filter_grad(xp.asarray(x), xp.asarray(g), shape, stride, padding, dilation,
                            groups)


def _bias_sum(g, out, x, w, b, **p):
    """The bias's cotangent: g summed over the images, then over their positions.

    Two sums: the first adds whole images (long contiguous runs), the second one
    row per channel; NumPy's single reduction over (0, 2, ...) ran ~1.6x slower
    (32 x 16 x 28 x 28 float32: 72 us against 45) and summed less accurately."""
    return reductions.sum(reductions.sum(g, axis=0), axis=tuple(range(1, len(shape_of(g)) - 1)))


def _bias_tangent(db, out, x, w, b, **p):
    return broadcast_to(reshape(db, (1, -1) + (1,) * (len(shape_of(out)) - 2)), shape_of(out))


# <conv(x, w), g> = <x, conv_transpose(g, w)> = <w, conv_filter(x, g)>: one identity, six
# rules. An optional third argument, a bias per output channel, is added in the same pass
# over the output (conv2d's bias costs no array of its own); its rules are a sum and a
# broadcast.
conv_p = Primitive("conv", _conv_impl)
conv_p.defvjp(
    lambda g, out, x, w, *b, **p: conv_transpose_p(g, w, shape=shape_of(x), **p),
    lambda g, out, x, w, *b, **p: conv_filter_p(x, g, shape=shape_of(w), **p),
    _bias_sum)
conv_p.defjvp(lambda dx, out, x, w, *b, **p: conv_p(dx, w, **p),
              lambda dw, out, x, w, *b, **p: conv_p(x, dw, **p),
              _bias_tangent)


def _conv_like(h, w, g, **p):
    """conv(h, w) cut to ``g``'s size: with an output_padding of at least the stride,
    the last rows of a transposed convolution's output come from no input."""
    y = conv_p(h, w, **p)
    size = tuple(shape_of(g)[2:])
    if tuple(shape_of(y)[2:]) == size:
        return y
    return y[(slice(None), slice(None), *(slice(0, n) for n in size))]


conv_transpose_p = Primitive("conv_transpose", _conv_transpose_impl)
conv_transpose_p.defvjp(
    lambda h, out, g, w, shape, **p: _conv_like(h, w, g, **p),
    lambda h, out, g, w, shape, **p: conv_filter_p(h, g, shape=shape_of(w), **p))
conv_transpose_p.defjvp(lambda dg, out, g, w, shape, **p: conv_transpose_p(dg, w, shape=shape, **p),
                        lambda dw, out, g, w, shape, **p: conv_transpose_p(g, dw, shape=shape, **p))

conv_filter_p = Primitive("conv_filter", _conv_filter_impl)
conv_filter_p.defvjp(
    lambda v, out, x, g, shape, **p: conv_transpose_p(g, v, shape=shape_of(x), **p),
    lambda v, out, x, g, shape, **p: _conv_like(x, v, g, **p))
conv_filter_p.defjvp(lambda dx, out, x, g, shape, **p: conv_filter_p(dx, g, shape=shape, **p),
                     lambda dg, out, x, g, shape, **p: conv_filter_p(x, dg, shape=shape, **p))


# ----- public functions: PyTorch's signatures (NumPy has no convolution layers) -----

def _ints(name, what, value, nd, low):
    """An int or ``nd`` ints, each at least ``low``, as a tuple."""
    items = (value,) * nd if isinstance(value, (int, xp.integer)) else tuple(value)
    if len(items) != nd or any(isinstance(v, bool) or not isinstance(v, (int, xp.integer))
                               for v in items):
        raise TypeError(f"{name}: {what} must be an int or {nd} ints, got {value!r}")
    if any(v < low for v in items):
        raise ValueError(f"{name}: {what} must be at least {low}, got {value!r}")
    return tuple(int(v) for v in items)


def _batched(name, x, nd):
    """``x`` with a batch axis (added if it was unbatched) and whether one was added."""
    ndim = len(shape_of(x))
    if ndim not in (nd + 1, nd + 2):
        spatial = ("L",) if nd == 1 else ("H", "W")
        raise ValueError(f"{name}: expected input of shape (N, C, {', '.join(spatial)}) or "
                         f"(C, {', '.join(spatial)}), got {shape_of(x)}")
    if not is_float_dtype(dtype_of(x)):
        raise TypeError(f"{name}: expected a floating input, got dtype {dtype_of(x)}")
    return (expand_dims(x, 0), True) if ndim == nd + 1 else (x, False)


def _conv_padding(name, padding, kernel, stride, dilation):
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride {stride}")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]  # the extra one goes last
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{name}: padding must be 'valid', 'same', an int or {nd} ints, "
                         f"got {padding!r}")
    return tuple((p, p) for p in _ints(name, "padding", padding, nd, 0))


def _conv(name, nd, x, w, bias, stride, padding, dilation, groups):
    x, added = _batched(name, x, nd)
    xs, ws = shape_of(x), shape_of(w)
    if len(ws) != nd + 2:
        raise ValueError(f"{name}: weight must have {nd + 2} dimensions (out_channels, "
                         f"in_channels / groups, *kernel), got shape {ws}")
    if isinstance(groups, bool) or not isinstance(groups, (int, xp.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    if ws[0] % groups or xs[1] != ws[1] * groups:
        raise ValueError(f"{name}: input has {xs[1]} channels and weight {ws} with "
                         f"groups={groups}; expected {ws[1] * groups} input channels and "
                         f"out_channels divisible by groups")
    kernel = ws[2:]
    stride = _ints(name, "stride", stride, nd, 1)
    dilation = _ints(name, "dilation", dilation, nd, 1)
    pads = _conv_padding(name, padding, kernel, stride, dilation)
    if any(n < 1 for n in _out_size(xs[2:], kernel, stride, pads, dilation)):
        raise ValueError(f"{name}: kernel {kernel} with dilation {dilation} does not fit in "
                         f"the padded input of spatial size "
                         f"{tuple(n + lo + hi for n, (lo, hi) in zip(xs[2:], pads))}")
    p = {"stride": stride, "padding": pads, "dilation": dilation, "groups": int(groups)}
    if bias is None:
        out = conv_p(x, w, **p)
    else:
        if tuple(shape_of(bias)) != (ws[0],):
            raise ValueError(f"{name}: bias must have shape ({ws[0]},), one number per output "
                             f"channel, got shape {tuple(shape_of(bias))}")
        out = conv_p(x, w, bias, **p)
    return squeeze(out, 0) if added else out


def _finish(out, bias, nd, added):
    if bias is not None:
        out = out + reshape(bias, (-1,) + (1,) * nd)
    return squeeze(out, 0) if added else out


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over ``x`` of shape (N, C, L) or (C, L), as
    ``torch.nn.functional.conv1d``; ``weight`` is (out_channels, C / groups, k).

    >>> import numpy as np, chainrule as cr
    >>> cr.conv1d(np.array([[[1.0, 2.0, 3.0, 4.0]]]), np.array([[[1.0, -1.0]]]))
    array([[[-1., -1., -1.]]])
    """
    return _conv("conv1d", 1, x, weight, bias, stride, padding, dilation, groups)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over ``x`` of shape (N, C, H, W) or (C, H, W),
    as ``torch.nn.functional.conv2d``; ``weight`` is (out_channels, C / groups, kh, kw).

    ``stride`` and ``dilation`` are ints or pairs; ``padding`` an int, a pair,
    ``'valid'`` or ``'same'`` (stride 1; an odd total puts the extra row last).
    Every derivative, of any order, is again a convolution.

    >>> import numpy as np, chainrule as cr
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> cr.conv2d(x, np.ones((1, 1, 2, 2)), stride=2)
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    return _conv("conv2d", 2, x, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(name, nd, x, w, bias, stride, padding, output_padding, groups, dilation):
    x, added = _batched(name, x, nd)
    xs, ws = shape_of(x), shape_of(w)
    if len(ws) != nd + 2:
        raise ValueError(f"{name}: weight must have {nd + 2} dimensions (in_channels, "
                         f"out_channels / groups, *kernel), got shape {ws}")
    if isinstance(groups, bool) or not isinstance(groups, (int, xp.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    if xs[1] != ws[0] or ws[0] % groups:
        raise ValueError(f"{name}: input has {xs[1]} channels, weight {ws} expects {ws[0]} "
                         f"(divisible by groups={groups})")
    kernel = ws[2:]
    stride = _ints(name, "stride", stride, nd, 1)
    dilation = _ints(name, "dilation", dilation, nd, 1)
    pads = _ints(name, "padding", padding, nd, 0)
    extra = _ints(name, "output_padding", output_padding, nd, 0)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{name}: output_padding {extra} must be smaller than the stride "
                         f"{stride} or the dilation {dilation}")
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1
                 for n, s, p, d, k, e in zip(xs[2:], stride, pads, dilation, kernel, extra))
    if any(n < 1 for n in size):
        raise ValueError(f"{name}: the output would have spatial size {size}")
    out = conv_transpose_p(x, w, shape=(xs[0], ws[1] * groups, *size), stride=stride,
                           padding=tuple((p, p) for p in pads), dilation=dilation,
                           groups=int(groups))
    return _finish(out, bias, nd, added)


def conv_transpose1d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of ``conv1d`` in its input ("deconvolution"), as
    ``torch.nn.functional.conv_transpose1d``; ``weight`` is (C, out_channels / groups, k).

    >>> import numpy as np, chainrule as cr
    >>> cr.conv_transpose1d(np.array([[[1.0, 2.0]]]), np.array([[[1.0, 1.0]]]))
    array([[[1., 3., 2.]]])
    """
    return _conv_transpose("conv_transpose1d", 1, x, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of ``conv2d`` in its input ("deconvolution"), as
    ``torch.nn.functional.conv_transpose2d``; ``weight`` is (C, out_channels / groups, kh, kw).

    >>> import numpy as np, chainrule as cr
    >>> cr.conv_transpose2d(np.ones((1, 1, 1, 1)), np.ones((1, 1, 2, 2)), stride=2).shape
    (1, 1, 2, 2)
    """
    return _conv_transpose("conv_transpose2d", 2, x, weight, bias, stride, padding,
                           output_padding, groups, dilation)
