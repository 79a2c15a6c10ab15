"""Kinks: the one table of what chainrule takes where a primitive has no derivative.

**The policy.** At a point where a primitive is not differentiable (relu and
abs at 0, a tie in maximum, clip at a bound) its rule returns the
minimum-norm element of the (Clarke) subdifferential *with respect to the
arguments being differentiated*. So relu'(0) = 0 and abs'(0) = 0; a tie in
``maximum(x, y)`` gives 1/2 to each when both are differentiated, but
``maximum(x, c)`` with ``c`` a constant gives x nothing at x == c (the
subdifferential restricted to x is [0, 1], whose smallest element is 0), so
``maximum(x, 0)`` and ``relu(x)`` agree. ``with subgradient_policy("pytorch")``
or ``"jax"`` switches every kink to that framework's choice instead. Rules
read the policy when they run (during the backward sweep, or the forward
pass of ``jvp``), not when the function was recorded.

**Which arguments are differentiated.** A rule sees values, not who asked
for them. A primitive created with ``takes_perturbed=True`` gets the keyword
``perturbed`` in its rules: the indices of the arguments the engine is
differentiating at this level (the reverse sweep passes the node's
``needs``). This is the information JAX hands a ``custom_vjp`` with
``symbolic_zeros=True`` ("perturbed" primals). An engine that does not pass
it gets ``perturbed=None``, read as "every argument": the choice is then a
subgradient still, but not always the smallest one.

**Kink detection.** ``with kinks() as report:`` records every evaluation of a
watched primitive at (or within ``tol`` of) a kink: the user's file and
line, the elements, the subdifferential there and the derivative the rule
took. The table's ``pieces`` say which affine pieces are active.

Sources for the PyTorch and JAX columns are listed in ``docs/subgradients.md``.

>>> import chainrule as cr
>>> float(cr.grad(cr.abs)(0.0))
0.0
>>> with cr.subgradient_policy("jax"):
...     float(cr.grad(cr.abs)(0.0))
1.0
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from chainrule.backend import xp
from chainrule.core.trace import Traced

POLICIES = ("min-norm", "pytorch", "jax")


class _State:
    __slots__ = ("policy",)

    def __init__(self) -> None:
        self.policy = "min-norm"


_state = _State()


def current_policy() -> str:
    """The name of the subgradient policy in force."""
    return _state.policy


@contextlib.contextmanager
def subgradient_policy(name: str) -> Iterator[str]:
    """Take ``name``'s choices at every kink inside the block.

    ``"min-norm"`` (the default) takes the smallest subgradient; ``"pytorch"``
    and ``"jax"`` reproduce those frameworks' choices (see ``TABLE``).

    >>> import chainrule as cr
    >>> both = cr.grad(lambda x, y: cr.maximum(x, y), argnums=(0, 1))
    >>> [float(g) for g in both(1.0, 1.0)]
    [0.5, 0.5]
    >>> float(cr.grad(lambda x: cr.maximum(x, 1.0))(1.0))
    0.0
    >>> with cr.subgradient_policy("pytorch"):
    ...     float(cr.grad(lambda x: cr.maximum(x, 1.0))(1.0))
    0.5
    """
    if name not in POLICIES:
        raise ValueError(f"subgradient_policy: unknown policy {name!r}; choose one of "
                         f"{', '.join(repr(p) for p in POLICIES)}")
    previous = _state.policy
    _state.policy = name
    try:
        yield name
    finally:
        _state.policy = previous


# ----- the table -----

Pieces = Callable[[list, float], list]  # (arguments, tol) -> [(active mask, gradient), ...]


@dataclass(frozen=True)
class Kink:
    """One primitive's convention where it has no derivative.

    ``choice[policy]`` is what its rule uses: a number (the derivative taken
    at the kink) or the name of a rule for ties; ``says[policy]`` puts it in
    words. ``pieces``, where given, lets ``kinks()`` watch the primitive.
    """

    primitive: str
    where: str
    subdifferential: str
    choice: Mapping[str, Any]
    says: Mapping[str, str]
    why: str
    pieces: Pieces | None = field(default=None, repr=False)


def _pieces(*gradients_when: Callable) -> Pieces:
    """Pieces from one ``when(args, tol) -> (mask, gradient)`` function per piece."""
    return lambda args, tol: [when(args, tol) for when in gradients_when]


_relu_pieces = _pieces(lambda a, tol: (a[0] >= -tol, (1.0,)), lambda a, tol: (a[0] <= tol, (0.0,)))
_abs_pieces = _pieces(lambda a, tol: (a[0] >= -tol, (1.0,)), lambda a, tol: (a[0] <= tol, (-1.0,)))
_maximum_pieces = _pieces(lambda a, tol: (a[0] >= a[1] - tol, (1.0, 0.0)),
                          lambda a, tol: (a[1] >= a[0] - tol, (0.0, 1.0)))
_minimum_pieces = _pieces(lambda a, tol: (a[0] <= a[1] + tol, (1.0, 0.0)),
                          lambda a, tol: (a[1] <= a[0] + tol, (0.0, 1.0)))


def _clip_pieces(args: list, tol: float) -> list:
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

TABLE: dict[str, Kink] = {k.primitive: k for k in [
    Kink("relu", "x == 0", "[0, 1]", _same(0.0),
         {"min-norm": "0", "pytorch": "0 (threshold_backward: x > 0)",
          "jax": "0 (jax.nn.relu is a custom_jvp with relu'(0) = 0)"},
         "0 is the element of [0, 1] nearest 0, and all three frameworks agree",
         _relu_pieces),
    Kink("abs", "x == 0", "[-1, 1]", {"min-norm": 0.0, "pytorch": 0.0, "jax": 1.0},
         {"min-norm": "0", "pytorch": "0 (sgn(0) = 0)",
          "jax": "1 (the JVP is select(x >= 0, g, -g))"},
         "0 is the minimum-norm element; abs is even, so its derivative is odd and 0 at 0",
         _abs_pieces),
    Kink("sign", "x == 0 (a jump)", "none: sign is discontinuous at 0", _same(0.0),
         _same("0 (no rule: its output is a constant to every engine)"),
         "the derivative is 0 wherever it exists; a jump has no finite subgradient"),
    Kink("maximum", "x == y", "conv{(1, 0), (0, 1)} = {(t, 1 - t) : t in [0, 1]}",
         {"min-norm": "split-differentiated", "pytorch": "split", "jax": "split"}, _TIE_SAYS,
         "restricted to the differentiated arguments, (1/2, 1/2) and 0 are the "
         "minimum-norm subgradients", _maximum_pieces),
    Kink("minimum", "x == y", "conv{(1, 0), (0, 1)} = {(t, 1 - t) : t in [0, 1]}",
         {"min-norm": "split-differentiated", "pytorch": "split", "jax": "split"}, _TIE_SAYS,
         "as for maximum", _minimum_pieces),
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
         "differentiated arguments, 0 if a constant ties", _clip_pieces),
    Kink("max", "ties among the maxima", "conv of the tied elements' unit vectors",
         _same("split"), _REDUCE_SAYS,
         "the even split is the minimum-norm element (defined in ops/reductions.py)"),
    Kink("min", "ties among the minima", "conv of the tied elements' unit vectors",
         _same("split"), _REDUCE_SAYS, "as for max"),
    Kink("vector_norm", "x == 0 (every element)", "the unit ball of the dual norm",
         {"min-norm": 0.0, "pytorch": 0.0, "jax": math.nan},
         {"min-norm": "0", "pytorch": "0 (linalg.norm's backward masks norm == 0)",
          "jax": "nan (sqrt of a sum; jax#3058, jax#21723: 'working as intended')"},
         "0 is the centre of the ball (defined in ops/reductions.py)"),
    Kink("std", "all reduced elements equal", "a ball in the centred subspace",
         {"min-norm": 0.0, "pytorch": 0.0, "jax": math.nan},
         {"min-norm": "0", "pytorch": "0", "jax": "nan (jnp.std is sqrt(var))"},
         "0 is the centre of the ball (defined in ops/reductions.py)"),
    Kink("sqrt", "x == 0", "none: the one-sided derivative is +inf", _same(math.inf),
         _same("+inf (the limit from the right)"),
         "not a kink but a pole of the derivative; a zero cotangent stays zero through it"),
    Kink("cbrt", "x == 0", "none: the derivative is +inf", _same(math.inf),
         _same("+inf (the limit)"), "as for sqrt"),
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


# ----- kink detection -----

_LIBRARY_DIRS = tuple(os.path.dirname(os.path.abspath(p)) + os.sep
                      for p in (__file__, xp.__file__))
MAX_LISTED = 10  # elements described per event; ``count`` has them all


def _user_frame() -> str:
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
            _LIBRARY_DIRS):
        frame = frame.f_back
    return "<unknown>" if frame is None else f"{frame.f_code.co_filename}:{frame.f_lineno}"


def concrete(value: Any) -> Any:
    """The array inside a traced value (a tensor's data, a dual's primal), or None."""
    while isinstance(value, Traced):
        inner = getattr(value, "data", None)
        if inner is None:
            inner = getattr(value, "primal", None)
        if inner is None:
            return None  # a symbolic expression: no numbers
        value = inner
    return value


def _number(v: Any) -> float:
    return float(xp.asarray(concrete(v)))


@dataclass
class KinkEvent:
    """One evaluation of a primitive at (or near) a kink.

    ``points[k]`` holds the arguments at the k-th listed element,
    ``subdifferentials[k]`` the gradients of the pieces active there (their
    convex hull is Clarke's subdifferential) and ``chosen[k]`` the derivative
    the rule takes for each argument (None where it is not differentiated).
    Until a derivative rule runs, ``perturbed`` is None and ``chosen``
    assumes every argument is differentiated.
    """

    primitive: str
    where: str
    policy: str
    count: int
    indices: list[tuple[int, ...]]
    points: list[tuple[float, ...]]
    subdifferentials: list[list[tuple[float, ...]]]
    chosen: list[tuple[float | None, ...]]
    perturbed: tuple[int, ...] | None = None
    _prim: Any = field(default=None, repr=False)
    _outs: list = field(default_factory=list, repr=False)

    def interval(self, element: int = 0, arg: int = 0) -> tuple[float, float]:
        """The range of d out / d arg over the subdifferential at one listed element."""
        values = [g[arg] for g in self.subdifferentials[element]]
        return min(values), max(values)

    def _choose(self) -> None:
        prim, perturbed = self._prim, self.perturbed
        wanted = range(len(self.points[0])) if perturbed is None else perturbed
        params = {"perturbed": tuple(wanted)} if prim.takes_perturbed else {}
        chosen = []
        for point, out in zip(self.points, self._outs):
            row = []
            for i in range(len(point)):
                rule = prim.vjps[i] if prim.vjps is not None else None
                row.append(None if rule is None or i not in wanted
                           else _number(rule(1.0, out, *point, **params)))
            chosen.append(tuple(row))
        self.chosen = chosen

    def __str__(self) -> str:
        kink = TABLE[self.primitive]
        head = (f"{self.primitive} at {self.where} ({self.policy}): {self.count} element(s) "
                f"at the kink {kink.where}")
        lines = [head]
        for index, point, verts, took in zip(self.indices, self.points,
                                             self.subdifferentials, self.chosen):
            args = ", ".join(f"{v:g}" for v in point)
            if len(point) == 1:
                lo, hi = min(g[0] for g in verts), max(g[0] for g in verts)
                hull = f"[{lo:g}, {hi:g}]"
            else:
                hull = "conv{" + ", ".join("(" + ", ".join(f"{c:g}" for c in g) + ")"
                                           for g in verts) + "}"
            taken = ", ".join("-" if t is None else f"{t:g}" for t in took)
            lines.append(f"  element {index}: args ({args}), subdifferential {hull}, "
                         f"took ({taken})")
        if self.perturbed is None:
            lines.append("  (no derivative rule ran yet: 'took' assumes every argument "
                         "is differentiated)")
        return "\n".join(lines)


class KinkReport(list):
    """The events ``kinks()`` recorded, in order; ``str`` describes them all."""

    def __init__(self, tol: float) -> None:
        super().__init__()
        self.tol = tol
        self._by_out: dict[int, tuple[Any, KinkEvent]] = {}

    def __str__(self) -> str:
        if not self:
            return "no kinks touched"
        return "\n".join(str(e) for e in self)

    __repr__ = list.__repr__


class _Watch:
    """Whether ``kinks()`` is recording; the watched primitives read ``active``."""

    __slots__ = ("active", "reports")

    def __init__(self) -> None:
        self.active = False
        self.reports: list[KinkReport] = []

    def check(self, prim: Any, args: tuple, out: Any) -> None:
        """Record an evaluation of ``prim`` if some element is at a kink."""
        self.active = False  # the rules run below must not record themselves
        try:
            for report in self.reports:
                self._check_one(report, prim, args, out)
        finally:
            self.active = bool(self.reports)

    def _check_one(self, report: KinkReport, prim: Any, args: tuple, out: Any) -> None:
        arrays = xp.broadcast_arrays(*[xp.asarray(a, dtype=xp.float64) for a in args])
        pieces = TABLE[prim.name].pieces(arrays, report.tol)
        active = sum(mask.astype(int) for mask, _ in pieces)
        at = xp.broadcast_to(active >= 2, arrays[0].shape)
        count = int(at.sum())
        if not count:
            return
        indices = [tuple(int(i) for i in ix) for ix in xp.argwhere(at)[:MAX_LISTED]]
        outs = xp.broadcast_to(xp.asarray(out), arrays[0].shape)
        event = KinkEvent(
            prim.name, _user_frame(), _state.policy, count, indices,
            [tuple(float(a[ix]) for a in arrays) for ix in indices],
            [[g for mask, g in pieces if xp.broadcast_to(mask, at.shape)[ix]]
             for ix in indices], [],
            # a rule that does not depend on who is differentiated has its answer now
            None if prim.takes_perturbed else tuple(range(len(args))),
            prim, [float(outs[ix]) for ix in indices])
        event._choose()
        report.append(event)
        report._by_out[id(out)] = (out, event)

    def saw_rule(self, out: Any, perturbed: tuple[int, ...] | None) -> None:
        """A derivative rule ran on ``out``: note which arguments it differentiated."""
        key = id(concrete(out))
        self.active = False
        try:
            for report in self.reports:
                hit = report._by_out.get(key)
                if hit is not None and perturbed is not None and hit[1].perturbed != perturbed:
                    hit[1].perturbed = tuple(perturbed)
                    hit[1]._choose()
        finally:
            self.active = bool(self.reports)


watch = _Watch()


@contextlib.contextmanager
def kinks(tol: float = 0.0) -> Iterator[KinkReport]:
    """Record every evaluation of relu, abs, maximum, minimum or clip at a kink.

    An element counts when it lies within ``tol`` of a kink (exactly on it
    for the default 0). The report lists, per event, the primitive, the
    user's file and line, the elements, the subdifferential there and the
    derivative the rule took (filled in when a derivative is computed).

    >>> import chainrule as cr
    >>> with cr.kinks() as report:
    ...     g = cr.grad(lambda x: cr.sum(cr.relu(x)))(cr.tensor([-1.0, 0.0, 2.0]).numpy())
    >>> event = report[0]
    >>> event.primitive, event.count, event.indices, event.interval(), event.chosen
    ('relu', 1, [(1,)], (0.0, 1.0), [(0.0,)])
    """
    if not (isinstance(tol, (int, float)) and tol >= 0 and math.isfinite(tol)):
        raise ValueError(f"kinks: tol must be a finite number >= 0, got {tol!r}")
    report = KinkReport(float(tol))
    watch.reports.append(report)
    watch.active = True
    try:
        yield report
    finally:
        # by identity: reports are lists, and two empty ones compare equal
        watch.reports = [r for r in watch.reports if r is not report]
        watch.active = bool(watch.reports)
