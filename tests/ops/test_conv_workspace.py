"""The flat convolution kernels' shared work blocks (``conv_flat._work``): whatever an
earlier call left in them changes no result, and no array a kernel returns (a result,
a gradient, a value the graph saves) is ever a view of them or of the zeroed
workspace."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.ops import conv, conv_flat, conv_kernels

torch.set_num_threads(1)

# (x shape, w shape, padding, dilation, groups, bias): stride 1, so all run flat
CASES = [
    ((3, 8, 9, 10), (6, 8, 3, 3), 1, 1, 1, True),  # 8 channels: filter gradient by taps
    ((4, 1, 12, 12), (5, 1, 3, 3), 1, 1, 1, True),  # 1 channel: by columns
    ((2, 6, 7, 11), (6, 2, 3, 2), (2, 0), (1, 2), 3, False),  # groups, dilation
    ((2, 3, 5, 20), (4, 3, 1, 4), (0, 3), (1, 3), 1, True),  # asymmetric, wide kernel
]


def _poison():
    """Fill this thread's work blocks with NaN bytes (as any earlier call might have
    left other numbers), making them first if needed."""
    arenas = getattr(conv_flat._local, "arenas", None)
    if arenas is None:
        arenas = conv_flat._local.arenas = {}
    for role in ("cols", "prod"):
        block = arenas.get(role)
        if block is None or block.nbytes < 1 << 20:
            arenas[role] = block = np.empty(1 << 20, np.uint8)
        block[...] = 0xFF  # NaN in every float width


def _poisoning(monkeypatch):
    """Each flat kernel called on poisoned work blocks."""
    for name in ("flat_forward", "flat_input_grad", "flat_filter_grad"):
        kernel = getattr(conv_flat, name)

        def poisoned(*args, _kernel=kernel, **kwargs):
            _poison()
            return _kernel(*args, **kwargs)
        monkeypatch.setattr(conv_kernels, name, poisoned)
    monkeypatch.setattr(conv_kernels, "layout", lambda stride, out: "flat")


def _check(case, dtype, seed=0):
    x_shape, w_shape, padding, dilation, groups, with_bias = case
    rng = np.random.default_rng(seed)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (x_shape, w_shape, w_shape[:1]))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    cx, cw, cb = (cr.tensor(v, requires_grad=True) for v in (x, w, b))
    p = {"padding": padding, "dilation": dilation, "groups": groups}
    want = F.conv2d(tx, tw, tb if with_bias else None, **p)
    got = cr.conv2d(cx, cw, cb if with_bias else None, **p)
    g = rng.standard_normal(tuple(want.shape)).astype(dtype)
    want.backward(torch.tensor(g))
    got.backward(g)
    tol = {"rtol": 1e-10, "atol": 1e-11} if dtype == np.float64 else {"rtol": 1e-4,
                                                                       "atol": 1e-4}
    pairs = [(got, want), (cx.grad, tx.grad), (cw.grad, tw.grad)]
    if with_bias:
        pairs.append((cb.grad, tb.grad))
    for ours, theirs in pairs:
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_poisoned_work_blocks_change_no_result(case, dtype, monkeypatch):
    """The bias's row of ones, the zero tails of the input gradient's rows: every
    number a kernel reads from a work block it wrote in the same call."""
    _poisoning(monkeypatch)
    _check(case, dtype)
    monkeypatch.setattr(conv_flat, "_CHUNK_BYTES", 1)  # one image per chunk
    _check(case, dtype, seed=1)


def test_one_dimensional_and_second_order_on_poisoned_blocks(monkeypatch):
    """conv1d, and a second derivative (whose rules are convolutions again)."""
    _poisoning(monkeypatch)
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 17)), rng.standard_normal((4, 3, 3))

    def ours(w):
        return cr.sum(cr.conv1d(x, w, padding=1) ** 2)

    def theirs(w):
        return (F.conv1d(torch.tensor(x), w, padding=1) ** 2).sum()

    v = rng.standard_normal(w.shape)
    got = cr.jvp(cr.grad(ours), (w,), (v,))[1]
    tw = torch.tensor(w, requires_grad=True)
    (grad,) = torch.autograd.grad(theirs(tw), tw, create_graph=True)
    (want,) = torch.autograd.grad(grad, tw, torch.tensor(v))
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-10)


def _workspace_arrays():
    local = conv_flat._local
    return [*getattr(local, "cache", {}).values(), *getattr(local, "arenas", {}).values()]


def test_no_returned_or_saved_array_shares_the_workspace(monkeypatch):
    """Every array the three convolution primitives return in a two-layer network's
    step (outputs the graph saves, gradients handed to the user) is its own memory,
    and keeps its numbers through later steps that reuse the workspace."""
    returned = []
    for prim in (conv.conv_p, conv.conv_transpose_p, conv.conv_filter_p):
        def recording(*args, _impl=prim.impl, **params):
            out = _impl(*args, **params)
            returned.append(out)
            return out
        monkeypatch.setattr(prim, "impl", recording)
    rng = np.random.default_rng(3)
    ws = [cr.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
          for s in ((8, 1, 3, 3), (8,), (16, 8, 3, 3), (16,))]

    def step(seed):
        x = cr.tensor(np.random.default_rng(seed).standard_normal((6, 1, 20, 20))
                      .astype(np.float32), requires_grad=True)
        h = cr.relu(cr.conv2d(x, ws[0], ws[1], padding=1))
        h = cr.relu(cr.conv2d(h, ws[2], ws[3], padding=1))
        (h * h).mean().backward()

    step(0)
    assert len(returned) == 6  # per layer an output, an input and a filter gradient
    first = list(returned)
    kept = [a.copy() for a in first]
    for seed in (1, 2):
        step(seed)
    for a, copy in zip(first, kept):
        np.testing.assert_array_equal(a, copy)
    workspace = _workspace_arrays()
    assert workspace
    for i, a in enumerate(returned):
        assert not any(np.shares_memory(a, buf) for buf in workspace)
        assert not any(np.shares_memory(a, b) for b in returned[i + 1:])


def test_work_blocks_are_shared_made_once_and_bounded(monkeypatch):
    """Two layers, forward and backward, use one block per role, made at its full size
    at once (growing it would free the smaller one, which moves glibc's thresholds for
    the whole process) and then kept; a request above ``_CACHE_BYTES`` gets an array of
    its own, not kept."""
    conv_flat.clear_workspace()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 3, 16, 16))
    w1, w2 = rng.standard_normal((6, 3, 3, 3)), rng.standard_normal((4, 6, 5, 5))
    step = cr.grad(lambda w1, w2: cr.sum(cr.conv2d(cr.conv2d(x, w1, padding=1), w2,
                                                   padding=2)), argnums=(0, 1))
    step(w1, w2)
    arenas = conv_flat._local.arenas
    assert set(arenas) == {"cols", "prod"}
    assert all(block.nbytes == conv_flat._CACHE_BYTES for block in arenas.values())
    blocks = dict(arenas)
    step(w1, w2)
    cr.conv2d(rng.standard_normal((16, 6, 30, 30)), w2)  # larger columns, still below the cap
    assert all(arenas[role] is block for role, block in blocks.items())
    monkeypatch.setattr(conv_flat, "_CACHE_BYTES", 1 << 10)
    big = conv_flat._work("cols", (1 << 8,), np.float64)
    assert big.shape == (1 << 8,) and not np.shares_memory(big, blocks["cols"])
    assert arenas["cols"] is blocks["cols"]


@pytest.mark.parametrize("source", ["contiguous", "strided", "transposed", "float32 into 64"])
def test_row_copies_from_every_kind_of_source(source, monkeypatch):
    """Padding, widening and cutting out copy image rows as byte records when they can
    (same dtype, contiguous rows) and as numbers otherwise: an input sliced with a step,
    one stored transposed, one of a narrower dtype than the weights, and a broadcast
    (stride 0) cotangent, all against PyTorch in the flat layout."""
    monkeypatch.setattr(conv_kernels, "layout", lambda stride, out: "flat")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 9, 22))
    if source == "strided":
        x = x[..., ::2]  # rows of 11 numbers, 2 apart
    elif source == "transposed":
        x = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    elif source == "float32 into 64":
        x = x.astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3))
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    cx, cw = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    want = F.conv2d(tx, tw, padding=(1, 2))
    got = cr.conv2d(cx, cw, padding=(1, 2))
    want.sum().backward()  # the cotangent of a sum: a broadcast array of ones
    cr.sum(got).backward()
    tol = {"rtol": 1e-6, "atol": 1e-6} if source == "float32 into 64" else {"rtol": 1e-10,
                                                                            "atol": 1e-11}
    assert got.dtype == np.float64
    for ours, theirs in ((got, want), (cx.grad, tx.grad), (cw.grad, tw.grad)):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), **tol)


def test_row_copy_is_the_assignment_it_replaces():
    """``_assign`` against ``dst[...] = src`` on views of every kind it meets, including
    rows of one number and empty arrays."""
    rng = np.random.default_rng(6)
    base = rng.standard_normal((2, 3, 7, 9))
    sources = [base[..., 1:6], base[..., :1], base[:, :, :0, :5], base[..., ::2],
               base.astype(np.float32)[..., :5], np.broadcast_to(np.float64(2.0), (2, 3, 7, 5))]
    for src in sources:
        want = np.zeros_like(base)
        got = np.zeros_like(base)
        region = (Ellipsis, slice(2, 2 + src.shape[-1]))
        want[:, :, :src.shape[2]][region] = src
        conv_flat._assign(got[:, :, :src.shape[2]][region], src)
        np.testing.assert_array_equal(got, want)
