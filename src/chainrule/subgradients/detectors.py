"""Finding the elements of one evaluation that sit at (or within ``tol`` of) a kink.

A detector is ``detect(prim, args, params, out, tol) -> Hits | None``; it sees
the plain arrays the implementation saw. Elementwise kinks are described by
their affine ``pieces``; reductions by the slices they reduce. Where a rule
can say what it takes, the detector asks it (the cotangent 1 through the
primitive's own VJP), so the report shows what the engines really use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chainrule.backend import xp
from chainrule.subgradients.sets import Ball, Hull, Jump, Pole, Simplex

MAX_LISTED = 10  # elements described per event; ``count`` has them all

Pieces = Callable[[list, float], list]  # (arguments, tol) -> [(active mask, gradient), ...]
Detector = Callable[..., "Hits | None"]


@dataclass
class Hits:
    """What a detector found: ``count`` elements, the first ``MAX_LISTED`` described.

    ``elements[k]`` (None for elementwise kinks, whose coordinates are the
    arguments) lists the input indices that are the coordinates of
    ``points[k]``, ``subdifferentials[k]`` and ``chosen[k]``. ``chosen`` is None
    when the rules must be asked later, once it is known which arguments are
    differentiated (``outs`` then holds the outputs at the listed elements).
    """

    count: int
    indices: list[tuple[int, ...]]
    points: list[tuple[float, ...]]
    subdifferentials: list[Any]
    chosen: list[tuple[float | None, ...]] | None = None
    elements: list[list[tuple[int, ...]]] | None = None
    outs: list[float] = field(default_factory=list)


def _f64(a: Any) -> Any:
    return xp.asarray(a, dtype=xp.float64)


def _listed(mask: Any) -> list[tuple[int, ...]]:
    return [tuple(int(i) for i in ix) for ix in xp.argwhere(mask)[:MAX_LISTED]]


def _quiet_rule(rule: Callable, *args: Any, **params: Any) -> Any:
    with xp.errstate(all="ignore"):  # a rule at a pole divides by zero, as it should
        value = rule(*args, **params)
    return xp.asarray(getattr(value, "data", value))


# ----- elementwise kinks: two or more affine pieces active -----

def pieces(*when: Callable) -> Pieces:
    """Pieces from one ``when(args, tol) -> (mask, gradient)`` function per piece."""
    return lambda args, tol: [w(args, tol) for w in when]


def on_pieces(which: Pieces) -> Detector:
    """Elements where two or more of the pieces are active; the hull of their gradients."""
    def detect(prim: Any, args: tuple, params: dict, out: Any, tol: float) -> Hits | None:
        arrays = xp.broadcast_arrays(*[_f64(a) for a in args])
        found = which(arrays, tol)
        active = sum(mask.astype(int) for mask, _ in found)
        at = xp.broadcast_to(active >= 2, arrays[0].shape)
        count = int(at.sum())
        if not count:
            return None
        indices = _listed(at)
        outs = xp.broadcast_to(xp.asarray(out), arrays[0].shape)
        return Hits(count, indices, [tuple(float(a[ix]) for a in arrays) for ix in indices],
                    [Hull(g for mask, g in found if xp.broadcast_to(mask, at.shape)[ix])
                     for ix in indices], outs=[float(outs[ix]) for ix in indices])
    return detect


def _elementwise(near: Any, x: Any, out: Any, describe: Callable[[Any], Any],
                 chosen: tuple | None = None) -> Hits | None:
    count = int(near.sum())
    if not count:
        return None
    indices = _listed(near)
    outs = [] if out is None else xp.broadcast_to(xp.asarray(out, dtype=xp.float64), x.shape)
    return Hits(count, indices, [(float(x[ix]),) for ix in indices],
                [describe(x[ix]) for ix in indices],
                None if chosen is None else [chosen] * len(indices),
                outs=[] if out is None else [float(outs[ix]) for ix in indices])


def pole(left: float | None, right: float | None) -> Detector:
    """An infinite slope at x == 0 (sqrt, cbrt): no subdifferential; the rule's value."""
    def detect(prim: Any, args: tuple, params: dict, out: Any, tol: float) -> Hits | None:
        x = _f64(args[0])
        return _elementwise(xp.abs(x) <= tol, x, out, lambda v: Pole(left, right))
    return detect


def jump(nearest: Callable[[Any], Any], sides: Callable[[Any], tuple[float, float]]) -> Detector:
    """A piecewise constant function at its jumps (``nearest(x)``: the closest jump;
    ``sides(at)``: the values left and right of it). Its derivative is 0 (no rule)."""
    def detect(prim: Any, args: tuple, params: dict, out: Any, tol: float) -> Hits | None:
        x = xp.asarray(args[0])
        if x.dtype.kind != "f":  # integers sit on the jumps of floor by construction
            return None
        x = _f64(x)
        at = nearest(x)
        return _elementwise(xp.abs(x - at) <= tol, x, out,
                            lambda v: Jump(*sides(float(nearest(v)))), (0.0,))
    return detect


def _round_jump(x: Any) -> Any:
    return xp.floor(x) + 0.5


JUMPS = {
    "sign": jump(lambda x: xp.zeros_like(x), lambda at: (-1.0, 1.0)),
    "floor": jump(xp.round, lambda at: (at - 1.0, at)),
    "ceil": jump(xp.round, lambda at: (at, at + 1.0)),
    "round": jump(_round_jump, lambda at: (at - 0.5, at + 0.5)),
}


# ----- reductions: the slices whose elements tie, or sit at a norm's kink -----

def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else axis
    return tuple(sorted(a % ndim for a in axis))


def _slices(x: Any, mask: Any, at: Any, axes: tuple[int, ...], keepdims: bool, rule_share: Any,
            describe: Callable[[int], Any]) -> Hits | None:
    """Hits for each kept-shape index where ``at``; the coordinates are ``mask`` in its slice."""
    count = int(at.sum())
    if not count:
        return None
    kept = _listed(at)
    indices, points, sets, chosen, elements = [], [], [], [], []
    for ix in kept:
        pick = tuple(slice(None) if d in axes else i for d, i in enumerate(ix))
        inner = [tuple(int(i) for i in j) for j in xp.argwhere(mask[pick])]
        coords = [_full(ix, axes, j) for j in inner]
        elements.append(coords)
        points.append(tuple(float(x[c]) for c in coords))
        chosen.append(tuple(float(rule_share[c]) for c in coords))
        sets.append(describe(len(coords)))
        indices.append(ix if keepdims else tuple(i for d, i in enumerate(ix) if d not in axes))
    return Hits(count, indices, points, sets, chosen, elements)


def _full(kept: tuple[int, ...], axes: tuple[int, ...], inner: tuple[int, ...]) -> tuple:
    """An input index from a kept-shape index and a position within the reduced axes."""
    pos = iter(inner)
    return tuple(next(pos) if d in axes else i for d, i in enumerate(kept))


def _share(prim: Any, x: Any, out: Any, params: dict) -> Any:
    """The gradient the rule takes: the cotangent 1 through the primitive's VJP."""
    return _quiet_rule(prim.vjps[0], xp.ones_like(xp.asarray(out, dtype=xp.float64)), out, x,
                       **params)


def ties(pick: Callable) -> Detector:
    """max/min reductions: slices where two or more elements reach the extremum."""
    def detect(prim: Any, args: tuple, params: dict, out: Any, tol: float) -> Hits | None:
        if params.get("ties", prim.name) != prim.name:
            return None  # max pooling reports its windows in the input's coordinates
        x = _f64(args[0])
        axes = _axes(params.get("axis"), x.ndim)
        top = pick(x, axis=axes, keepdims=True)
        with xp.errstate(invalid="ignore"):
            near = (x == top) | (xp.abs(x - top) <= tol)
        at = near.sum(axis=axes, keepdims=True) >= 2
        return _slices(x, near, at, axes, bool(params.get("keepdims")),
                       _share(prim, args[0], out, params), Simplex)
    return detect


def norm_kinks(prim: Any, args: tuple, params: dict, out: Any, tol: float) -> Hits | None:
    """vector_norm: the 1-norm at each zero element (abs's kink), a p-norm with p > 1 at
    a zero slice (the unit ball of the dual norm), p < 1 at zero elements (no
    subdifferential: the slope is infinite there)."""
    x, p = _f64(args[0]), float(params["ord"])
    if p == 1.0 or p < 1.0:
        share = _share(prim, args[0], out, params)
        near = xp.abs(x) <= tol
        describe = ((lambda v: Hull([(1.0,), (-1.0,)])) if p == 1.0
                    else (lambda v: Pole(-xp.inf, xp.inf)))
        hits = _elementwise(near, x, None, describe)
        if hits is not None:
            hits.chosen = [(float(share[ix]),) for ix in hits.indices]
        return hits
    axes = _axes(params.get("axis"), x.ndim)
    at = xp.max(xp.abs(x), axis=axes, keepdims=True, initial=0.0) <= tol
    q = xp.inf if p == xp.inf else p / (p - 1.0)  # the dual order: 1/p + 1/q = 1
    return _slices(x, xp.broadcast_to(at, x.shape), at, axes, bool(params.get("keepdims")),
                   _share(prim, args[0], out, params), lambda n: Ball(q, 1.0, n))


def std_kinks(prim: Any, args: tuple, params: dict, out: Any, tol: float) -> Hits | None:
    """std where every reduced element is equal: a ball in the centred subspace."""
    x = _f64(args[0])
    axes = _axes(params.get("axis"), x.ndim)
    spread = xp.max(x, axis=axes, keepdims=True) - xp.min(x, axis=axes, keepdims=True)
    at = spread <= 2 * tol  # within tol (in each element) of the line of constant slices
    dof = 1
    for a in axes:
        dof *= x.shape[a]
    dof -= params.get("ddof", 0)
    return _slices(x, xp.broadcast_to(at, x.shape), at, axes, bool(params.get("keepdims")),
                   _share(prim, args[0], out, params),
                   lambda n: Ball(2.0, 1.0 / dof ** 0.5, n, centred=True))


def ties_in_windows(win: Any, out: Any, axes: tuple[int, ...], tol: float, shares: Any,
                    pixel: Callable[[tuple], tuple], drop_batch: bool = False) -> Hits | None:
    """Max pooling: windows (reduced over ``axes``) with tied maxima, the ties named by
    ``pixel(window index)``, the input's index; padding (-inf) never ties."""
    win = _f64(win)
    top = xp.expand_dims(_f64(out), axes)
    with xp.errstate(invalid="ignore"):
        near = ((win == top) | (xp.abs(win - top) <= tol)) & xp.isfinite(win)
    hits = _slices(win, near, near.sum(axis=axes, keepdims=True) >= 2, axes, False,
                   xp.asarray(shares), Simplex)
    if hits is not None:
        cut = 1 if drop_batch else 0  # an unbatched (C, *spatial) input has no n
        hits.elements = [[pixel(w)[cut:] for w in ws] for ws in hits.elements]
        hits.indices = [ix[cut:] for ix in hits.indices]
    return hits
