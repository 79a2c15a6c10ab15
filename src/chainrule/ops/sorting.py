"""Sorting: ``sort``, ``argsort`` and ``topk``, whose gradients go through the permutation.

A sort only moves values, so away from ties its Jacobian is the permutation
it applied: the JVP gathers the tangent in sorted order and the VJP scatters
the cotangent back to where each value came from. At a tie (m equal
elements in a slice) every order of them sorts the slice, and the Clarke
Jacobian is the hull of those permutation matrices. Under the default
``"min-norm"`` policy the rules take the average of them (the centre of the
hull, the one of least norm): the cotangents of the tied outputs are
averaged before being routed, so each tied element gets 1/m of their sum, as
a tie in ``max`` does. The ``"pytorch"`` and ``"jax"`` policies route through
the stable permutation, as ``torch.sort(stable=True)`` and ``jnp.sort`` do.
``cr.kinks()`` reports ties (``chainrule.subgradients.TABLE["sort"]``).

The rules use the permutation of the values they are given (piecewise
constant: it carries no derivative) and are written with ``getitem`` and
``scatter_add``, so they differentiate again: a sort's second derivative is 0.
A value traced by ``jit`` has no numbers and one mapped by ``vmap`` has the
whole batch's: for those the rules write the permutation and the tie average
with primitives (``argsort``, ``gather``, ``scatter``: ``chainrule.ops.sorting_traced``),
so a program sorts each input it is run on.

>>> import numpy as np, chainrule as cr
>>> cr.grad(lambda x: cr.sort(x)[0])(np.array([3.0, 1.0, 2.0]))
array([0., 1., 0.])
>>> cr.grad(lambda x: cr.sort(x)[0])(np.array([1.0, 1.0, 2.0]))  # a tie: shared
array([0.5, 0.5, 0. ])
"""

from __future__ import annotations

import builtins
from typing import Any

from chainrule.backend import dtype_of, ndim_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops import sorting_traced as _traced
from chainrule.ops.shape import checked_axis, getitem, pad, reshape, scatter_add_p
from chainrule.subgradients import choice, concrete, summary, watch
from chainrule.subgradients.orderings import (
    along,
    inverse,
    sorted_order,
    stable_order,
    tie_groups,
    tie_starts,
)

__all__ = ["sort", "argsort", "topk", "partition", "argpartition"]


def _order(x: Any, axis: int, descending: bool, name: str) -> tuple[Any, Any] | None:
    """The permutation of x's numbers along ``axis`` and x in that order: stable, unless
    the policy averages ties (then any order of the tied elements gives the same rule).

    None when x has no numbers of its own (traced by ``jit``, or mapped by ``vmap``:
    the numbers found are the whole batch's): the rules then write the permutation
    with primitives (``chainrule.ops.sorting_traced``), which those transforms handle."""
    data = concrete(x)
    if data is x or data is not None and ndim_of(data) == ndim_of(x):
        return sorted_order(data, axis, descending, stable=choice(name) != "average")
    if data is None and _traced.abstract_value(x) is None:
        raise TypeError(f"{name}: its derivative needs the numbers of x to find the "
                        f"permutation, and a symbolic value has none")
    return None


def _average_ties(v: Any, ordered: Any, axis: int) -> Any:
    """``v`` (laid out like ``ordered``) with the entries of each tie replaced by their mean."""
    starts = tie_starts(ordered, axis)
    if starts.all():
        return v  # no tie: the common case costs one comparison
    ids, sizes = tie_groups(starts, axis)
    sums = scatter_add_p(v, shape=(sizes.size,), index=(ids,))
    return getitem(sums, (ids,)) * (1.0 / sizes[ids]).astype(dtype_of(v))


def _sorted_tangent(dx: Any, x: Any, axis: int, descending: bool, name: str) -> Any:
    found = _order(x, axis, descending, name)
    if found is None:
        return _traced.sorted_tangent(dx, x, axis, descending, choice(name) == "average")
    perm, ordered = found
    t = getitem(dx, along(perm, axis))
    return _average_ties(t, ordered, axis) if choice(name) == "average" else t


def _routed_back(g: Any, x: Any, axis: int, descending: bool, name: str) -> Any:
    """A cotangent laid out in sorted order (full length), sent back to x's positions."""
    found = _order(x, axis, descending, name)
    if found is None:
        return _traced.routed_back(g, x, axis, descending, choice(name) == "average")
    perm, ordered = found
    if choice(name) == "average":
        g = _average_ties(g, ordered, axis)
    return getitem(g, along(inverse(perm, axis), axis))


# ----- sort: values in order along one axis -----

def _sort_impl(x, axis, descending=False):
    out = xp.sort(x, axis=axis)
    if descending:
        out = xp.flip(out, axis)
    if watch.active:
        watch.check(sort_p, (x,), out, {"axis": axis, "descending": descending})
    return out


sort_p = Primitive("sort", _sort_impl, kink=summary("sort"))
sort_p.defvjp(lambda g, out, x, axis, descending=False:
              _routed_back(g, x, axis, descending, "sort"))
sort_p.defjvp(lambda dx, out, x, axis, descending=False:
              _sorted_tangent(dx, x, axis, descending, "sort"))


# ----- topk: the k largest (smallest) values, in order -----

def _first(k: int, axis: int) -> tuple:
    return (builtins.slice(None),) * axis + (builtins.slice(0, k),)


def _topk_impl(x, k, axis, largest=True):
    out = sorted_order(x, axis, largest, stable=False)[1][_first(k, axis)]
    if watch.active:
        watch.check(topk_p, (x,), out, {"k": k, "axis": axis, "largest": largest})
    return out


def _topk_vjp(g, out, x, k, axis, largest=True):
    n = shape_of(x)[axis]
    widths = tuple((0, n - k) if d == axis else (0, 0) for d in range(ndim_of(x)))
    return _routed_back(pad(g, widths), x, axis, largest, "topk")  # the cut-off get 0


topk_p = Primitive("topk", _topk_impl, kink=summary("topk"))
topk_p.defvjp(_topk_vjp)
topk_p.defjvp(lambda dx, out, x, k, axis, largest=True:
              getitem(_sorted_tangent(dx, x, axis, largest, "topk"), _first(k, axis)))


def _argsort_impl(x, axis, kind=None, descending=False):
    if descending:
        return stable_order(x, axis, descending=True)
    return xp.argsort(x, axis=axis, kind=kind)


argsort_p = Primitive("argsort", _argsort_impl)  # integers: no derivative


# Public functions: NumPy's signatures (with the array API's ``descending``).

def _checked(name: str, x: Any, axis: Any, order: Any) -> tuple[Any, int]:
    if order is not None:
        raise TypeError(f"{name}: order= sorts structured arrays by field, which chainrule "
                        f"does not support")
    if axis is None:  # NumPy sorts the flattened array
        return reshape(x, (-1,)), 0
    if ndim_of(x) == 0:
        raise ValueError(f"{name}: a 0-d array has no axis {axis} to sort along; "
                         f"pass axis=None")
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{name}: axis must be an int or None, got {axis!r}")
    return x, checked_axis(name, axis, ndim_of(x))


def _kind(kind: str | None, stable: bool | None) -> str | None:
    return "stable" if stable else kind


def sort(a: Any, axis: int | None = -1, kind: str | None = None, order: Any = None, *,
         stable: bool | None = None, descending: bool = False) -> Any:
    """Like ``numpy.sort`` (``axis=None`` sorts the flattened array), plus the array
    API's ``descending``. ``kind`` and ``stable`` do not change sorted values.

    The gradient goes back through the permutation; tied elements share the
    cotangents of their outputs evenly (``subgradient_policy("pytorch")`` or
    ``"jax"``: the stable order, one element per output).

    >>> import chainrule as cr
    >>> cr.sort(cr.tensor([3.0, 1.0, 2.0]), descending=True)
    tensor([3., 2., 1.])
    """
    x, axis = _checked("sort", a, axis, order)
    return sort_p(x, axis=axis, descending=bool(descending))


def argsort(a: Any, axis: int | None = -1, kind: str | None = None, order: Any = None, *,
            stable: bool | None = None, descending: bool = False) -> Any:
    """Like ``numpy.argsort``: the indices that sort ``a``; integers, no derivative.

    ``kind`` and ``stable`` are NumPy's (its default is not stable); with
    ``descending`` ties keep their input order (the array API's stable order).

    >>> import numpy as np, chainrule as cr
    >>> cr.argsort(np.array([2.0, 3.0, 2.0]), descending=True)
    array([1, 0, 2])
    """
    x, axis = _checked("argsort", a, axis, order)
    return argsort_p(x, axis=axis, kind=_kind(kind, stable), descending=bool(descending))


def topk(x: Any, k: int, axis: int = -1, largest: bool = True,
         sorted: bool = True) -> tuple[Any, Any]:  # noqa: A002 - PyTorch's name
    """The ``k`` largest (``largest=False``: smallest) values along ``axis`` and their
    indices, like ``torch.topk``: ``(values, indices)``, always in sorted order
    (``sorted=False`` allows any order; this one is as good as any).

    Of tied values the lower index comes first (as in ``jax.lax.top_k``; which
    one ``torch.topk`` returns is unspecified). The gradient of ``values`` goes
    to the selected elements; at a tie, including one cut by the k-th place,
    the tied elements share it evenly (``kinks()`` reports it).

    >>> import numpy as np, chainrule as cr
    >>> values, indices = cr.topk(np.array([1.0, 4.0, 2.0, 4.0]), 3)
    >>> values, indices
    (array([4., 4., 2.]), array([1, 3, 2]))
    """
    if ndim_of(x) == 0:
        raise ValueError("topk: x must have at least one dimension, got a 0-d array")
    if isinstance(axis, (tuple, list)) or axis is None:
        raise TypeError(f"topk: axis must be an int, got {axis!r}")
    axis = checked_axis("topk", axis, ndim_of(x))
    n = shape_of(x)[axis]
    if isinstance(k, bool) or not isinstance(k, (int, xp.integer)) or not 0 <= k <= n:
        raise ValueError(f"topk: k must be an int from 0 to {n} (the length of axis "
                         f"{axis}), got {k!r}")
    values = topk_p(x, k=int(k), axis=axis, largest=bool(largest))
    order = argsort_p(x, axis=axis, kind="stable", descending=bool(largest))
    return values, getitem(order, _first(int(k), axis))


def _checked_kth(name: str, x: Any, kth: Any, axis: int) -> None:
    n = shape_of(x)[axis]
    for k in xp.atleast_1d(xp.asarray(concrete(kth))).tolist():
        if isinstance(k, bool) or not isinstance(k, int) or not -n <= k < n:
            raise ValueError(f"{name}: kth must be ints in [-{n}, {n}) (the length of axis "
                             f"{axis}), got {kth!r}")


def partition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect",
              order: Any = None) -> Any:
    """Like ``numpy.partition``: the ``kth`` element where sorting puts it, smaller ones
    before and larger after. A full sort is such an arrangement, and this is one,
    so the gradient is ``sort``'s.

    >>> import numpy as np, chainrule as cr
    >>> cr.partition(np.array([3.0, 1.0, 2.0]), 1)
    array([1., 2., 3.])
    """
    x, axis = _checked("partition", a, axis, order)
    _checked_kth("partition", x, kth, axis)
    return sort_p(x, axis=axis, descending=False)


def argpartition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect",
                 order: Any = None) -> Any:
    """Like ``numpy.argpartition``: indices that partition ``a`` (here: that sort it).

    >>> import numpy as np, chainrule as cr
    >>> cr.argpartition(np.array([3.0, 1.0, 2.0]), 0)
    array([1, 2, 0])
    """
    x, axis = _checked("argpartition", a, axis, order)
    _checked_kth("argpartition", x, kth, axis)
    return argsort_p(x, axis=axis, kind="stable", descending=False)
