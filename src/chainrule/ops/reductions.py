"""Reductions over ``axis`` (None, an int or a tuple) with ``keepdims``.

Every rule first restores the reduced axes of the cotangent (``_unreduce``)
and then broadcasts it back over the input.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import dtype_of, is_float_dtype, ndarray, ndim_of, shape_of, xp
from chainrule.core.primitive import Primitive, defpartials
from chainrule.ops.arithmetic import power
from chainrule.ops.elementary import exp
from chainrule.ops.nondiff import not_equal
from chainrule.ops.nonsmooth import abs, abs_slope, sign_in_rules, where
from chainrule.ops.scans import products_of_others
from chainrule.ops.shape import astype, broadcast_to, checked_axis, reshape, squeeze
from chainrule.subgradients import choice, concrete, summary, watch

Axis = int | tuple[int, ...] | None

__all__ = [
    "sum",
    "mean",
    "max",
    "min",
    "logsumexp",
    "prod",
    "var",
    "std",
    "norm",
]


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim if ndim else a for a in axis))


def _kept_shape(shape, axis):
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _unreduce(g, x, axis, keepdims):
    """Give a reduced cotangent back the reduced axes (size 1), then broadcast."""
    if type(x) is ndarray and (type(g) is ndarray or isinstance(g, xp.generic)):
        shape = x.shape  # a first-order sweep: NumPy directly
        if axis is None and shape and x.size:  # one number everywhere (a loss's mean)
            view = ndarray(shape, g.dtype, g.reshape(1), 0, (0,) * len(shape))
            view.flags.writeable = False
            return view
        kept = _kept_shape(shape, axis)
        g = xp.reshape(g, kept)  # (a view; checks the size)
        if g.flags.c_contiguous and g.size:
            # a read-only view with stride 0 along the reduced axes, made in C: what
            # xp.broadcast_to(g, shape) gives, without its ~2 us of Python
            view = ndarray(shape, g.dtype, g, 0, tuple(0 if n == 1 else s for n, s in
                                                       zip(kept, g.strides)))
            view.flags.writeable = False
            return view
        return xp.broadcast_to(g, shape)
    shape = shape_of(x)
    if not keepdims:
        g = reshape(g, shape=_kept_shape(shape, axis))
    return broadcast_to(g, shape=shape)


def _count(x, axis):
    shape = shape_of(x)
    n = 1
    for a in _axes(axis, len(shape)):
        n *= shape[a]
    return n


def _sum_impl(x, axis=None, keepdims=False, _reduce=xp.add.reduce):
    # what xp.sum runs for an array, without its Python wrapper (~2 us a call)
    if type(x) is ndarray:
        return _reduce(x, axis=axis, keepdims=keepdims)
    return xp.sum(x, axis=axis, keepdims=keepdims)


def _mean_impl(x, axis=None, keepdims=False, _reduce=xp.add.reduce):
    # xp.mean's own steps for float32/float64 (the same sum, divided by the count),
    # without its ~5 us of Python; other dtypes, empty arrays and counts a float32 cannot
    # hold exactly go through xp.mean
    if type(x) is ndarray and x.dtype.char in "fd" and 0 < x.size < 1 << 24:
        return _reduce(x, axis=axis, keepdims=keepdims) / _count(x, axis)
    return xp.mean(x, axis=axis, keepdims=keepdims)


sum_p = Primitive("sum", _sum_impl)
sum_p.defvjp(lambda g, out, x, axis=None, keepdims=False: _unreduce(g, x, axis, keepdims))
sum_p.defjvp(lambda dx, out, x, axis=None, keepdims=False: sum(dx, axis=axis, keepdims=keepdims))

mean_p = Primitive("mean", _mean_impl)
# divided before it is broadcast: the cotangent stays a stride-0 view, not a new array
mean_p.defvjp(lambda g, out, x, axis=None, keepdims=False: _unreduce(
    g / (x.size if axis is None and type(x) is ndarray else _count(x, axis)), x, axis,
    keepdims))
mean_p.defjvp(lambda dx, out, x, axis=None, keepdims=False:
            mean(dx, axis=axis, keepdims=keepdims))


def _extremum_share(out, x, axis, keepdims, ties):
    """Each element's share of the cotangent: ties share evenly (the minimum-norm
    subgradient), or under ``choice(ties) == "first"`` (max pooling under the pytorch
    and jax policies) the first maximum in C order takes it all."""
    hit = _data(x == _unreduce(out, x, axis, keepdims))
    if choice(ties) == "first":
        return _first_only(xp.asarray(hit), _axes(axis, ndim_of(x))).astype(dtype_of(x))
    count = xp.sum(hit, axis=axis, keepdims=True)
    return hit / count


def _first_only(hit, axes):
    ends = tuple(range(-len(axes), 0))
    moved = xp.moveaxis(hit, axes, ends)
    flat = moved.reshape(*moved.shape[:hit.ndim - len(axes)], -1)
    first = flat & (xp.cumsum(flat, axis=-1) == 1)
    return xp.moveaxis(first.reshape(moved.shape), ends, axes)


def _data(v):
    return getattr(v, "data", v)


def _extremum(name, reduce):
    def impl(x, axis=None, keepdims=False, ties=name):
        out = reduce(x, axis=axis, keepdims=keepdims)
        if watch.active:
            watch.check(prim, (x,), out, {"axis": axis, "keepdims": keepdims, "ties": ties})
        return out

    prim = Primitive(name, impl, kink=summary(name))
    prim.defvjp(lambda g, out, x, axis=None, keepdims=False, ties=name:
                _unreduce(g, x, axis, keepdims) * _extremum_share(out, x, axis, keepdims, ties))
    prim.defjvp(lambda dx, out, x, axis=None, keepdims=False, ties=name:
                sum(dx * _extremum_share(out, x, axis, keepdims, ties), axis=axis,
                    keepdims=keepdims))
    return prim


max_p = _extremum("max", xp.max)
min_p = _extremum("min", xp.min)


def _logsumexp_impl(x, axis=None, keepdims=False):
    x = xp.asarray(x)
    if x.size == 0:  # the log of an empty sum: -inf over an empty axis, as in PyTorch
        with xp.errstate(divide="ignore"):
            out = xp.log(xp.sum(xp.exp(x), axis=axis, keepdims=keepdims))
        return out
    peak = xp.max(x, axis=axis, keepdims=True)
    peak = xp.where(xp.isfinite(peak), peak, 0)  # all -inf rows stay -inf, not nan
    out = xp.log(xp.sum(xp.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else xp.squeeze(out, axis=_axes(axis, x.ndim))


def _logsumexp_weights(out, x, axis, keepdims):
    return exp(x - _unreduce(out, x, axis, keepdims))  # the softmax of x along axis


logsumexp_p = Primitive("logsumexp", _logsumexp_impl)
logsumexp_p.defvjp(lambda g, out, x, axis=None, keepdims=False:
                 _unreduce(g, x, axis, keepdims) * _logsumexp_weights(out, x, axis, keepdims))
logsumexp_p.defjvp(lambda dx, out, x, axis=None, keepdims=False:
                 sum(dx * _logsumexp_weights(out, x, axis, keepdims), axis=axis,
                     keepdims=keepdims))

# ----- prod: the gradient is the product of the other elements, zeros included -----

prod_p = Primitive("prod", lambda x, axis=None, keepdims=False:
                   xp.prod(x, axis=axis, keepdims=keepdims))
prod_p.defvjp(lambda g, out, x, axis=None, keepdims=False:
              _unreduce(g, x, axis, keepdims) * products_of_others(x, axis))
prod_p.defjvp(lambda dx, out, x, axis=None, keepdims=False:
              sum(dx * products_of_others(x, axis), axis=axis, keepdims=keepdims))


# ----- variance and standard deviation; dof = n - ddof -----

def _centered(x, axis):
    return x - mean(x, axis=axis, keepdims=True)


def _dof(x, axis, ddof):
    return float(_count(x, axis) - ddof)


var_p = Primitive("var", lambda x, axis=None, keepdims=False, ddof=0:
                  xp.var(x, axis=axis, keepdims=keepdims, ddof=ddof))
var_p.defvjp(lambda g, out, x, axis=None, keepdims=False, ddof=0:
             _unreduce(g, x, axis, keepdims) * _centered(x, axis) * (2.0 / _dof(x, axis, ddof)))
var_p.defjvp(lambda dx, out, x, axis=None, keepdims=False, ddof=0:
             sum(dx * _centered(x, axis), axis=axis, keepdims=keepdims)
             * (2.0 / _dof(x, axis, ddof)))


def _at_zero(slope, out, x, axis, keepdims, name):
    """``slope``, except where ``out == 0``: there the policy's choice (0 by default).

    Selected by ``where`` even when the slope is already 0 there, so that its
    derivative is 0 too: the Hessian of the norm (of std) at its kink is 0, as
    abs''(0) is, not an artefact of the safe denominator (which gave I)."""
    values = concrete(out)
    if values is not None and not (xp.asarray(values) == 0).any():
        return slope  # no slice at the kink: the common case costs one comparison
    return where(_unreduce(out == 0, x, axis, keepdims), choice(name), slope)


def _std_slope(out, x, axis, keepdims, ddof):
    # (x - mean) / (dof * std); where std == 0, x - mean == 0 too, so dividing by 1 gives 0
    safe = where(out == 0, 1.0, out)
    slope = _centered(x, axis) / (_unreduce(safe, x, axis, keepdims) * _dof(x, axis, ddof))
    return _at_zero(slope, out, x, axis, keepdims, "std")


def _std_impl(x, axis=None, keepdims=False, ddof=0):
    out = xp.std(x, axis=axis, keepdims=keepdims, ddof=ddof)
    if watch.active:
        watch.check(std_p, (x,), out, {"axis": axis, "keepdims": keepdims, "ddof": ddof})
    return out


std_p = Primitive("std", _std_impl, kink=summary("std"))
std_p.defvjp(lambda g, out, x, axis=None, keepdims=False, ddof=0:
             _unreduce(g, x, axis, keepdims) * _std_slope(out, x, axis, keepdims, ddof))
std_p.defjvp(lambda dx, out, x, axis=None, keepdims=False, ddof=0:
             sum(dx * _std_slope(out, x, axis, keepdims, ddof), axis=axis, keepdims=keepdims))


# ----- the vector p-norm (p finite, non-zero), the core of every differentiable norm -----

def _vector_norm_impl(x, ord, axis=None, keepdims=False):
    # scaled by the largest magnitude, so x**p neither overflows nor underflows
    mag = xp.abs(xp.asarray(x))
    top = xp.max(mag, axis=axis, keepdims=True, initial=0.0)
    scale = xp.where(xp.isfinite(top) & (top > 0), top, 1.0)
    with xp.errstate(divide="ignore"):  # ord < 0 with a zero element: the norm is 0
        if ord == 2:
            out = xp.sqrt(xp.sum(xp.square(mag / scale), axis=axis, keepdims=True)) * scale
        else:
            total = xp.sum((mag / scale) ** ord, axis=axis, keepdims=True)
            out = total ** (1.0 / ord) * scale
    out = out if keepdims else xp.squeeze(out, axis=_axes(axis, mag.ndim))
    if watch.active:
        watch.check(vector_norm_p, (x,), out, {"ord": ord, "axis": axis, "keepdims": keepdims})
    return out


def _signed_power_impl(x, a):
    with xp.errstate(divide="ignore"):
        out = xp.copysign(xp.abs(x) ** a, x)
    return xp.where(x == 0, xp.nan, out) if a < 0 else out  # a < 0 at 0: undefined


# sign(x) |x|**a, whose derivative a |x|**(a - 1) is +inf at 0 for 0 < a < 1: the
# p-norm's slope for 1 < p < 2 (a product with sign(x) would give 0 * inf there)
signed_power = Primitive("signed_power", _signed_power_impl, register=False)
defpartials(signed_power, lambda out, x, a: a * power(sign_in_rules(x) * x, a - 1.0))


def _constant(value):
    """``value``'s numbers, held constant (1 for a symbolic value)."""
    data = concrete(value)
    return 1.0 if data is None else xp.asarray(data)


def _vector_norm_slope(out, x, ord, axis, keepdims):
    # sign(x) * (|x| / norm)**(p - 1); where the norm is 0, x is 0 and this gives 0
    if ord == 1:  # sum(|x|): a zero element is abs's kink, so abs's choice (jax: 1)
        return abs_slope(x)
    safe = where(out == 0, 1.0, out)
    if ord == 2:
        slope = x / _unreduce(safe, x, axis, keepdims)
    else:
        # two factors, each scaled by the norm's value (a constant) against overflow:
        # an infinite d slope / dx at a zero element (1 < p < 2) then meets no 0 on
        # its way back, so the Hessian there is +inf, the limit, not nan
        kept = safe if keepdims else reshape(safe, shape=_kept_shape(shape_of(x), axis))
        scale = _constant(kept)
        slope = signed_power(x / scale, a=ord - 1.0) * power(kept / scale, 1.0 - ord)
    return _at_zero(slope, out, x, axis, keepdims, "vector_norm")


vector_norm_p = Primitive("vector_norm", _vector_norm_impl, kink=summary("vector_norm"))
vector_norm_p.defvjp(lambda g, out, x, ord, axis=None, keepdims=False:
                     _unreduce(g, x, axis, keepdims) * _vector_norm_slope(out, x, ord, axis,
                                                                          keepdims))
def _vector_norm_jvp(dx, out, x, ord, axis=None, keepdims=False):
    terms = dx * _vector_norm_slope(out, x, ord, axis, keepdims)
    if 1 < ord < 2 and _has_zero(x):  # the slope's tangent is inf there: keep 0 * inf at 0
        terms = where(dx == 0, 0.0, terms)
    return sum(terms, axis=axis, keepdims=keepdims)


def _has_zero(x):
    data = concrete(x)
    return data is None or bool((xp.asarray(data) == 0).any())


vector_norm_p.defjvp(_vector_norm_jvp)


# Public functions: NumPy's signatures over the primitives above.

def _axis(axis):
    return axis if axis is None or isinstance(axis, int) else tuple(int(a) for a in axis)


def sum(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Like ``numpy.sum``: the sum over ``axis`` (all axes by default); each summed element
    gets the cotangent unchanged (it is broadcast back)."""
    return sum_p(x, axis=_axis(axis), keepdims=bool(keepdims))


def mean(x, axis=None, keepdims=False):
    """Like ``numpy.mean``: the mean over ``axis`` (all axes by default); each averaged
    element gets the cotangent divided by their count."""
    return mean_p(x, axis=_axis(axis), keepdims=bool(keepdims))


def max(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Like ``numpy.max``; tied maxima share the cotangent evenly."""
    return max_p(x, axis=_axis(axis), keepdims=bool(keepdims))


def min(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Like ``numpy.min``; tied minima share the cotangent evenly."""
    return min_p(x, axis=_axis(axis), keepdims=bool(keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed without overflow; its gradient is the softmax."""
    return logsumexp_p(x, axis=_axis(axis), keepdims=bool(keepdims))


def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """Like ``numpy.prod``. The gradient is the product of the other elements,
    computed without division, so it is exact (to every order) when ``x`` holds zeros.

    >>> import numpy as np, chainrule as cr
    >>> cr.grad(cr.prod)(np.array([2.0, 0.0, 3.0]))
    array([0., 6., 0.])
    """
    return prod_p(x, axis=checked_axis("prod", axis, ndim_of(x)), keepdims=bool(keepdims))


def _checked_ddof(name, x, axis, ddof):
    if isinstance(ddof, bool) or not isinstance(ddof, (int, xp.integer)) or ddof < 0:
        raise ValueError(f"{name}: ddof must be a non-negative int, got {ddof!r}")
    n = _count(x, axis)
    if ddof >= n:
        raise ValueError(f"{name}: ddof={ddof} leaves no degrees of freedom; it must be "
                         f"less than the {n} element(s) reduced")
    return int(ddof)


def var(x: Any, axis: Axis = None, *, ddof: int = 0, keepdims: bool = False) -> Any:
    """Like ``numpy.var``: the sum of squared deviations divided by ``n - ddof``.

    ``ddof`` is PyTorch's ``correction``; it must be less than ``n`` (where
    NumPy returns inf or nan, this raises ValueError).

    >>> import chainrule as cr
    >>> float(cr.var(cr.tensor([1.0, 2.0, 3.0, 4.0]), ddof=1))
    1.666...
    """
    axis = checked_axis("var", axis, ndim_of(x))
    ddof = _checked_ddof("var", x, axis, ddof)
    return var_p(x, axis=axis, keepdims=bool(keepdims), ddof=ddof)


def std(x: Any, axis: Axis = None, *, ddof: int = 0, keepdims: bool = False) -> Any:
    """Like ``numpy.std``: the square root of ``var``.

    Where all reduced elements are equal (std == 0) the gradient is 0, the
    minimum-norm subgradient (as for ``norm`` at 0), not nan.

    >>> import numpy as np, chainrule as cr
    >>> cr.grad(cr.std)(np.array([2.0, 2.0]))
    array([0., 0.])
    """
    axis = checked_axis("std", axis, ndim_of(x))
    ddof = _checked_ddof("std", x, axis, ddof)
    return std_p(x, axis=axis, keepdims=bool(keepdims), ddof=ddof)


def norm(x: Any, ord: float | str | None = None, axis: Axis = None,  # noqa: A002
         keepdims: bool = False) -> Any:
    """Like ``numpy.linalg.norm``: a vector norm along one axis, a matrix norm over two.

    Without ``axis`` and ``ord`` it is the 2-norm of all elements (Frobenius
    for a matrix); with ``ord`` and no ``axis``, ``x`` must be 1-D or 2-D.
    Vector orders: any finite non-zero p (``sum(|x|**p)**(1/p)``), ``inf``,
    ``-inf``, and 0 (the count of non-zero entries: piecewise constant, so
    it carries no gradient). Matrix orders: ``'fro'``, 1, -1, ``inf``,
    ``-inf``; 2, -2 and ``'nuc'`` need singular values and raise
    NotImplementedError.

    At x = 0 the gradient is 0 (the minimum-norm subgradient; the norm has
    a kink there), and an element x_i = 0 gets 0 from the 1-norm. For
    1 < p < 2 the Hessian at a zero element of a non-zero slice is +inf (the
    limit: the gradient has a vertical tangent there). Orders below 1 are not
    norms: their gradient at a zero element is undefined (nan).

    >>> import numpy as np, chainrule as cr
    >>> float(cr.norm(np.array([3.0, 4.0])))
    5.0
    >>> cr.grad(cr.norm)(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    >>> cr.grad(cr.norm)(np.zeros(2))
    array([0., 0.])
    """
    if not is_float_dtype(dtype_of(x)):  # NumPy's norms of integers are floats
        x = astype(x, xp.float64)
    ndim = ndim_of(x)
    if axis is None and ord is None:
        return vector_norm_p(x, ord=2.0, axis=None, keepdims=bool(keepdims))
    if axis is None:
        if ndim not in (1, 2):
            raise ValueError(f"norm: with ord={ord!r} and no axis, x must be 1-D or 2-D, "
                             f"got {ndim}-D; pass axis=")
        axis = tuple(range(ndim))
    axis = checked_axis("norm", axis, ndim)
    axis = (axis,) if isinstance(axis, int) else axis
    if len(axis) == 1:
        return _vector_norm(x, ord, axis, bool(keepdims))
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, bool(keepdims))
    raise ValueError(f"norm: axis must name one axis (a vector norm) or two (a matrix "
                     f"norm), got {axis!r}")


def _vector_norm(x, ord, axis, keepdims):
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid order {ord!r} for vectors")
    p = 2.0 if ord is None else float(ord)
    if p == xp.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if p == -xp.inf:
        return min(abs(x), axis=axis, keepdims=keepdims)
    if p == 0:
        count = sum(not_equal(x, 0.0), axis=axis, keepdims=keepdims)
        return astype(count, dtype_of(x))
    return vector_norm_p(x, ord=p, axis=axis, keepdims=keepdims)


def _matrix_norm(x, ord, axis, keepdims):
    row, col = axis
    if ord is None or ord == "fro":
        return vector_norm_p(x, ord=2.0, axis=axis, keepdims=keepdims)
    if isinstance(ord, str) and ord != "nuc":
        raise ValueError(f"norm: invalid order {ord!r} for matrices")
    if ord in (2, -2, "nuc"):
        raise NotImplementedError(f"norm: ord={ord!r} for matrices needs singular values, "
                                  f"which chainrule does not compute yet")
    if ord in (1, -1):  # the largest (smallest) column sum of |x|
        inner, outer = row, col
    elif ord in (xp.inf, -xp.inf):  # the largest (smallest) row sum of |x|
        inner, outer = col, row
    else:
        raise ValueError(f"norm: invalid order {ord!r} for matrices")
    pick = max if ord > 0 else min
    out = pick(sum(abs(x), axis=inner, keepdims=True), axis=outer, keepdims=True)
    return out if keepdims else squeeze(out, axis=(row, col))


# ----- Taylor series rules (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.ops import series as _s  # noqa: E402

for _prim in (sum_p, mean_p):
    _s.defseries(_prim, _s.linear(_prim))
