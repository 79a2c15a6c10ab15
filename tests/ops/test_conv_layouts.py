"""Both layouts of the convolution kernels (batch first for wide images, batch last for
narrow ones) against PyTorch: output, input gradient and filter gradient, float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.ops import conv_kernels

CASES = [  # (x shape, w shape, stride, padding, dilation, groups)
    ((2, 4, 6, 5), (6, 2, 3, 3), 1, 1, 1, 2),
    ((3, 3, 7, 9), (4, 3, 2, 3), 2, 0, 1, 1),
    ((2, 2, 5, 8), (2, 1, 3, 2), 1, 2, 2, 2),
]


def _wide(shape, w_shape, stride, dilation):
    """The same image made wide enough that the output rows reach the batch-first path."""
    return (*shape[:-1], stride * conv_kernels._WIDE + dilation * (w_shape[-1] - 1))


@pytest.mark.parametrize("wide", [False, True], ids=["narrow", "wide"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv2d_layouts_match_torch(case, wide):
    x_shape, w_shape, stride, padding, dilation, groups = case
    if wide:
        x_shape = _wide(x_shape, w_shape, stride, dilation)
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    tx, tw = (torch.tensor(v, requires_grad=True) for v in (x, w))
    expected = F.conv2d(tx, tw, stride=stride, padding=padding, dilation=dilation,
                        groups=groups)
    out_width = expected.shape[-1]
    assert (out_width >= conv_kernels._WIDE) == wide  # the path this case means to test
    g = rng.standard_normal(tuple(expected.shape))
    expected.backward(torch.tensor(g))

    cx, cw = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    out = cr.nn.functional.conv2d(cx, cw, stride=stride, padding=padding, dilation=dilation,
                                  groups=groups)
    out.backward(g)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-12)
