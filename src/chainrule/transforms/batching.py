"""Batched tangents: many tangents (or cotangents) through one sweep of the rules.

``jacfwd`` pushes all n basis tangents through ONE forward sweep and
``jacrev`` all m basis cotangents through ONE backward sweep. The stack of
them is a :class:`Batched` value: an array with a hidden leading axis. Its
``shape``, as rules see it, is the shape of one tangent, so every JVP and VJP
rule runs unchanged (the idea of JAX's vmap). When a rule applies a
primitive to a Batched value, the table below says how that primitive acts
on the whole stack: shift its axis parameters past the batch axis, put the
batch size in front of a target shape, index with a leading full slice,
line ranks up so broadcasting pairs the right axes.

A primitive without an entry is applied to each tangent of the stack in
turn and the results are stacked again. That is correct for every
primitive, but costs one Python-level call per tangent: add an entry when a
primitive matters for the speed of Jacobians.
"""

from __future__ import annotations

import builtins
import math
import string
import weakref
from collections.abc import Callable
from typing import Any

from chainrule.backend import dtype_of, ndarray, shape_of, xp
from chainrule.core.escape import RefusesConversions
from chainrule.core.primitive import registry
from chainrule.core.trace import Traced, bind
from chainrule.ops.gather import Slot, fill
from chainrule.ops.reductions import sum_p
from chainrule.ops.shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    getitem,
    moveaxis,
    reshape,
    squeeze,
    transpose,
)
from chainrule.tensor_numpy import ArrayOperators, NumpyInterface

BatchRule = Callable[[Any, list, list, dict], Any]


class Batched(RefusesConversions, ArrayOperators, NumpyInterface, Traced):
    """A stack of tangents along a hidden leading axis, at one transform level."""

    __slots__ = ("data", "_level")
    stacked = True  # its data is the whole stack (read by getitem, which cannot index with it)

    def __init__(self, data: Any, level: int) -> None:
        self.data = data  # shape (n, *shape): may be a value of an enclosing transform
        self._level = level

    def _process(self, prim: Any, args: tuple, params: dict) -> Any:
        level = self._level
        if len(args) == 1 and args[0] is self:  # the commonest call, spelled out
            vals, batched = [self.data], _ONE
        else:
            vals = []
            batched = []
            for a in args:
                mine = isinstance(a, Batched) and a._level == level
                vals.append(a.data if mine else a)
                batched.append(mine)
        rule = batching_rule(prim)
        out = NotImplemented if rule is None else rule(prim, vals, batched, params)
        if out is NotImplemented:
            out = _one_by_one(prim, vals, batched, params)
        return Batched(out, level)

    @property
    def shape(self) -> tuple[int, ...]:
        shape = self.data.shape  # a tuple for an array and for every traced value
        return shape[1:] if type(shape) is tuple else tuple(shape)[1:]

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    def __repr__(self) -> str:
        return f"Batched({self.data!r}, level={self._level})"


_ONE = (True,)


def batching_rule(prim: Any) -> BatchRule | None:
    """The table's entry for ``prim``: registered primitives only, so a user's
    primitive that happens to share a name is never misread; then the rules
    given to unregistered primitives (custom derivatives, checkpoint segments)."""
    rule = RULES.get(prim.name)
    if rule is None or registry.get(prim.name) is not prim:
        return OWN_RULES.get(prim)
    return rule


# batching rules of unregistered primitives, by the primitive itself (dropped with it)
OWN_RULES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _one_by_one(prim: Any, vals: list, batched: list, params: dict) -> Any:
    """The generic fallback: one call per tangent of the stack, results stacked."""
    n = _batch_size(vals, batched)
    if n == 0:  # nothing to loop over: find the output shape on zeros
        one = bind(prim, *[xp.zeros(shape_of(v)[1:], dtype_of(v)) if b else v
                           for v, b in zip(vals, batched)], **params)
        return xp.zeros((0, *shape_of(one)), dtype=dtype_of(one))
    outs = []
    for k in range(n):
        args = [getitem(v, (k,)) if b else v for v, b in zip(vals, batched)]
        outs.append(expand_dims(bind(prim, *args, **params), 0))
    return concatenate(outs, axis=0)


def _batch_size(vals: list, batched: list) -> int:
    for v, b in zip(vals, batched):
        if b:
            return shape_of(v)[0]
    raise AssertionError("a batching rule ran with no batched argument")  # pragma: no cover


def _example_shape(v: Any, b: bool) -> tuple[int, ...]:
    return shape_of(v)[1:] if b else shape_of(v)


def _rank(v: Any, b: bool) -> int:
    """How many dimensions one tangent of ``v`` has (all of them when it is unbatched)."""
    if type(v) is ndarray:
        return v.ndim - 1 if b else v.ndim
    if type(v) in _PYTHON_SCALARS:
        return 0
    shape = getattr(v, "shape", None)
    n = len(shape) if shape is not None else xp.ndim(v)
    return n - 1 if b else n


_PYTHON_SCALARS = (int, float, bool, complex)


def _reshape(v: Any, shape: tuple[int, ...]) -> Any:
    """``reshape`` of a stack: NumPy's own method on a plain array (there is nothing to
    record, and the primitive would run just that), the primitive on a traced one."""
    return v.reshape(shape) if type(v) is ndarray else reshape(v, shape)


def _broadcast_to(v: Any, shape: tuple[int, ...]) -> Any:
    """``broadcast_to`` of a stack (NumPy's own on a plain array; nothing when it fits)."""
    if type(v) is ndarray:
        return v if v.shape == shape else xp.broadcast_to(v, shape)
    return broadcast_to(v, shape)


def _swap_last(v: Any) -> Any:
    """``v`` with its last two axes swapped (a view of a plain array)."""
    if type(v) is ndarray:
        return v.swapaxes(-1, -2)
    n = len(shape_of(v))
    return transpose(v, (*range(n - 2), n - 1, n - 2))


def _align(v: Any, rank: int) -> Any:
    """A stack whose tangents get leading 1s up to ``rank`` dims, so broadcasting
    against unbatched operands pairs trailing axes, as it does tangent by tangent."""
    shape = shape_of(v)
    missing = rank - (len(shape) - 1)
    if missing <= 0:
        return v
    return _reshape(v, (shape[0],) + (1,) * missing + shape[1:])


def _shift(axis: Any, ndim: int, name: str) -> Any:
    """Axes of one tangent as axes of the stack; None (all axes) listed explicitly."""
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(_shift(a, ndim, name) for a in axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for an array with {ndim} "
                         f"dimension(s)")
    return axis % ndim + 1


# ----- the table -----

def _elementwise(prim: Any, vals: list, batched: list, params: dict) -> Any:
    if len(vals) == 1:  # the stack is one bigger array of the same elements
        return prim(*vals, **params)
    if len(vals) == 2:  # the commonest case, spelled out
        (x, y), (bx, by) = vals, batched
        rx, ry = _rank(x, bx), _rank(y, by)
        if bx and rx < ry:
            x = _align(x, ry)
        elif by and ry < rx:
            y = _align(y, rx)
        return prim(x, y, **params)
    ranks = [_rank(v, b) for v, b in zip(vals, batched)]
    rank = builtins.max(ranks)
    return prim(*[_align(v, rank) if b and r < rank else v
                  for v, b, r in zip(vals, batched, ranks)], **params)


def _axis_params(*names: str, none_means_all: bool = True) -> BatchRule:
    """A rule for primitives whose only batch-sensitive params are axes."""

    def rule(prim: Any, vals: list, batched: list, params: dict) -> Any:
        if builtins.any(batched[1:]):
            return NotImplemented
        ndim = len(shape_of(vals[0])) - 1
        new = dict(params)
        for name in names:
            axis = params.get(name)
            if axis is None and not none_means_all:
                return NotImplemented
            new[name] = _shift(axis, ndim, prim.name)
        return prim(*vals, **new)

    return rule


def _with_shape(prim: Any, vals: list, batched: list, params: dict) -> Any:
    (x,) = vals
    shape = tuple(params["shape"])
    stack = shape_of(x)
    n = stack[0]
    name = prim.name
    if name == "reshape":
        return _reshape(x, (n, *shape))
    if name == "broadcast_to":
        x = _align(x, len(shape))
    elif name == "sum_to":
        lead = len(stack) - 1 - len(shape)
        if lead == 0 and stack[1:] == shape:
            return x  # what sum_to gives an array of the shape already
        if lead > 0:  # drop one tangent's leading axes here; sum_to would take the batch's
            x = sum_p(x, axis=tuple(range(1, lead + 1)), keepdims=False)
            if stack[lead + 1:] == shape:
                return x  # a bias's cotangent: nothing left to sum
        elif lead < 0:  # a smaller cotangent is spread over the shape
            return broadcast_to(_align(x, len(shape)), (n, *shape))
    return prim(x, **{**params, "shape": (n, *shape)})


def _transpose(prim: Any, vals: list, batched: list, params: dict) -> Any:
    (x,) = vals
    ndim = len(shape_of(x)) - 1
    axes = params.get("axes")
    axes = range(ndim - 1, -1, -1) if axes is None else axes
    axes = (0, *(_shift(a, ndim, "transpose") for a in axes))
    if type(x) is ndarray:
        try:
            return x.transpose(axes)
        except ValueError:
            pass  # a repeated axis: the primitive names itself in the error
    return prim(x, axes=axes)


def _expand_dims(prim: Any, vals: list, batched: list, params: dict) -> Any:
    (x,) = vals
    axis = params["axis"]
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out_ndim = len(shape_of(x)) - 1 + len(axes)
    return bind(prim, x, axis=tuple(_shift(a, out_ndim, "expand_dims") for a in axes))


def _squeeze(prim: Any, vals: list, batched: list, params: dict) -> Any:
    (x,) = vals
    shape = shape_of(x)[1:]
    axis = params.get("axis")
    if axis is None:  # every unit axis of one tangent, never the batch axis
        axis = tuple(i for i, d in enumerate(shape) if d == 1)
    return bind(prim, x, axis=_shift(axis, len(shape), "squeeze"))


def _diagonal_embed(prim: Any, vals: list, batched: list, params: dict) -> Any:
    (d,) = vals
    n = shape_of(d)[0]
    return bind(prim, d, **{**params, "shape": (n, *params["shape"]),
                            "axis1": params["axis1"] + 1, "axis2": params["axis2"] + 1})


def _is_array_index(e: Any) -> bool:
    return isinstance(e, (list, bool, xp.bool_)) or (
        hasattr(e, "shape") and not isinstance(e, (builtins.slice, xp.integer)))


def _index_with_batch(index: Any) -> tuple | None:
    """``index`` for a stack: a leading full slice, unless NumPy would then move
    advanced-index axes in front of the batch axis (they are not adjacent)."""
    index = index if isinstance(index, tuple) else (index,)
    arrays = [i for i, e in enumerate(index) if _is_array_index(e)]
    if arrays:
        advanced = [i for i, e in enumerate(index)
                    if i in arrays or isinstance(e, (int, xp.integer))]
        if advanced[-1] - advanced[0] + 1 != len(advanced):
            return None
    return (builtins.slice(None), *index)


def _getitem(prim: Any, vals: list, batched: list, params: dict) -> Any:
    index = _index_with_batch(params["index"])
    if index is None:
        return NotImplemented
    x = vals[0]
    if type(x) is ndarray:
        try:
            return x[index]
        except (IndexError, TypeError, ValueError):
            pass  # the primitive says which operation failed
    return prim(x, index=index)


def _scatter_add(prim: Any, vals: list, batched: list, params: dict) -> Any:
    (g,) = vals
    shape, index = tuple(params["shape"]), params["index"]
    batch_index = _index_with_batch(index)
    if batch_index is None:
        return NotImplemented
    n = shape_of(g)[0]
    target = xp.broadcast_to(xp.empty((), dtype=bool), shape)[index].shape
    g = _align(g, len(target))  # add.at broadcasts g over the indexed part
    return bind(prim, g, shape=(n, *shape), index=batch_index)


def _gather_layout(x_ndim: int, vals: list, batched: list, template: tuple) -> tuple:
    """What the batched ``gather``/``scatter`` index needs, for one example's template:
    (template with Ellipsis spelled out and plain masks as integer arrays, index
    arrays lined up after a leading batch axis, the advanced indices' broadcast
    shape B for one example, and ``pre``: how many output axes come before B)."""
    parts: list[Any] = []
    for e in template:  # a plain mask is its positions, one integer array per axis
        if hasattr(e, "dtype") and not isinstance(e, Slot) and xp.dtype(e.dtype).kind == "b":
            parts.extend(xp.nonzero(e))
        else:
            parts.append(e)
    used = builtins.sum(1 for e in parts if e is not None and e is not Ellipsis)
    k = next((i for i, e in enumerate(parts) if e is Ellipsis), None)
    if k is not None:
        parts[k:k + 1] = [builtins.slice(None)] * (x_ndim - used)
    arrays = list(vals[1:])
    advanced = [i for i, e in enumerate(parts) if isinstance(e, Slot) or _is_array_index(e)
                or isinstance(e, (int, xp.integer))]
    shapes = [_example_shape(arrays[e.k], batched[1 + e.k]) if isinstance(e, Slot)
              else xp.shape(e) for e in (parts[i] for i in advanced)]
    b_shape = tuple(shapes[0]) if len(shapes) == 1 else xp.broadcast_shapes(*shapes)
    for e in parts:
        if isinstance(e, Slot) and batched[1 + e.k]:
            a = arrays[e.k]
            shape = shape_of(a)
            arrays[e.k] = reshape(a, (shape[0],) + (1,) * (len(b_shape) - len(shape) + 1)
                                  + shape[1:])
    adjacent = advanced[-1] - advanced[0] + 1 == len(advanced)
    pre = builtins.sum(1 for e in parts[:advanced[0]]) if adjacent else 0
    return tuple(parts), arrays, b_shape, pre


def _bool_scalar_in(index: tuple) -> bool:
    return builtins.any(isinstance(e, (bool, xp.bool_)) for e in index)


def _gather(prim: Any, vals: list, batched: list, params: dict) -> Any:
    """Each example indexed by its own index: a leading ``arange`` index pairs example k
    of ``x`` with example k of the index arrays; NumPy then puts the advanced axes
    first, so they move back to where one example's indexing puts them."""
    if _bool_scalar_in(params["index"]):
        return NotImplemented  # x[True]'s new axis: the per-example fallback
    x = vals[0]
    n = _batch_size(vals, batched)
    parts, arrays, b_shape, pre = _gather_layout(len(_example_shape(x, batched[0])),
                                                 vals, batched, params["index"])
    if not batched[0]:
        if not builtins.any(batched[1:]):
            return NotImplemented
        out = bind(prim, x, *arrays, index=parts)  # the batch axis leads the advanced block
        return moveaxis(out, pre, 0) if pre else out
    rows = xp.arange(n).reshape((n,) + (1,) * len(b_shape))
    out = bind(prim, x, *arrays, index=(rows, *parts))
    if not pre:
        return out
    k = len(b_shape)
    return bind(registry["transpose"], out, axes=(0, *range(k + 1, k + 1 + pre),
                                                   *range(1, k + 1),
                                                   *range(k + 1 + pre, len(shape_of(out)))))


def _scatter(prim: Any, vals: list, batched: list, params: dict) -> Any:
    """The transpose of ``_gather``: the cotangent laid out as the batched gather's output,
    added into a stack of zeros at (example, that example's index)."""
    if _bool_scalar_in(params["index"]):
        return NotImplemented
    g = vals[0]
    n = _batch_size(vals, batched)
    shape = tuple(params["shape"])
    parts, arrays, b_shape, pre = _gather_layout(len(shape), vals, batched, params["index"])
    one = xp.empty(shape, dtype=bool)[fill(parts, [xp.zeros(shape_of(a)[1:] if b else
                                                            shape_of(a), dtype=int)
                                                   for a, b in zip(vals[1:], batched[1:])])]
    target = (n, *one.shape)  # one example's gathered shape, per example
    g = _broadcast_to(_align(g, len(one.shape)) if batched[0] else g, target)
    k = len(b_shape)
    if pre:
        g = bind(registry["transpose"], g, axes=(0, *range(pre + 1, pre + 1 + k),
                                                 *range(1, pre + 1),
                                                 *range(pre + 1 + k, len(target))))
    rows = xp.arange(n).reshape((n,) + (1,) * k)
    return bind(prim, g, *arrays, shape=(n, *shape), index=(rows, *parts))


def _concatenate(prim: Any, vals: list, batched: list, params: dict) -> Any:
    axis = params.get("axis", 0)
    if axis is None:
        return NotImplemented
    n = _batch_size(vals, batched)
    ndim = len(_example_shape(vals[0], batched[0]))
    parts = [v if b else broadcast_to(v, (n, *shape_of(v))) for v, b in zip(vals, batched)]
    return bind(prim, *parts, axis=_shift(axis, ndim, "concatenate"))


def _pad(prim: Any, vals: list, batched: list, params: dict) -> Any:
    if builtins.any(batched[1:]):
        return NotImplemented
    ndim = len(shape_of(vals[0])) - 1
    widths = xp.broadcast_to(xp.asarray(params["pad_width"], dtype=int), (ndim, 2))
    pad_width = ((0, 0), *((int(lo), int(hi)) for lo, hi in widths))
    return bind(prim, *vals, **{**params, "pad_width": pad_width})


def _matmul(prim: Any, vals: list, batched: list, params: dict) -> Any:
    """Vectors become a row (x) or a column (y); ranks are lined up after the batch
    axis so NumPy broadcasts one tangent's batch dims against the other operand's.
    A stack times one matrix is one product of all its rows (not one per tangent),
    and a stack of outer products (the per-example weight gradient) has no sum."""
    (x, y), (bx, by) = vals, batched
    sx, sy = _example_shape(x, bx), _example_shape(y, by)
    if not sx or not sy:
        return NotImplemented  # matmul raises on scalars; the fallback says so
    if bx and not by and len(sy) <= 2 and sx[-1] == sy[0]:
        # every tangent times the same y: the rows of the whole stack through ONE
        # product instead of one per tangent
        n = shape_of(x)[0]
        lead = sx[:-1]
        rows = _reshape(x, (n * math.prod(lead), sx[-1])) if lead else x
        out = prim(rows, y)
        return _reshape(out, (n, *lead, *sy[1:])) if lead else out
    if by and not bx and len(sy) == 1 and len(sx) <= 2 and sx[-1] == sy[0]:
        # one x times a stack of vectors: the stack's rows times x's transpose
        return prim(y, _swap_last(x) if len(sx) == 2 else x)
    x_vec, y_vec = len(sx) == 1, len(sy) == 1
    sx = (1, *sx) if x_vec else sx
    sy = (*sy, 1) if y_vec else sy
    rank = builtins.max(len(sx), len(sy))
    n = _batch_size(vals, batched)

    def lined_up(v: Any, b: bool, s: tuple) -> Any:
        want = ((n,) if b else ()) + (1,) * (rank - len(s)) + s
        return v if shape_of(v) == want else _reshape(v, want)

    x, y = lined_up(x, bx, sx), lined_up(y, by, sy)
    if sx[-1] == 1 == sy[-2] and not x_vec and not y_vec:
        out = _outer(prim, x, y, sx[-2], sy[-1])
    else:
        out = prim(x, y)
    if not (x_vec or y_vec):
        return out
    shape = shape_of(out)
    return _reshape(out, shape[:-2] + (() if x_vec else shape[-2:-1])
                    + (() if y_vec else shape[-1:]))


def _outer(prim: Any, x: Any, y: Any, m: int, p: int) -> Any:
    """``x @ y`` for x (..., m, 1) and y (..., 1, p): one product per element, no sum.

    On plain arrays NumPy's einsum makes them (the values matmul gives, down to the
    sign of a zero) with its inner loop along the longer of m and p: the result is
    then a view of the (..., p, m) array when p is the shorter. A broadcasting
    multiply takes 1.5 (m < p) to 4 (m > p) times as long, a stack of matrix
    products with one column and one row six times."""
    if type(x) is ndarray and type(y) is ndarray and x.dtype.kind in _NUMERIC \
            and y.dtype.kind in _NUMERIC:
        try:
            if p >= m:
                return xp.einsum("...ik,...kj->...ij", x, y)
            return xp.einsum("...ik,...kj->...ji", x, y).swapaxes(-1, -2)
        except ValueError:
            return prim(x, y)  # batch dims that do not broadcast: matmul says so
    return registry["multiply"](x, y)


_NUMERIC = "biufc"


def _tensordot(prim: Any, vals: list, batched: list, params: dict) -> Any:
    (x, y), (bx, by) = vals, batched
    xa, ya = params["axes"]
    if bx and by:
        return NotImplemented
    if bx:  # the batch axis is x's first free axis: it leads the output
        return bind(prim, x, y, axes=(tuple(a + 1 for a in xa), tuple(ya)))
    out = bind(prim, x, y, axes=(tuple(xa), tuple(b + 1 for b in ya)))
    return moveaxis(out, len(shape_of(x)) - len(xa), 0)


def _einsum(prim: Any, vals: list, batched: list, params: dict) -> Any:
    subscripts = params["subscripts"]
    letter = next(c for c in string.ascii_letters if c not in subscripts)
    lhs, rhs = subscripts.split("->")
    terms = [letter + t if b else t for t, b in zip(lhs.split(","), batched)]
    return bind(prim, *vals, subscripts=",".join(terms) + "->" + letter + rhs)


def _solve(prim: Any, vals: list, batched: list, params: dict) -> Any:
    (a, b), (batched_a, _) = vals, batched
    if batched_a:
        return NotImplemented
    shape = shape_of(b)
    if len(shape) == 2:  # each right-hand side a vector: a one-column matrix, a's batch dims
        column = reshape(b, (shape[0],) + (1,) * (len(shape_of(a)) - 2) + (shape[1], 1))
        return squeeze(bind(prim, a, column), -1)
    return bind(prim, a, _align(b, len(shape_of(a))))


def _image_wise(prim: Any, vals: list, batched: list, params: dict) -> Any:
    """Convolutions and windows treat each image of axis 0 alike: the stack
    merges into that axis (n stacks of N images are n*N images) and splits again."""
    if builtins.any(batched[1:]):
        return NotImplemented  # a stack of filters: the fallback
    x = vals[0]
    shape = shape_of(x)
    new = dict(params)
    if "shape" in params:  # the output's shape, images first
        new["shape"] = (shape[0] * params["shape"][0], *params["shape"][1:])
    out = bind(prim, reshape(x, (shape[0] * shape[1], *shape[2:])), *vals[1:], **new)
    return reshape(out, (shape[0], shape[1], *shape_of(out)[1:]))


def _matrix_wise(prim: Any, vals: list, batched: list, params: dict) -> Any:
    return bind(prim, *vals, **params)


_ELEMENTWISE = (
    "add subtract multiply divide negative power reciprocal square exp expm1 log log1p "
    "log2 log10 sqrt cbrt sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh "
    "arctanh sigmoid softplus erf where relu abs sign maximum minimum clip floor ceil round "
    "equal not_equal less less_equal greater greater_equal logical_and logical_or "
    "logical_not isfinite isnan astype identity stop_gradient floor_divide remainder copy "
    "one_hot real imag conj angle keep_zeros").split()

# NumPy's linear algebra maps over leading axes itself: a stack of matrices is a
# batch of matrices, so one call serves the whole stack
_MATRIX_WISE = ("inv", "det", "logabsdet", "slogdet_sign")

# Registered primitives with no entry, applied tangent by tangent (``_one_by_one``),
# and why; tests/test_vmap.py checks this list against the registry.
FALLBACK = {
    "argwhere": "its output's length depends on the values: no common shape to stack",
    "conv_filter": "the filter cotangent of a convolution: runs only inside conv's rules",
    "gru_sequence": "a fused recurrent kernel over a whole sequence",
    "lstm_sequence": "a fused recurrent kernel over a whole sequence",
}

RULES: dict[str, BatchRule] = {name: _elementwise for name in _ELEMENTWISE}
RULES.update({name: _axis_params("axis") for name in (
    "sum", "mean", "max", "min", "logsumexp", "prod", "var", "std", "vector_norm", "all",
    "any", "flip")})
RULES.update({name: _axis_params("axis", none_means_all=False) for name in (
    "softmax", "log_softmax", "sort", "argsort", "topk", "argmax", "argmin")})
RULES.update({name: _matrix_wise for name in _MATRIX_WISE})
RULES.update({
    "cumsum": _axis_params("axis", none_means_all=False),
    "cumprod": _axis_params("axis", none_means_all=False),
    "diagonal": _axis_params("axis1", "axis2", none_means_all=False),
    "diagonal_embed": _diagonal_embed,
    "sum_to": _with_shape,
    "broadcast_to": _with_shape,
    "reshape": _with_shape,
    "transpose": _transpose,
    "expand_dims": _expand_dims,
    "squeeze": _squeeze,
    "getitem": _getitem,
    "gather": _gather,
    "scatter": _scatter,
    "scatter_add": _scatter_add,
    "concatenate": _concatenate,
    "pad": _pad,
    "matmul": _matmul,
    "tensordot": _tensordot,
    "einsum": _einsum,
    "solve": _solve,
    "conv": _image_wise,
    "conv_transpose": _image_wise,
    "windows": _image_wise,
    "windows_adjoint": _image_wise,
})
