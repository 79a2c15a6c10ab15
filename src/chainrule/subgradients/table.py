"""The one table of kink conventions: where each primitive has no derivative, its
subdifferential there, what each policy takes and why, and how ``kinks()``
finds such points (``detect``). Rules read ``choice(name)`` when they run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chainrule.backend import xp
from chainrule.subgradients import detectors as d
from chainrule.subgradients.orderings import sort_ties
from chainrule.subgradients.policy import POLICIES, _state


@dataclass(frozen=True)
class Kink:
    """One primitive's convention where it has no derivative.

    ``choice[policy]`` is what its rule uses: a number (the derivative taken
    at the kink) or the name of a rule for ties; ``says[policy]`` puts it in
    words. ``detect`` (see ``chainrule.subgradients.detectors``) lets
    ``kinks()`` find the elements at the kink.
    """

    primitive: str
    where: str
    subdifferential: str
    choice: Mapping[str, Any]
    says: Mapping[str, str]
    why: str
    detect: d.Detector | None = field(default=None, repr=False)


_relu = d.pieces(lambda a, tol: (a[0] >= -tol, (1.0,)), lambda a, tol: (a[0] <= tol, (0.0,)))
_abs = d.pieces(lambda a, tol: (a[0] >= -tol, (1.0,)), lambda a, tol: (a[0] <= tol, (-1.0,)))
_maximum = d.pieces(lambda a, tol: (a[0] >= a[1] - tol, (1.0, 0.0)),
                    lambda a, tol: (a[1] >= a[0] - tol, (0.0, 1.0)))
_minimum = d.pieces(lambda a, tol: (a[0] <= a[1] + tol, (1.0, 0.0)),
                    lambda a, tol: (a[1] <= a[0] + tol, (0.0, 1.0)))


def _clip(args: list, tol: float) -> list:
    # clip(x, lo, hi) = min(max(x, lo), hi), NumPy's order: the upper bound wins
    x, lo, hi = args
    return [((lo - tol <= x) & (x <= hi + tol), (1.0, 0.0, 0.0)),
            ((x <= lo + tol) & (lo <= hi + tol), (0.0, 1.0, 0.0)),
            ((x >= hi - tol) | (lo >= hi - tol), (0.0, 0.0, 1.0))]


def _same(value: Any) -> dict[str, Any]:
    return dict.fromkeys(POLICIES, value)


_TIE_SAYS = {
    "min-norm": "1/2 to each when both are differentiated; 0 to the differentiated one "
                "when the other is a constant (so maximum(x, 0) = relu(x))",
    "pytorch": "1/2 to each, constant or not",
    "jax": "1/2 to each, constant or not (lax.max/min JVP: _balanced_eq)",
}
_REDUCE_SAYS = {
    "min-norm": "1/k to each of k tied elements",
    "pytorch": "1/k to each (amax/amin, max()/min() without dim); max(dim)/min(dim) "
               "give everything to one index",
    "jax": "1/k to each (reduce_max's JVP divides by the count of ties)",
}
_JUMP = "none: the value jumps"
_NO_RULE = _same("0 (no rule: its output is a constant to every engine)")
_JUMP_WHY = "the derivative is 0 wherever it exists; a jump has no finite subgradient"

TABLE: dict[str, Kink] = {k.primitive: k for k in [
    Kink("relu", "x == 0", "[0, 1]", _same(0.0),
         {"min-norm": "0", "pytorch": "0 (threshold_backward: x > 0)",
          "jax": "0 (jax.nn.relu is a custom_jvp with relu'(0) = 0)"},
         "0 is the element of [0, 1] nearest 0, and all three frameworks agree",
         d.on_pieces(_relu)),
    Kink("abs", "x == 0", "[-1, 1]", {"min-norm": 0.0, "pytorch": 0.0, "jax": 1.0},
         {"min-norm": "0", "pytorch": "0 (sgn(0) = 0)",
          "jax": "1 (the JVP is select(x >= 0, g, -g))"},
         "0 is the minimum-norm element; abs is even, so its derivative is odd and 0 at 0",
         d.on_pieces(_abs)),
    Kink("sign", "x == 0 (a jump from -1 to 1)", _JUMP, _same(0.0), _NO_RULE, _JUMP_WHY,
         d.JUMPS["sign"]),
    Kink("floor", "x an integer n (a jump from n - 1 to n)", _JUMP, _same(0.0), _NO_RULE,
         _JUMP_WHY, d.JUMPS["floor"]),
    Kink("ceil", "x an integer n (a jump from n to n + 1)", _JUMP, _same(0.0), _NO_RULE,
         _JUMP_WHY, d.JUMPS["ceil"]),
    Kink("round", "x = n + 1/2 (a jump from n to n + 1)", _JUMP, _same(0.0), _NO_RULE,
         _JUMP_WHY, d.JUMPS["round"]),
    Kink("maximum", "x == y", "conv{(1, 0), (0, 1)} = {(t, 1 - t) : t in [0, 1]}",
         {"min-norm": "split-differentiated", "pytorch": "split", "jax": "split"}, _TIE_SAYS,
         "restricted to the differentiated arguments, (1/2, 1/2) and 0 are the "
         "minimum-norm subgradients", d.on_pieces(_maximum)),
    Kink("minimum", "x == y", "conv{(1, 0), (0, 1)} = {(t, 1 - t) : t in [0, 1]}",
         {"min-norm": "split-differentiated", "pytorch": "split", "jax": "split"}, _TIE_SAYS,
         "as for maximum", d.on_pieces(_minimum)),
    Kink("clip", "x == a_min or x == a_max",
         "conv{e_x, e_bound} at a bound (conv{e_x, e_lo, e_hi} when a_min == a_max == x)",
         {"min-norm": "split-differentiated", "pytorch": "inclusive", "jax": "nested"},
         {"min-norm": "0 to x at a constant bound; an even split between x and a "
                      "differentiated bound",
          "pytorch": "1 to x at either bound (torch.clamp passes inclusive bounds); "
                     "a tensor bound gets 0 there",
          "jax": "1/2 to x and 1/2 to the bound (jnp.clip is minimum(a_max, "
                 "maximum(a_min, x)))"},
         "the same rule as maximum and minimum: share a tie evenly among the "
         "differentiated arguments, 0 if a constant ties", d.on_pieces(_clip)),
    Kink("max", "ties among the maxima", "the simplex over the tied elements",
         _same("split"), _REDUCE_SAYS,
         "the even split is the minimum-norm element of the simplex", d.ties(xp.max)),
    Kink("min", "ties among the minima", "the simplex over the tied elements",
         _same("split"), _REDUCE_SAYS, "as for max", d.ties(xp.min)),
    Kink("max_pool", "ties among a window's maxima", "the simplex over the tied elements",
         {"min-norm": "split", "pytorch": "first", "jax": "first"},
         {"min-norm": "1/k to each of k tied elements of a window",
          "pytorch": "everything to the first maximum in the window (max_pool2d's indices)",
          "jax": "everything to one maximum (reduce_window's select_and_gather_add)"},
         "as for max; PyTorch and JAX route through one index, which is a vertex of the "
         "simplex, not its minimum-norm element"),  # pooling reports its own windows
    Kink("sort", "ties among the elements of a slice",
         "the hull of the permutation matrices of the tied orderings",
         {"min-norm": "average", "pytorch": "stable", "jax": "stable"},
         {"min-norm": "the tied outputs' cotangents averaged, then routed back: each of m "
                      "tied elements gets 1/m of their sum",
          "pytorch": "through the permutation of torch.sort(stable=True): ties in input "
                     "order, each output's cotangent to one element",
          "jax": "through the stable permutation (lax.sort's JVP gathers the tangent by a "
                 "sorted iota; jnp.sort is stable)"},
         "the average of the tied permutation matrices is the minimum-norm element of the "
         "hull, and gives every cotangent its minimum-norm routing; max = the last of sort "
         "then agrees with the max reduction (1/m to each tie)", sort_ties),
    Kink("topk", "ties among the k largest (smallest) or at the k-th place",
         "the hull of the ways to place the tied elements in the k outputs",
         {"min-norm": "average", "pytorch": "stable", "jax": "stable"},
         {"min-norm": "as for sort: a tie's cotangents averaged over all its elements, "
                      "those cut off at the k-th place included",
          "pytorch": "through the returned indices: one tied element per output (which one "
                     "torch.topk picks is unspecified; chainrule routes as its stable order)",
          "jax": "through the returned indices; lax.top_k puts the lower index first"},
         "topk is the first k of a sort, so it takes sort's choice", sort_ties),
    Kink("vector_norm", "x == 0 (a whole slice; each zero element for ord=1)",
         "the unit ball of the dual norm (q = p / (p - 1)); [-1, 1] per zero element for ord=1",
         {"min-norm": 0.0, "pytorch": 0.0, "jax": math.nan},
         {"min-norm": "0 (and a Hessian of 0)",
          "pytorch": "0 (linalg.norm's backward masks norm == 0)",
          "jax": "nan (sqrt of a sum; jax#3058, jax#21723: 'working as intended'); "
                 "ord=1 is sum(abs(x)): 1 per zero element"},
         "0 is the centre of the ball; along every line through 0 the norm is |t| times "
         "a constant, so its second derivative there is abs's: 0", d.norm_kinks),
    Kink("std", "all reduced elements equal", "{g : sum(g) = 0, ||g||_2 <= 1/sqrt(n - ddof)}",
         {"min-norm": 0.0, "pytorch": 0.0, "jax": math.nan},
         {"min-norm": "0 (and a Hessian of 0)", "pytorch": "0",
          "jax": "nan (jnp.std is sqrt(var))"},
         "0 is the centre of the ball (as for vector_norm)", d.std_kinks),
    Kink("sqrt", "x == 0", "none: the one-sided derivative is +inf", _same(math.inf),
         _same("+inf (the limit from the right)"),
         "not a kink but a pole of the derivative; a zero cotangent stays zero through it",
         d.pole(None, math.inf)),
    Kink("cbrt", "x == 0", "none: the derivative is +inf", _same(math.inf),
         _same("+inf (the limit)"), "as for sqrt", d.pole(math.inf, math.inf)),
]}


def choice(primitive: str) -> Any:
    """What ``primitive``'s rule takes at a kink under the current policy."""
    return TABLE[primitive].choice[_state.policy]


def tie_weight(primitive: str, other_differentiated: bool) -> float:
    """An argument's share of a two-way tie in ``maximum``/``minimum``."""
    if choice(primitive) == "split" or other_differentiated:
        return 0.5
    return 0.0  # the other argument is a constant: the minimum-norm share is 0


def summary(primitive: str) -> str:
    """The default convention in one line, for a primitive's ``kink`` attribute."""
    k = TABLE[primitive]
    return f"at {k.where}: {k.says['min-norm']} (chainrule.subgradients.TABLE)"
