"""What ``kinks()`` records: one ``KinkEvent`` per evaluation that touched a kink."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chainrule.backend import xp
from chainrule.core.trace import Traced
from chainrule.subgradients.table import TABLE

SHOWN = 6  # coordinates printed per element; the event holds them all


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


def _numbers(values: Any) -> str:
    shown = ", ".join("-" if v is None else f"{v:g}" for v in list(values)[:SHOWN])
    return shown + (", ..." if len(values) > SHOWN else "")


@dataclass
class KinkEvent:
    """One evaluation of a primitive at (or near) a kink.

    For the k-th listed element (``indices[k]``: of the arguments for an
    elementwise primitive, of the result for a reduction), the derivative has
    coordinates: the arguments, or for a reduction the input elements
    ``elements[k]`` (the tied maxima, the slice at a norm's kink).
    ``points[k]`` holds their values, ``subdifferentials[k]`` the set of
    subgradients there (a ``Hull``, ``Simplex`` or ``Ball``; a ``Pole`` or
    ``Jump`` where there is none) and ``chosen[k]`` the derivative the rule
    takes (None for an argument that is not differentiated). For primitives
    whose choice depends on which arguments are differentiated, ``perturbed``
    is None until a derivative rule runs, and ``chosen`` assumes all are.
    """

    primitive: str
    where: str
    policy: str
    count: int
    indices: list[tuple[int, ...]]
    points: list[tuple[float, ...]]
    subdifferentials: list[Any]
    chosen: list[tuple[float | None, ...]]
    perturbed: tuple[int, ...] | None = None
    elements: list[list[tuple[int, ...]]] | None = None
    kink: str = ""  # the TABLE entry; the primitive's name unless it is max pooling
    _prim: Any = field(default=None, repr=False)
    _outs: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.kink = self.kink or self.primitive

    def interval(self, element: int = 0, arg: int = 0) -> tuple[float, float]:
        """The range of the derivative's ``arg``-th coordinate over the subdifferential
        at one listed element (ValueError where there is no subdifferential)."""
        return self.subdifferentials[element].interval(arg)

    def _choose(self) -> None:
        prim, perturbed = self._prim, self.perturbed
        wanted = range(len(self.points[0])) if perturbed is None else perturbed
        params = {"perturbed": tuple(wanted)} if prim.takes_perturbed else {}
        chosen = []
        for point, out in zip(self.points, self._outs):
            row = []
            for i in range(len(point)):
                rule = prim.vjps[i] if prim.vjps is not None else None
                if rule is None or i not in wanted:
                    row.append(None)
                    continue
                args = [xp.float64(v) for v in point]  # NumPy's inf at a pole, not an error
                with xp.errstate(all="ignore"):
                    row.append(_number(rule(1.0, xp.float64(out), *args, **params)))
            chosen.append(tuple(row))
        self.chosen = chosen

    def __str__(self) -> str:
        head = (f"{self.primitive} at {self.where} ({self.policy}): {self.count} element(s) "
                f"at the kink {TABLE[self.kink].where}")
        lines = [head]
        for k, (index, point, hull, took) in enumerate(zip(
                self.indices, self.points, self.subdifferentials, self.chosen)):
            if self.elements is None:
                what = f"args ({_numbers(point)})"
            else:
                coords = self.elements[k]
                what = (f"{len(coords)} elements {_numbers_of(coords)} at "
                        f"({_numbers(point)})")
            lines.append(f"  element {index}: {what}, subdifferential {hull}, "
                         f"took ({_numbers(took)})")
        if self.perturbed is None:
            lines.append("  (no derivative rule ran yet: 'took' assumes every argument "
                         "is differentiated)")
        return "\n".join(lines)


def _numbers_of(coords: list[tuple[int, ...]]) -> str:
    shown = ", ".join(str(c) for c in coords[:SHOWN])
    return "[" + shown + (", ..." if len(coords) > SHOWN else "") + "]"


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
