"""Specs of convolution and pooling: conv1d/conv2d with stride, padding, dilation and
groups, the transposed convolution, the filter gradient, the window view and its
adjoint, max and average pooling, all against torch.nn.functional."""

import warnings

import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.ops.conv import conv_filter_p
from chainrule.ops.pooling import windows_adjoint_p, windows_p
from tests.ops.harness import Spec

# torch's convolutions spin up a thread pool that costs far more than these tiny
# problems (60x slower double backward on a busy 2-core machine): one thread
torch.set_num_threads(1)

# conv2d geometries: (x shape, w shape) for each
PLAIN = [((2, 3, 5, 6), (4, 3, 3, 2)), ((1, 2, 4, 4), (3, 2, 1, 1))]
GROUPED = [((2, 4, 7, 6), (6, 2, 3, 3))]


def _conv2d(**p):
    return (lambda x, w: cr.conv2d(x, w, **p)), (lambda x, w: F.conv2d(x, w, **p))


def _torch_conv2d_same(x, w):
    with warnings.catch_warnings():  # that it pads an even kernel with a copy: the point here
        warnings.simplefilter("ignore")
        return F.conv2d(x, w, padding="same", dilation=(1, 2))


def _conv1d(**p):
    return (lambda x, w: cr.conv1d(x, w, **p)), (lambda x, w: F.conv1d(x, w, **p))


def _filter_grad(x_shape, w_shape, stride, padding, dilation, groups):
    """conv_filter_p on (x, g): the gradient of conv2d with respect to its weight."""
    p = {"stride": (stride,) * 2, "padding": ((padding, padding),) * 2,
         "dilation": (dilation,) * 2, "groups": groups}

    def fn(x, g):
        return conv_filter_p(x, g, shape=w_shape, **p)

    def torch_fn(x, g):
        return torch.nn.grad.conv2d_weight(x, w_shape, g, stride, padding, dilation, groups)

    n, _, h, w = x_shape
    out = ((h + 2 * padding - dilation * (w_shape[2] - 1) - 1) // stride + 1,
           (w + 2 * padding - dilation * (w_shape[3] - 1) - 1) // stride + 1)
    return fn, torch_fn, [(x_shape, (n, w_shape[0], *out))]


W = {"kernel": (2, 2), "stride": (2, 1), "padding": ((1, 1), (1, 1)), "dilation": (1, 2)}
W_TORCH = {"stride": (2, 1), "padding": 1, "dilation": (1, 2)}


def _torch_windows(x):
    """torch's unfold (N, C*kh*kw, L) laid out as windows are: (N, kh, kw, C, ho, wo)."""
    n, c = x.shape[:2]
    cols = F.unfold(x, (2, 2), **W_TORCH)
    return cols.reshape(n, c, 2, 2, 3, 5).permute(0, 2, 3, 1, 4, 5)


def _torch_windows_adjoint(g):
    """torch's fold, the adjoint of unfold, on windows' layout."""
    n, c = g.shape[0], g.shape[3]
    cols = g.permute(0, 3, 1, 2, 4, 5).reshape(n, c * 4, 15)
    return F.fold(cols, (4, 5), (2, 2), **W_TORCH)


FILTER = _filter_grad((2, 4, 6, 5), (6, 2, 3, 2), stride=2, padding=1, dilation=1, groups=2)
FILTER_DILATED = _filter_grad((1, 2, 7, 7), (3, 2, 2, 3), stride=1, padding=0, dilation=2,
                              groups=1)

SPECS = [
    Spec("conv2d", *_conv2d(), PLAIN, primitives=("conv",)),
    Spec("conv2d_stride_padding", *_conv2d(stride=2, padding=1), PLAIN, primitives=("conv",)),
    Spec("conv2d_dilation_asymmetric", *_conv2d(stride=(1, 2), padding=(2, 0), dilation=(2, 1)),
         PLAIN[:1], primitives=("conv",)),
    Spec("conv2d_groups", *_conv2d(stride=2, padding=1, dilation=2, groups=2), GROUPED,
         primitives=("conv",)),
    Spec("conv2d_depthwise", *_conv2d(padding=1, groups=4), [((2, 4, 5, 5), (8, 1, 3, 3))],
         primitives=("conv",)),
    Spec("conv2d_stride1_groups_dilation",  # the shift kernels with every option at once
         *_conv2d(padding=(1, 2), dilation=(2, 1), groups=2), GROUPED, primitives=("conv",)),
    Spec("conv2d_same", lambda x, w: cr.conv2d(x, w, padding="same", dilation=(1, 2)),
         _torch_conv2d_same, [((1, 2, 5, 6), (3, 2, 2, 3))],
         primitives=("conv",)),
    Spec("conv2d_bias", lambda x, w, b: cr.conv2d(x, w, b, padding=1),
         lambda x, w, b: F.conv2d(x, w, b, padding=1), [((2, 3, 4, 4), (2, 3, 3, 3), (2,))]),
    Spec("conv2d_bias_wide_grouped",  # the flat kernels, which add the bias as they cut out
         lambda x, w, b: cr.conv2d(x, w, b, padding=(0, 1), dilation=(1, 2), groups=2),
         lambda x, w, b: F.conv2d(x, w, b, padding=(0, 1), dilation=(1, 2), groups=2),
         [((2, 4, 4, 18), (4, 2, 2, 3), (4,))]),
    Spec("conv1d_bias_unbatched", lambda x, w, b: cr.conv1d(x, w, b, padding=1),
         lambda x, w, b: F.conv1d(x, w, b, padding=1), [((3, 17), (2, 3, 3), (2,))]),
    Spec("conv2d_unbatched", *_conv2d(stride=2), [((3, 5, 5), (2, 3, 2, 2))]),
    Spec("conv1d", *_conv1d(stride=2, padding=1, dilation=2),
         [((2, 3, 9), (4, 3, 3)), ((1, 2, 6), (2, 2, 1))], primitives=("conv",)),
    Spec("conv1d_groups", *_conv1d(groups=3, padding=1), [((2, 6, 5), (3, 2, 3))],
         primitives=("conv",)),
    Spec("conv_transpose2d",
         lambda x, w: cr.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2),
         lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2),
         [((2, 4, 3, 4), (4, 3, 3, 2))], primitives=("conv_transpose",)),
    Spec("conv_transpose2d_dilation", lambda x, w: cr.conv_transpose2d(x, w, dilation=2),
         lambda x, w: F.conv_transpose2d(x, w, dilation=2), [((1, 2, 3, 3), (2, 3, 2, 2))],
         primitives=("conv_transpose",)),
    Spec("conv_transpose2d_stride1_output_padding",  # a row no window reaches
         lambda x, w: cr.conv_transpose2d(x, w, padding=1, output_padding=1, groups=2,
                                          dilation=2),
         lambda x, w: F.conv_transpose2d(x, w, padding=1, output_padding=1, groups=2,
                                         dilation=2),
         [((2, 4, 3, 4), (4, 3, 3, 2))], primitives=("conv_transpose",)),
    Spec("conv_transpose1d", lambda x, w: cr.conv_transpose1d(x, w, stride=3, padding=1),
         lambda x, w: F.conv_transpose1d(x, w, stride=3, padding=1), [((2, 2, 4), (2, 3, 3))],
         primitives=("conv_transpose",)),
    Spec("conv_filter", *FILTER, primitives=("conv_filter",)),
    Spec("conv_filter_dilated", *FILTER_DILATED, primitives=("conv_filter",)),
    Spec("windows", lambda x: windows_p(x, fill=0.0, **W), _torch_windows,
         [((2, 3, 4, 5),)], primitives=("windows",)),
    Spec("windows_adjoint", lambda g: windows_adjoint_p(g, shape=(2, 3, 4, 5), **W),
         _torch_windows_adjoint, [((2, 2, 2, 3, 3, 5),)], primitives=("windows_adjoint",)),
    Spec("max_pool2d", lambda x: cr.max_pool2d(x, 2), lambda x: F.max_pool2d(x, 2),
         [((2, 3, 4, 6),), ((1, 2, 5, 5),)]),
    Spec("max_pool2d_overlap_padding", lambda x: cr.max_pool2d(x, 3, stride=2, padding=1),
         lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [((2, 2, 6, 5),)]),
    Spec("max_pool2d_dilation_ceil",
         lambda x: cr.max_pool2d(x, (2, 3), stride=(2, 1), dilation=2, ceil_mode=True),
         lambda x: F.max_pool2d(x, (2, 3), stride=(2, 1), dilation=2, ceil_mode=True),
         [((1, 2, 7, 8),)]),
    Spec("max_pool1d", lambda x: cr.max_pool1d(x, 3, stride=2, padding=1),
         lambda x: F.max_pool1d(x, 3, stride=2, padding=1), [((2, 3, 8),)]),
    Spec("avg_pool2d", lambda x: cr.avg_pool2d(x, 2), lambda x: F.avg_pool2d(x, 2),
         [((2, 3, 4, 6),), ((1, 1, 5, 5),)]),
    Spec("avg_pool2d_padding", lambda x: cr.avg_pool2d(x, 3, stride=2, padding=1),
         lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), [((2, 2, 6, 5),)]),
    Spec("avg_pool2d_exclude_pad_ceil",
         lambda x: cr.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                 count_include_pad=False),
         lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                count_include_pad=False), [((1, 2, 6, 7),)]),
    Spec("avg_pool2d_ceil", lambda x: cr.avg_pool2d(x, 2, ceil_mode=True),
         lambda x: F.avg_pool2d(x, 2, ceil_mode=True), [((1, 2, 5, 3),)]),
    Spec("avg_pool2d_divisor", lambda x: cr.avg_pool2d(x, 2, divisor_override=3),
         lambda x: F.avg_pool2d(x, 2, divisor_override=3), [((1, 2, 4, 4),)]),
    Spec("avg_pool1d", lambda x: cr.avg_pool1d(x, 2, stride=1, padding=1),
         lambda x: F.avg_pool1d(x, 2, stride=1, padding=1), [((2, 3, 5),)]),
]
