"""Stride-1 convolution kernels on flattened padded images (the "flat" layout).

Each channel of a padded sample is one flat row of ``prod(padded)`` numbers.
A kernel tap then reads a *contiguous* stretch of that row, shifted by the
tap's offset, and the output is computed at every position of the padded
grid's first ``out[0]`` rows: ``padded[-1] - out[-1]`` "garbage" columns per
image row, dropped when the result is cut out. So im2col is one long copy per
tap and col2im one long add per tap, instead of one short row per image line
(numpy's cost per row dominated the old kernels on 28x28 images).

Work goes in batch chunks whose scratch fits in a core's cache, and each
sample's product is its own BLAS call: the batch folded into one product
(PyTorch's layout) measured slower here, as OpenBLAS runs these skinny
shapes (16 x 72 x N) at half speed once a call exceeds ~1e6 multiply-adds
(28x28 images stay just below). Larger images are not split further yet.
Scratch arrays come from a small per-thread workspace: zero-bordered ones
kept per geometry (``_scratch``), and the rest as views of a few blocks that
every kernel shares (``_work``). Reusing them spares the allocator from
returning those pages to the system and faulting them in again on every call,
and sharing keeps a network's scratch small enough to stay in cache. Results
are always fresh arrays; nothing in the workspace is ever handed out.
"""

from __future__ import annotations

import builtins
import functools
import math
import threading

from chainrule.backend import xp

__all__ = ["flat_forward", "flat_filter_grad", "flat_input_grad"]

_CHUNK_BYTES = 1 << 21  # a batch chunk's largest scratch array: about a core's L2
_CACHE_BYTES = 1 << 23  # larger scratch arrays are not kept between calls
_CACHE_SLOTS = 32  # per thread, the most recently used buffers kept (a few per layer)
_CACHE_TOTAL = 1 << 26  # and their bytes in all

_local = threading.local()


def _scratch(key, shape, dtype):
    """A zeroed work array of ``shape`` from this thread's workspace, kept for the next
    call with the same ``key``.

    Its users only ever write the positions that the geometry in ``key`` fixes, so
    whatever it holds outside them (a padding border, the garbage columns) is still
    zero on the next call: no clearing per call. Arrays too big for the workspace
    are made afresh. Per thread, so threads never share one. The workspace keeps the
    most recently used arrays, at most ``_CACHE_SLOTS`` of them and ``_CACHE_TOTAL``
    bytes in all: a few per convolution layer of a network.
    """
    dtype = xp.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    key = (key, tuple(shape), dtype)
    buf = cache.pop(key, None)
    if buf is None:
        buf = xp.zeros(shape, dtype)
        if nbytes > min(_CACHE_BYTES, _CACHE_TOTAL):
            return buf
        total = nbytes + builtins.sum(b.nbytes for b in cache.values())
        while cache and (len(cache) >= _CACHE_SLOTS or total > _CACHE_TOTAL):
            total -= cache.pop(next(iter(cache))).nbytes  # the least recently used
    cache[key] = buf  # reinserted: dicts keep insertion order, so the newest is last
    return buf


def _work(role, shape, dtype):
    """A work array of ``shape`` whose contents live only during one kernel call.

    Every kernel's array of one ``role`` ("cols", "prod") is a view of the same
    block of this thread's memory. So the columns of one layer and the next,
    forward and backward, share their cache lines: a network's step keeps a few
    MB of scratch warm instead of one block per array shape. One kernel uses
    distinct roles for arrays alive at the same time; nothing read from a work
    array outlives the call (results are copied out of it).

    A block is made once at its full size, ``_CACHE_BYTES``: pages never touched
    cost address space, not memory. Growing it instead would free the smaller
    block, and glibc answers a freed mapped block by moving its mmap and trim
    thresholds for the whole process (measured: a two-layer step alone in its
    process took 2,141 page faults instead of 1,536). A larger request gets an
    array of its own, not kept.
    """
    dtype = xp.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > _CACHE_BYTES:
        return xp.empty(shape, dtype)
    arenas = getattr(_local, "arenas", None)
    if arenas is None:
        arenas = _local.arenas = {}
    block = arenas.get(role)
    if block is None or block.nbytes < nbytes:  # (smaller only if _CACHE_BYTES grew)
        block = arenas[role] = xp.empty(_CACHE_BYTES, xp.uint8)
    return block[:nbytes].view(dtype).reshape(shape)


def clear_workspace() -> None:
    """Drop this thread's convolution scratch arrays (they are remade when needed)."""
    _local.cache = {}
    _local.arenas = {}


class _Geometry:
    """Where everything lies in the flat layout of one stride-1 convolution."""

    __slots__ = ("inside", "kernel_taps", "key", "length", "offsets", "out", "padded",
                 "pitch", "size")

    def __init__(self, size, kernel, padding, dilation):
        self.size = tuple(size)
        self.padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, padding))
        self.out = tuple(p - d * (k - 1) for p, k, d in zip(self.padded, kernel, dilation))
        steps = [math.prod(self.padded[a + 1:]) for a in range(len(self.padded))]
        taps = [[]]
        for k, d, step in zip(kernel, dilation, steps):
            taps = [t + [i * d * step] for t in taps for i in range(k)]
        self.offsets = [sum(t) for t in taps]  # tap order as the weights' (row-major)
        self.kernel_taps = len(self.offsets)
        self.length = self.out[0] * steps[0]  # output positions, garbage columns included
        self.pitch = self.length + self.offsets[-1]  # one channel's flat row, with slack
        self.inside = tuple(slice(lo, lo + s) for (lo, _), s in zip(padding, size))
        # what fixes which positions of a zero-kept buffer are ever written
        self.key = (self.size, tuple(map(tuple, padding)), self.pitch)

    def grid(self, flat, lead):
        """(``*lead``, *padded) view of the first prod(padded) numbers of each flat row."""
        return flat[..., :math.prod(self.padded)].reshape(*lead, *self.padded)

    def valid(self, wide, lead, out=None):
        """(``*lead``, *out) view of the real outputs in rows of ``length`` positions.

        ``out`` may be smaller than the geometry's (a cotangent of a transposed
        convolution with an output_padding): the positions past it stay unused."""
        full = wide.reshape(*lead, self.out[0], *self.padded[1:])
        return full[(Ellipsis, *(slice(0, n) for n in (out or self.out)))]


@functools.lru_cache(maxsize=128)
def _cached_geometry(size, kernel, padding, dilation):
    return _Geometry(size, kernel, padding, dilation)


def _geometry(size, kernel, padding, dilation):
    """The (read-only) ``_Geometry``, made once per layer shape instead of per call."""
    return _cached_geometry(tuple(size), tuple(kernel), tuple(map(tuple, padding)),
                            tuple(dilation))


def _chunk(n, per_sample_bytes):
    """Samples per chunk: as many as fit in ``_CHUNK_BYTES``, the chunks made even."""
    most = max(1, min(n, _CHUNK_BYTES // max(per_sample_bytes, 1)))
    return -(-n // -(-n // most)) if n else 1


def _assign(dst, src):
    """``dst[...] = src``; each run along the last axis copied as one opaque record when
    both arrays have the same dtype and shape and a contiguous last axis.

    The cut-outs and paddings here copy short image rows (28 numbers for 28x28),
    which NumPy copies as numbers at ~2x the time it takes to copy them as records
    of bytes (a 1.6 MB float32 cut-out: 86 us against 38). Anything else (another
    dtype to convert to, a broadcast stride-0 source) is an ordinary assignment."""
    if (dst.dtype == src.dtype and dst.shape == src.shape and dst.size
            and dst.strides[-1] == src.strides[-1] == dst.itemsize):
        record = xp.dtype((xp.void, dst.shape[-1] * dst.itemsize))
        xp.copyto(dst.view(record), src.view(record))
    else:
        dst[...] = src


def _pad_into(flat, x, geo, key_lead):
    """Write x (nb, C, *size) into the inside of the zero-bordered flat rows."""
    _assign(geo.grid(flat, key_lead)[(slice(None), slice(None), *geo.inside)], x)


def _widen_into(wide, g, geo, lead):
    """Write g (nb, O, *out) at the real positions of the rows of ``length``."""
    _assign(geo.valid(wide, lead, g.shape[2:]), g)


def flat_forward(x, w, padding, dilation, groups, bias=None):
    """conv(x, w) (+ bias per output channel) at stride 1: im2col per batch chunk, one
    BLAS call per sample, which also adds the bias (no pass over the output of its own)."""
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    geo = _geometry(x.shape[2:], w.shape[2:], padding, dilation)
    dtype = xp.result_type(x, w) if bias is None else xp.result_type(x, w, bias)
    kt, length, pitch = geo.kernel_taps, geo.length, geo.pitch
    og, rows = o // groups, kt * cg
    # weights (G, O/G, K * C/G), columns in (tap, channel) order like the columns' rows;
    # with a bias, one more column holding it, against a row of ones below the columns:
    # the product adds the bias (no pass over the output of its own)
    wm = w.reshape(groups, og, cg, kt).transpose(0, 1, 3, 2).reshape(groups, og, rows)
    nb = _chunk(n, rows * length * dtype.itemsize)
    if bias is None:
        wm = wm.astype(dtype, copy=False)
        cols = _work("cols", (nb, groups, rows, length), dtype)
    else:
        wm = xp.concatenate([wm, bias.reshape(groups, og, 1)], axis=2).astype(dtype, copy=False)
        cols = _work("cols", (nb, groups, rows + 1, length), dtype)
        cols[:, :, -1] = 1  # the row of ones that multiplies the bias column
    flat = _scratch(("x", geo.key, c), (nb, c, pitch), dtype)
    wide = _work("prod", (nb, groups, og, length), dtype)
    out = xp.empty((n, o, *geo.out), dtype)
    for start in range(0, n, nb):
        m = min(nb, n - start)
        f, cl, wd = flat[:m], cols[:m], wide[:m]
        _pad_into(f, x[start:start + m], geo, (m, c))
        _im2col_into(cl[:, :, :rows].reshape(m, groups, kt, cg, length), f, geo, groups)
        if groups == 1:
            xp.matmul(wm[0], cl[:, 0], out=wd[:, 0])
        else:
            xp.matmul(wm, cl, out=wd)
        _assign(out[start:start + m], geo.valid(wd, (m, o)))
    return out


def _im2col_into(cols, flat, geo, groups):
    """cols (m, G, K, C/G, length): each tap's shifted rows of the flat images."""
    m, c, pitch = flat.shape
    fg = flat.reshape(m, groups, c // groups, pitch)
    for k, off in enumerate(geo.offsets):
        cols[:, :, k] = fg[..., off:off + geo.length]


_FEW_CHANNELS = 4  # fewer input channels per group: the filter gradient goes via columns


def flat_filter_grad(x, g, shape, padding, dilation, groups):
    """The adjoint in w at stride 1, summed over each batch chunk's samples.

    With at least ``_FEW_CHANNELS`` input channels per group there are no columns:
    for each kernel tap, g times the flat images shifted by the tap's offset (a
    strided view BLAS reads as it is), one batched product per tap and chunk. The
    columns would be a copy of every tap's rows, read once by one product (28x28,
    8 -> 16 channels: 0.88 ms for 32 images instead of 1.1). With fewer channels
    each tap's product is too thin (a matrix-vector product for one channel), and
    the columns, as the forward makes them, are multiplied once instead.
    """
    n, c = x.shape[:2]
    o, cg = shape[:2]
    og = o // groups
    geo = _geometry(x.shape[2:], shape[2:], padding, dilation)
    dtype = xp.result_type(x, g)
    kt, length, pitch = geo.kernel_taps, geo.length, geo.pitch
    by_taps = cg >= _FEW_CHANNELS
    cols_bytes = 0 if by_taps else kt * c * length
    nb = _chunk(n, (cols_bytes + c * pitch + o * length) * dtype.itemsize)
    tag = (geo.key, c, o, g.shape[2:])
    flat = _scratch(("x", geo.key, c), (nb, c, pitch), dtype)
    wide = _scratch(("dw", "g") + tag, (nb, o, length), dtype)
    if by_taps:
        part = _work("prod", (kt, nb, groups, og, cg), dtype)
    else:
        cols = _work("cols", (nb, groups, kt, cg, length), dtype)
        part = _work("prod", (nb, groups, og, kt, cg), dtype)
    dw = xp.zeros((kt, groups, og, cg) if by_taps else (groups, og, kt, cg), dtype)
    for start in range(0, n, nb):
        m = min(nb, n - start)
        f, wd = flat[:m], wide[:m]
        _pad_into(f, x[start:start + m], geo, (m, c))
        _widen_into(wd, g[start:start + m], geo, (m, o))
        gm = wd.reshape(m, groups, og, length)
        if by_taps:
            pt = part[:, :m]
            fg = f.reshape(m, groups, cg, pitch)
            for k, off in enumerate(geo.offsets):
                xp.matmul(gm, fg[..., off:off + length].swapaxes(-1, -2), out=pt[k])
            dw += pt.sum(axis=1)
        else:
            cl, pt = cols[:m], part[:m]
            _im2col_into(cl, f, geo, groups)
            xp.matmul(gm, cl.reshape(m, groups, kt * cg, length).swapaxes(-1, -2),
                      out=pt.reshape(m, groups, og, kt * cg))
            dw += pt.sum(axis=0)
    # (K, G, O/G, C/G) or (G, O/G, K, C/G) -> (O, C/G, *kernel)
    return dw.transpose((1, 2, 3, 0) if by_taps else (0, 1, 3, 2)).reshape(shape)


def flat_input_grad(g, w, shape, padding, dilation, groups):
    """The adjoint in x at stride 1 (col2im): per batch chunk one product per sample, then
    each tap's rows added back, shifted, as one long add per sample and group."""
    n, o = g.shape[:2]
    c = shape[1]
    cg = w.shape[1]
    og = o // groups
    geo = _geometry(shape[2:], w.shape[2:], padding, dilation)
    dtype = xp.result_type(g, w)
    kt, length, pitch = geo.kernel_taps, geo.length, geo.pitch
    # (G, K * C/G, O/G): the transposed weights, rows in (tap, channel) order
    wt = w.reshape(groups, og, cg, kt).transpose(0, 3, 2, 1).reshape(
        groups, kt * cg, og).astype(dtype, copy=False)
    # The products go into rows of ``pitch`` whose tail past ``length`` is zero:
    # each tap's add is then one run over C/G whole rows.
    nb = _chunk(n, kt * c * pitch * dtype.itemsize)
    tag = (geo.key, c, o, g.shape[2:])
    wide = _scratch(("dx", "g") + tag, (nb, o, length), dtype)
    cols = _work("cols", (nb, groups, kt, cg, pitch), dtype)
    # the products fill the first ``length`` numbers of each row; the adds below run
    # over whole rows, so the rest must be zero (the block is shared: zero it here)
    cols.reshape(nb, groups * kt * cg, pitch)[..., length:] = 0
    span = cg * pitch
    # past ``span``, only the zeros of the garbage columns ever land: zero for good
    image = _scratch(("dx", "image") + tag, (nb, groups, span + geo.offsets[-1]), dtype)
    out = xp.empty((n, c, *geo.size), dtype)
    for start in range(0, n, nb):
        m = min(nb, n - start)
        wd, cl, im = wide[:m], cols[:m], image[:m]
        _widen_into(wd, g[start:start + m], geo, (m, o))
        gm = wd.reshape(m, groups, og, length)
        prod = cl.reshape(m, groups, kt * cg, pitch)[..., :length]
        if groups == 1:
            xp.matmul(wt[0], gm[:, 0], out=prod[:, 0])
        else:
            xp.matmul(wt, gm, out=prod)
        rows = cl.reshape(m, groups, kt, span)
        im[..., :span] = rows[:, :, 0]  # the first tap's offset is 0: a copy, no clearing
        for k in range(1, kt):
            off = geo.offsets[k]
            dst = im[..., off:off + span]
            xp.add(dst, rows[:, :, k], out=dst)
        grid = geo.grid(im[..., :span].reshape(m, groups, cg, pitch), (m, groups, cg))
        dst = out[start:start + m].reshape(m, groups, cg, *geo.size)
        _assign(dst, grid[(slice(None),) * 3 + geo.inside])
    return out
