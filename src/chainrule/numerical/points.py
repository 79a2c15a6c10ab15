"""Stencil points of a function of an array: x moved along coordinates, each point evaluated once.

A multivariate stencil evaluates f at ``x + sum_j z_j h_j e_j`` for a few
coordinates j. The same point often serves several entries (f(x) is shared by
every forward difference; x + h_i e_i serves the diagonal and the off-diagonal
of a forward Hessian), so points are cached by their moves, and
``evaluations`` counts distinct points only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .evaluate import EvaluationError, Evaluator, fmt
from .steps import EPS

__all__ = ["Points", "domain_checked"]

# A point is a tuple of moves (coordinate j, multiple z of h_j), sorted, no zeros.
Moves = tuple[tuple[int, float], ...]


class Points:
    """Evaluates f at x moved along coordinate axes (or along one direction), with a cache.

    ``x`` is flat (f sees it reshaped to ``shape``); ``h`` holds one step per
    coordinate. ``direction`` (flat, optional) replaces the axes by a single
    direction v: coordinate 0 then moves x by ``z * h[0] * v``.
    ``check_out(out, where)`` validates each result (e.g. that f is scalar); ``where()``
    names the point, built only when the check fails.
    """

    __slots__ = ("cache", "check_out", "direction", "ev", "h", "out_shape", "shape", "x")

    def __init__(
        self,
        ev: Evaluator,
        x: np.ndarray,
        h: np.ndarray,
        shape: tuple[int, ...],
        check_out: Callable[[np.ndarray, Callable[[], str]], None],
        direction: np.ndarray | None = None,
    ) -> None:
        self.ev = ev
        self.x = x
        self.h = h
        self.shape = shape
        self.check_out = check_out
        self.direction = direction
        self.cache: dict[Moves, np.ndarray] = {}
        self.out_shape: tuple[int, ...] | None = None

    def __call__(self, *moves: tuple[int, float]) -> np.ndarray:
        """f at x moved by ``moves``: ``points((0, 1.0), (2, -1.0))`` is f(x + h0 e0 - h2 e2)."""
        key = tuple(sorted((j, float(z)) for j, z in moves if z != 0))
        if key not in self.cache:
            self.cache[key] = self._evaluate(key)
        return self.cache[key]

    def _evaluate(self, key: Moves) -> np.ndarray:
        point = self.x.copy()
        for j, z in key:
            if self.direction is None:
                point[j] += z * self.h[j]
            else:
                point += z * self.h[0] * self.direction
        label = self.label(key)
        out = self.ev(point.reshape(self.shape), label, lambda index: self.describe(key, index))
        self.check_out(out, lambda: self.describe(key, None))
        if self.out_shape is None:
            self.out_shape = out.shape
        elif out.shape != self.out_shape:
            raise ValueError(
                f"f returned shape {out.shape} at {label} but shape {self.out_shape} at an "
                "earlier point; its output shape must not depend on x"
            )
        return out

    def coordinate(self, j: int) -> str:
        """Index text of flat coordinate j in x's shape: ``3`` or ``1, 0``."""
        if self.direction is not None:
            return ""
        return ", ".join(str(int(i)) for i in np.unravel_index(j, self.shape)) or "()"

    def label(self, key: Moves) -> str:
        """``x + 2*h3*e[1, 0] - h5*e[2, 1]`` (flat index j in h_j), or ``x + t*v`` terms."""
        if not key:
            return "x"
        text = "x"
        for j, z in key:
            sign = "+" if z > 0 else "-"
            coeff = "" if abs(z) == 1 else f"{abs(z):g}*"
            unit = "v" if self.direction is not None else f"e[{self.coordinate(j)}]"
            var = "t" if self.direction is not None else f"h{j}"
            text += f" {sign} {coeff}{var}*{unit}"
        return text

    def describe(self, key: Moves, index: tuple[int, ...] | None) -> str:
        """The point's label with the numbers a user needs to find it."""
        parts = []
        for j, _ in key:
            if self.direction is not None:
                parts.append(f"t = {fmt(self.h[0])}")
            else:
                where = self.coordinate(j)
                parts.append(f"h{j} = {fmt(self.h[j])}, x[{where}] = {fmt(self.x[j])}")
        out = "" if not index else f", output element [{', '.join(map(str, index))}]"
        if not key:
            return f"x itself{out}"
        return f"the stencil point {self.label(key)} ({'; '.join(parts)}){out}"

    def weighted_sum(
        self, terms: list[tuple[float, tuple[tuple[int, float], ...]]], scale: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """``sum_k w_k f(point_k) / scale`` and its round-off bound ``eps sum|w_k f_k| / scale``."""
        total = 0.0
        magnitude = 0.0
        for weight, moves in terms:
            out = self(*moves)
            total = total + weight * out
            magnitude = magnitude + np.abs(weight * out)
        return np.asarray(total / scale), np.asarray(EPS * magnitude / scale)


def domain_checked(ev: Evaluator, x: np.ndarray, compute: Callable[[], object]) -> object:
    """``compute()``; a failure at a stencil point is re-reported at x if f fails there too."""
    try:
        return compute()
    except EvaluationError as failure:
        def describe(index: tuple[int, ...] | None) -> str:
            out = "" if not index else f", output element [{', '.join(map(str, index))}]"
            return f"x itself{out}"

        ev.check_domain(x, describe, failure)
        raise
