"""Subdifferentials as values a kink report can hold, print and measure.

Clarke's subdifferential of a piecewise smooth function is the convex hull of
the gradients of the pieces active at a point (``Hull``; a tie among k
elements of a max gives the ``Simplex`` over them, a tie in a sort the hull of
the ``Orderings`` of the tied elements); a norm at 0 has the unit
ball of its dual norm (``Ball``). Where the function is not Lipschitz there is
no subdifferential: a derivative that tends to infinity (``Pole``) or a jump
in the value (``Jump``). Each set gives ``interval(i)``, the range of the i-th
coordinate over the set, and reads as one phrase in ``str``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _num(v: float) -> str:
    return f"{v:g}"


class Hull(list):
    """The convex hull of the listed gradients (each a tuple, one entry per coordinate).

    A list of its vertices, so it compares equal to one.

    >>> str(Hull([(1.0,), (0.0,)])), str(Hull([(1.0, 0.0), (0.0, 1.0)]))
    ('[0, 1]', 'conv{(1, 0), (0, 1)}')
    """

    def interval(self, i: int = 0) -> tuple[float, float]:
        values = [g[i] for g in self]
        return min(values), max(values)

    def __str__(self) -> str:
        if self and len(self[0]) == 1:
            lo, hi = self.interval(0)
            return f"[{_num(lo)}, {_num(hi)}]"
        return "conv{" + ", ".join("(" + ", ".join(_num(c) for c in g) + ")" for g in self) + "}"

    __repr__ = list.__repr__


@dataclass(frozen=True)
class Simplex:
    """{g : g >= 0, sum(g) = 1} over ``size`` tied coordinates: the hull of their unit vectors.

    >>> s = Simplex(3)
    >>> str(s), s.interval(), s.vertices[0]
    ('the simplex over 3 tied elements', (0.0, 1.0), (1.0, 0.0, 0.0))
    """

    size: int

    @property
    def vertices(self) -> list[tuple[float, ...]]:
        return [tuple(1.0 if j == i else 0.0 for j in range(self.size)) for i in range(self.size)]

    def interval(self, i: int = 0) -> tuple[float, float]:
        return 0.0, 1.0

    def __str__(self) -> str:
        return f"the simplex over {self.size} tied elements"


@dataclass(frozen=True)
class Orderings:
    """The hull of the ways a sort can place ``size`` tied elements in ``picked`` output
    positions (all of them for a sort; fewer when top-k cuts through the tie): the
    matrices B >= 0 (``picked`` x ``size``) whose rows sum to 1 and columns to at most 1.

    >>> str(Orderings(3)), Orderings(2).interval()
    ('the hull of the orderings of 3 tied elements', (0.0, 1.0))
    >>> str(Orderings(3, 1))
    'the hull of the picks of 1 of 3 tied elements'
    """

    size: int
    picked: int | None = None

    def interval(self, i: int = 0) -> tuple[float, float]:
        return 0.0, 1.0

    def __str__(self) -> str:
        if self.picked is None or self.picked == self.size:
            return f"the hull of the orderings of {self.size} tied elements"
        return f"the hull of the picks of {self.picked} of {self.size} tied elements"


@dataclass(frozen=True)
class Ball:
    """{g : ||g||_order <= radius} in ``size`` coordinates; with ``centred``, only the
    g with sum(g) = 0 (the subspace a standard deviation can move in).

    >>> str(Ball(2.0, 1.0, 3)), str(Ball(2.0, 0.5, 2, centred=True))
    ('the unit 2-norm ball', '{g : sum(g) = 0, ||g||_2 <= 0.5}')
    """

    order: float
    radius: float
    size: int
    centred: bool = False

    def interval(self, i: int = 0) -> tuple[float, float]:
        # centred: the largest g_i with sum(g) = 0 and ||g||_2 <= r is r * sqrt((n - 1) / n)
        r = self.radius * (math.sqrt((self.size - 1) / self.size) if self.centred else 1.0)
        return -r, r

    def __str__(self) -> str:
        order = "inf" if math.isinf(self.order) else _num(self.order)
        if self.centred:
            return f"{{g : sum(g) = 0, ||g||_{order} <= {_num(self.radius)}}}"
        if self.radius == 1.0:
            return f"the unit {order}-norm ball"
        return f"{{g : ||g||_{order} <= {_num(self.radius)}}}"


@dataclass(frozen=True)
class Pole:
    """No subdifferential: the derivative tends to ``left`` from below and ``right``
    from above (None: the function is not defined on that side).

    >>> str(Pole(None, math.inf))
    'none: the slope tends to +inf from the right (undefined on the left)'
    """

    left: float | None
    right: float | None

    def interval(self, i: int = 0) -> tuple[float, float]:
        raise ValueError(f"no subdifferential at a pole of the derivative ({self})")

    def __str__(self) -> str:
        def side(v: float | None, name: str) -> str:
            return f"undefined on the {name}" if v is None else f"{v:+g} from the {name}"
        if self.left is None:
            return f"none: the slope tends to {side(self.right, 'right')} ({side(None, 'left')})"
        return f"none: the slope tends to {side(self.left, 'left')} and {side(self.right, 'right')}"


@dataclass(frozen=True)
class Jump:
    """No subdifferential: the value jumps from ``left`` to ``right`` (the limits from
    below and above); the derivative is 0 on both sides.

    >>> str(Jump(-1.0, 1.0))
    'none: a jump from -1 to 1'
    """

    left: float
    right: float

    def interval(self, i: int = 0) -> tuple[float, float]:
        raise ValueError(f"no subdifferential at a jump ({self})")

    def __str__(self) -> str:
        return f"none: a jump from {_num(self.left)} to {_num(self.right)}"
