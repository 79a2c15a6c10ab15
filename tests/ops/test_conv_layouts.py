"""The layouts of the convolution kernels (batch first for wide images, batch last for
narrow ones, flat rows for stride 1) against PyTorch: output, input gradient and filter
gradient, float64 and float32; the flat layout's workspace under chunks, threads and
changing geometries."""

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.ops import conv_flat, conv_kernels

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


# ----- every layout forced on the same cases (the automatic choice hides some) -----

LAYOUTS = ["batch_first", "batch_last", "flat"]
MORE = [  # stride 1 geometries for the flat layout: asymmetric padding, 1x1, big dilation
    ((3, 6, 10, 11), (6, 2, 3, 3), 1, (0, 2), (2, 1), 3),
    ((1, 1, 1, 1), (2, 1, 1, 1), 1, 0, 1, 1),
    ((2, 3, 4, 20), (5, 3, 1, 4), 1, (1, 3), (1, 3), 1),
]


def _force(monkeypatch, kind):
    monkeypatch.setattr(conv_kernels, "layout", lambda stride, out: kind)


def _against_torch(x_shape, w_shape, stride, padding, dilation, groups, dtype, seed=0):
    """conv2d with a bias, its value and three gradients against PyTorch's."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    expected = F.conv2d(tx, tw, tb, stride=stride, padding=padding, dilation=dilation,
                        groups=groups)
    g = rng.standard_normal(tuple(expected.shape)).astype(dtype)
    expected.backward(torch.tensor(g))
    cx, cw, cb = (cr.tensor(v, requires_grad=True) for v in (x, w, b))
    out = cr.conv2d(cx, cw, cb, stride=stride, padding=padding, dilation=dilation,
                    groups=groups)
    out.backward(g)
    tol = {"rtol": 1e-10, "atol": 1e-11} if dtype == np.float64 else {"rtol": 1e-4,
                                                                       "atol": 1e-4}
    for got, want in ((out, expected), (cx.grad, tx.grad), (cw.grad, tw.grad),
                      (cb.grad, tb.grad)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), **tol)


def _without_bias_against_torch(ours, theirs, x, w, rng, **options):
    """``ours(x, w, **options)`` (float64), its value and input and weight gradients
    for a random cotangent, against PyTorch's ``theirs``."""
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    want = theirs(tx, tw, **options)
    cx, cw = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    out = ours(cx, cw, **options)
    g = rng.standard_normal(tuple(want.shape))
    want.backward(torch.tensor(g))
    out.backward(g)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", LAYOUTS)
@pytest.mark.parametrize("case", CASES + MORE, ids=str)
def test_each_layout_matches_torch(case, kind, dtype, monkeypatch):
    stride = case[2]
    if kind == "flat" and stride != 1:
        pytest.skip("the flat layout is for stride 1")
    _force(monkeypatch, kind)
    _against_torch(*case, dtype)


FLAT_CASES = [case for case in CASES + MORE if case[2] == 1] + [
    ((3, 8, 7, 9), (5, 8, 3, 3), 1, 1, 1, 1),  # 8 channels: the filter gradient by taps
    ((2, 10, 6, 18), (4, 5, 3, 2), 1, (2, 0), (1, 2), 2),  # 5 per group, dilated
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("few", [1, 10 ** 9], ids=["taps", "columns"])
@pytest.mark.parametrize("case", FLAT_CASES, ids=str)
def test_flat_filter_gradient_by_taps_and_by_columns(case, few, dtype, monkeypatch):
    """Both ways to the flat layout's filter gradient on every stride-1 case: products
    of g with each tap's shifted images, or with the columns (fewer channels)."""
    _force(monkeypatch, "flat")
    monkeypatch.setattr(conv_flat, "_FEW_CHANNELS", few)
    _against_torch(*case, dtype)
    monkeypatch.setattr(conv_flat, "_CHUNK_BYTES", 1)  # one image per chunk
    _against_torch(*case, dtype, seed=1)


def test_flat_layout_in_batch_chunks(monkeypatch):
    """Batch chunks of 2 of 7 images (the last one short): each chunk reuses the
    scratch arrays of the one before, which must not leak into its result."""
    monkeypatch.setattr(conv_flat, "_CHUNK_BYTES", 1)  # one image per chunk
    _force(monkeypatch, "flat")
    _against_torch((7, 4, 9, 8), (6, 2, 3, 3), 1, 1, 1, 2, np.float64)
    monkeypatch.setattr(conv_flat, "_CHUNK_BYTES", 2 * 4 * 9 * 3 * 3 * 10 * 8)
    _against_torch((7, 4, 9, 8), (6, 2, 3, 3), 1, 1, 1, 2, np.float64)


def test_flat_layout_results_never_alias_its_workspace():
    x1, x2 = (np.random.default_rng(s).standard_normal((3, 2, 20, 20)) for s in (1, 2))
    w = np.random.default_rng(3).standard_normal((4, 2, 3, 3))
    first = cr.conv2d(x1, w, padding=1)
    kept = first.copy()
    second = cr.conv2d(x2, w, padding=1)  # the same geometry: the same scratch arrays
    np.testing.assert_array_equal(first, kept)
    assert not np.shares_memory(first, second)
    np.testing.assert_allclose(second, F.conv2d(torch.tensor(x2), torch.tensor(w),
                                                padding=1).numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(16, 22),
                          st.integers(0, 2), st.integers(1, 2), st.sampled_from([1, 3]),
                          st.integers(0, 2)), min_size=2, max_size=4))
def test_flat_layout_sequences_of_geometries(calls):
    """Calls of different geometries in a row share the workspace's slots; the zeros that
    some scratch arrays keep around their contents must still be zeros each time."""
    for n, groups, width, pad, dil, k, seed in calls:
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n, 2 * groups, 5, width))
        w = rng.standard_normal((groups, 2, k, k))
        _without_bias_against_torch(cr.conv2d, F.conv2d, x, w, rng, padding=pad, dilation=dil,
                                    groups=groups)


def test_flat_layout_under_threads():
    """Each thread has its own workspace: concurrent convolutions of one geometry."""
    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3))
    xs = [np.random.default_rng(s).standard_normal((4, 3, 24, 24)) for s in range(8)]
    want = [cr.conv2d(x, w, padding=1) for x in xs]

    def run(i):
        return [cr.conv2d(xs[i], w, padding=1) for _ in range(20)]

    with ThreadPoolExecutor(4) as pool:
        for i, results in enumerate(pool.map(run, range(8))):
            for got in results:
                np.testing.assert_array_equal(got, want[i])


@pytest.mark.parametrize("kind", LAYOUTS)
def test_transposed_conv_with_output_padding_in_each_layout(kind, monkeypatch):
    """Stride 1, dilation 2, output_padding 1: the cotangent reaching conv_filter is
    smaller than the geometry's output, so part of the flat rows stays unused."""
    _force(monkeypatch, kind)
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 4, 6, 17)), rng.standard_normal((4, 3, 3, 3))
    _without_bias_against_torch(cr.conv_transpose2d, F.conv_transpose2d, x, w, rng, dilation=2,
                                output_padding=1, padding=1)


@pytest.mark.parametrize("kind", ["batch_first", "flat"])
def test_conv1d_layouts_and_second_order(kind, monkeypatch):
    """conv1d in a layout, and a Hessian-vector product through it (conv's rules are
    the other two convolutions, so second order runs all three kernels)."""
    _force(monkeypatch, kind)
    rng = np.random.default_rng(5)
    x, w, v = rng.standard_normal((2, 3, 20)), rng.standard_normal((4, 3, 3)), \
        rng.standard_normal((4, 3, 3))

    def f(w_, lib):
        conv = cr.conv1d if lib is cr else F.conv1d
        y = conv(x if lib is cr else torch.tensor(x), w_, padding=2, dilation=2)
        return (y * y * y).sum() if lib is cr else (y ** 3).sum()

    hvp = cr.jvp(cr.grad(lambda w_: f(w_, cr)), (w,), (v,))[1]
    tw = torch.tensor(w, requires_grad=True)
    (gw,) = torch.autograd.grad(f(tw, torch), tw, create_graph=True)
    (want,) = torch.autograd.grad((gw * torch.tensor(v)).sum(), tw)
    np.testing.assert_allclose(hvp, want.numpy(), rtol=1e-9, atol=1e-9)


def test_flat_layout_geometries_sharing_a_row_length(monkeypatch):
    """Same padded size, kernel and channels, different insides: padding (1, 1) around
    20 columns and 'same' (0, 1) around 21. The border a scratch array keeps zero for
    one must not be taken for the other's, in any order; nor may a cotangent smaller
    than the geometry's output (a transposed convolution's output_padding) find the
    positions a full-size one wrote."""
    _force(monkeypatch, "flat")
    rng = np.random.default_rng(6)
    a = (rng.standard_normal((1, 2, 5, 20)), rng.standard_normal((2, 2, 3, 2)), 1)
    b = (rng.standard_normal((1, 2, 5, 21)), rng.standard_normal((2, 2, 3, 2)), "same")
    for x, w, padding in (a, b, a):
        with warnings.catch_warnings():  # torch's note that it pads an even kernel
            warnings.simplefilter("ignore")
            want = F.conv2d(torch.tensor(x), torch.tensor(w), padding=padding).numpy()
        np.testing.assert_allclose(cr.conv2d(x, w, padding=padding), want, rtol=1e-10,
                                   atol=1e-12)
    # the filter gradient of one geometry with a full cotangent, then a smaller one
    h, w = rng.standard_normal((2, 3, 9, 20)), rng.standard_normal((4, 3, 3, 3))
    x = rng.standard_normal((2, 4, 6, 17))
    for _ in range(2):
        tw = torch.tensor(w, requires_grad=True)
        full = F.conv2d(torch.tensor(h), tw, padding=1, dilation=2)
        g = rng.standard_normal(tuple(full.shape))
        full.backward(torch.tensor(g))
        cw = cr.tensor(w, requires_grad=True)
        cr.conv2d(h, cw, padding=1, dilation=2).backward(g)
        np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-10)
        tw = torch.tensor(w, requires_grad=True)
        small = F.conv_transpose2d(torch.tensor(x), tw, dilation=2, output_padding=1,
                                   padding=1)
        assert tuple(small.shape) == h.shape
        small.backward(torch.tensor(h))
        cw = cr.tensor(w, requires_grad=True)
        cr.conv_transpose2d(x, cw, dilation=2, output_padding=1, padding=1).backward(h)
        np.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_bias_of_the_wrong_shape_is_refused():
    x, w = np.ones((1, 2, 5, 5)), np.ones((3, 2, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(3,\)"):
        cr.conv2d(x, w, np.ones(1))  # would broadcast over the channels unnoticed
    with pytest.raises(ValueError, match=r"conv1d: bias must have shape \(3,\)"):
        cr.conv1d(np.ones((2, 5)), np.ones((3, 2, 3)), np.ones((3, 1)))


def test_workspace_holds_a_two_layer_network_and_stays_bounded(monkeypatch):
    """After one step, a step of a two-layer network makes no scratch array or work
    block anew (the workspace held too few at first, so every step made them all
    again); and the workspace never holds more than its bounds."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
    ws = [cr.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
          for s in ((8, 1, 3, 3), (8,), (16, 8, 3, 3), (16,))]

    def step():
        h = cr.relu(cr.conv2d(x, ws[0], ws[1], padding=1))
        h = cr.relu(cr.conv2d(h, ws[2], ws[3], padding=1))
        (h * h).mean().backward()

    conv_flat.clear_workspace()
    step()
    cache, arenas = conv_flat._local.cache, conv_flat._local.arenas
    held = {key: id(buf) for key, buf in [*cache.items(), *arenas.items()]}
    step()
    assert {key: id(buf) for key, buf in [*cache.items(), *arenas.items()]} == held
    assert len(cache) <= conv_flat._CACHE_SLOTS
    assert sum(b.nbytes for b in cache.values()) <= conv_flat._CACHE_TOTAL
    monkeypatch.setattr(conv_flat, "_CACHE_TOTAL", 3 << 20)
    conv_flat.clear_workspace()
    step()
    cache = conv_flat._local.cache
    assert sum(b.nbytes for b in cache.values()) <= 3 << 20


def test_an_empty_batch_in_the_flat_layout():
    """No images: an empty output and gradients, a zero filter gradient (as PyTorch).
    (The batch-first and batch-last kernels still refuse an empty batch.)"""
    w = cr.tensor(np.ones((2, 1, 3, 3)), requires_grad=True)
    x = cr.tensor(np.zeros((0, 1, 20, 20)), requires_grad=True)
    y = cr.conv2d(x, w, np.ones(2), padding=1)
    assert y.shape == (0, 2, 20, 20)
    y.sum().backward()
    assert x.grad.shape == (0, 1, 20, 20)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((2, 1, 3, 3)))
