"""Primitives with kinks: the derivative chosen where the function has none.

Each rule reads its convention from ``chainrule.subgradients.TABLE`` under the
policy in force (``cr.subgradient_policy``). By default a kink takes the
minimum-norm subgradient with respect to the arguments being differentiated:

* ``relu'(0) = 0`` and ``abs'(0) = 0``;
* ``maximum``/``minimum`` at a tie: 1/2 to each argument when both are
  differentiated, 0 to the differentiated one when the other is a constant
  (so ``maximum(x, 0)`` agrees with ``relu``);
* ``clip`` at a bound: 0 to ``x`` when the bounds are constants, an even
  split between ``x`` and a bound that is differentiated too;
* ``sign`` has no rule (its derivative is 0 wherever it exists; 0 jumps).

``maximum``, ``minimum`` and ``clip`` are created with ``takes_perturbed``:
engines pass their rules ``perturbed``, the indices of the arguments being
differentiated at that level (see ``chainrule.subgradients``). The
implementations report kinks to ``cr.kinks()`` when it is recording; that
costs one attribute read per call otherwise. Rules use an unwatched twin of
``sign``: a jump inside a derivative rule is the library's, not the user's.

>>> import chainrule as cr
>>> float(cr.grad(cr.relu)(0.0)), float(cr.grad(lambda x: cr.maximum(x, 0.0))(0.0))
(0.0, 0.0)
"""

from __future__ import annotations

import operator

from chainrule.backend import xp
from chainrule.core.primitive import Primitive, defpartials
from chainrule.ops.nondiff import logical_and, logical_not, logical_or
from chainrule.subgradients import choice, summary, tie_weight, watch

__all__ = [
    "where",
    "relu",
    "abs",
    "sign",
    "maximum",
    "minimum",
    "clip",
]

# A branch that is not selected gets a zero cotangent (tangent); the engines keep
# it zero through infinite derivatives, so where(x > 0, sqrt(x), 0) has gradient 0 at 0.
where = Primitive("where", xp.where)
"""where(c, x, y): x where the condition c holds, y elsewhere; the cotangent goes to
the selected branch only (0 to the other, even where its derivative is infinite)."""
where.defvjp(None,
             lambda g, out, c, x, y: where(c, g, 0.0),
             lambda g, out, c, x, y: where(c, 0.0, g))
where.defjvp(None,
             lambda dx, out, c, x, y: where(c, dx, 0.0),
             lambda dy, out, c, x, y: where(c, 0.0, dy))


def _report(prim, args, out):
    """Hand an evaluation to ``cr.kinks()`` (only called while it records)."""
    out = xp.asarray(out)  # the engines keep this very array, so rules can find it
    watch.check(prim, args, out)
    return out


# ----- relu and abs: one-argument kinks at 0 -----

def _relu_partial(out, x):
    slope = choice("relu")  # 0 under every policy
    return x > 0 if slope == 0.0 else (x > 0) + slope * (x == 0)


def _relu_impl(x):
    out = xp.maximum(x, 0)
    return _report(relu, (x,), out) if watch.active else out


relu = Primitive("relu", _relu_impl, kink=summary("relu"))
"""max(x, 0), elementwise; its derivative is 1 for x > 0 and 0 for x < 0, and 0 at the
kink x == 0 under every subgradient policy (any value in [0, 1] is a subgradient)."""
defpartials(relu, _relu_partial)


def abs_slope(x):
    """abs'(x) with the policy's choice at 0 (the 1-norm's slope too)."""
    slope = choice("abs")  # 0, or 1 under the jax policy
    return sign_in_rules(x) if slope == 0.0 else sign_in_rules(x) + slope * (x == 0)


def _abs_partial(out, x):
    return abs_slope(x)


def _abs_impl(x):
    out = xp.abs(x)
    return _report(abs, (x,), out) if watch.active else out


abs = Primitive("abs", _abs_impl, kink=summary("abs"))  # noqa: A001 - NumPy's name
"""|x| (the modulus of a complex x); its derivative is sign(x) (z / |z| for a complex z),
and at the kink x == 0 the subgradient policy's choice: 0, or 1 under the jax policy."""
defpartials(abs, _abs_partial)

def _sign_impl(x, _ufunc=xp.sign, _watch=watch):  # bound as locals: the closed path is short
    out = _ufunc(x)
    if _watch.active:
        _watch.check(sign, (x,), out)
    return out


sign = Primitive("sign", _sign_impl, kink=summary("sign"))  # no rule: a constant to every engine
"""-1, 0 or 1 as x is negative, zero or positive: derivative 0 where it exists (no
rules); ``cr.kinks()`` reports evaluations at its jump, 0."""
# the same function for rules: unregistered and unwatched (its name keeps batching and printing)
sign_in_rules = Primitive("sign", xp.sign, register=False)


# ----- maximum and minimum: ties between two arguments -----

def _tie_partial(name, i, wins):
    """d out / d arg_i of maximum (wins = >) or minimum (wins = <)."""
    def partial(out, x, y, perturbed=None):
        if watch.active:
            watch.saw_rule(out, perturbed)
        a, b = (x, y) if i == 0 else (y, x)
        other_differentiated = perturbed is None or (1 - i) in perturbed
        w = tie_weight(name, other_differentiated)
        return wins(a, b) if w == 0.0 else wins(a, b) + w * (a == b)
    return partial


def _maximum_impl(x, y):
    out = xp.maximum(x, y)
    return _report(maximum, (x, y), out) if watch.active else out


def _minimum_impl(x, y):
    out = xp.minimum(x, y)
    return _report(minimum, (x, y), out) if watch.active else out


maximum = Primitive("maximum", _maximum_impl,
                    kink=summary("maximum"), takes_perturbed=True)
"""The larger of x and y, elementwise; the cotangent goes to the larger, and at a tie
1/2 to each when both are differentiated, 0 when the other is a constant."""
defpartials(maximum, _tie_partial("maximum", 0, operator.gt),
            _tie_partial("maximum", 1, operator.gt))

minimum = Primitive("minimum", _minimum_impl,
                    kink=summary("minimum"), takes_perturbed=True)
"""The smaller of x and y, elementwise; the cotangent goes to the smaller, and at a
tie 1/2 to each when both are differentiated, 0 when the other is a constant."""
defpartials(minimum, _tie_partial("minimum", 0, operator.lt),
            _tie_partial("minimum", 1, operator.lt))


# ----- clip(x, lo, hi) = min(max(x, lo), hi): NumPy's order, the upper bound wins -----

def _clip_active(x, lo, hi):
    """Where each affine piece of clip (x, lo or hi) is active; ties have two or more."""
    return [logical_and(lo <= x, x <= hi),
            logical_and(x <= lo, lo <= hi),
            logical_or(x >= hi, lo >= hi)]


def _clip_even(i, x, lo, hi, perturbed):
    # the minimum-norm rule: a tie is shared evenly among the active pieces if all of
    # them are differentiated, and gives 0 if a constant is among them
    if perturbed is not None and len(perturbed) == 1:  # alone: only where no piece ties
        return (logical_and(lo < x, x < hi), logical_and(x < lo, lo < hi),
                logical_or(x > hi, lo > hi))[i]
    active = _clip_active(x, lo, hi)
    mine = active[i]
    for j in range(3):
        if j != i and perturbed is not None and j not in perturbed:
            mine = logical_and(mine, logical_not(active[j]))
    count = 1.0 * active[0] + 1.0 * active[1] + 1.0 * active[2]
    return (1.0 * mine) / count


def _clip_inclusive(i, x, lo, hi):
    # torch.clamp: x keeps the gradient at either bound, a bound only strictly beyond it
    if i == 0:
        return logical_and(x >= lo, x <= hi)
    if i == 1:
        return logical_and(x < lo, lo < hi)
    return logical_or(x > hi, lo > hi)


def _clip_nested(i, x, lo, hi):
    # jnp.clip = minimum(hi, maximum(lo, x)), each splitting its ties 1/2, 1/2
    m = where(x > lo, x, lo)
    to_m = (m < hi) + 0.5 * (m == hi)
    if i == 0:
        return ((x > lo) + 0.5 * (x == lo)) * to_m
    if i == 1:
        return ((lo > x) + 0.5 * (x == lo)) * to_m
    return (hi < m) + 0.5 * (m == hi)


def _clip_partial(i):
    def partial(out, x, lo, hi, perturbed=None):
        if watch.active:
            watch.saw_rule(out, perturbed)
        mode = choice("clip")
        if mode == "inclusive":
            return _clip_inclusive(i, x, lo, hi)
        if mode == "nested":
            return _clip_nested(i, x, lo, hi)
        return _clip_even(i, x, lo, hi, perturbed)
    return partial


def _clip_impl(x, lo, hi):
    out = xp.clip(x, lo, hi)
    return _report(clip_p, (x, lo, hi), out) if watch.active else out


clip_p = Primitive("clip", _clip_impl,
                   kink=summary("clip"), takes_perturbed=True)
defpartials(clip_p, _clip_partial(0), _clip_partial(1), _clip_partial(2))


def clip(x, a_min=None, a_max=None):
    """Like ``numpy.clip``; a missing bound is infinite.

    At a bound, ``x`` gets 0 when the bounds are constants (the minimum-norm
    subgradient; PyTorch's ``clamp`` gives 1 there, see ``cr.subgradient_policy``).

    >>> import chainrule as cr
    >>> [float(cr.grad(lambda x: cr.clip(x, 0.0, 1.0))(v)) for v in (0.0, 0.5, 1.0)]
    [0.0, 1.0, 0.0]
    """
    if a_min is None and a_max is None:
        raise ValueError("clip: give at least one of a_min and a_max")
    return clip_p(x, -xp.inf if a_min is None else a_min, xp.inf if a_max is None else a_max)


# ----- Taylor series rules (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.ops import series as _s  # noqa: E402


def _where_series(out, xs, order, params):
    cond = xs[0][0]
    terms = []
    for k in range(1, order + 1):
        a, b = xs[1][k], xs[2][k]
        terms.append(None if a is None and b is None else
                     where(cond, 0.0 if a is None else a, 0.0 if b is None else b))
    return terms


# linear on each piece: every term follows the first-order partials (and so the
# subgradient policy at a kink: relu(0), abs(0), ties of maximum/minimum, clip's bounds)
for _prim in (relu, abs, maximum, minimum, clip_p):
    _s.defseries(_prim, _s.piecewise_linear(_prim))
_s.defseries(where, _where_series)
_s.defseries(sign, _s.constant)
