"""Flags on multivariate results: why they did not settle, and the complex step's analyticity."""

from __future__ import annotations

import numpy as np

from .evaluate import Evaluator
from .scalar import refuse_non_analytic
from .sequence import UNMEASURED

__all__ = ["at_x", "check_analytic", "not_settled"]


def check_analytic(ev: Evaluator, flat: np.ndarray, shape: tuple[int, ...], move: np.ndarray,
                   c: float, out: np.ndarray, slope: np.ndarray) -> None:
    """The complex step along ``move`` must match Re f's slope along it (f holomorphic)."""
    if flat.size == 0 or not move.any():
        return
    reach = np.full(np.shape(slope), max(1.0, float(np.max(np.abs(flat)))))

    def call(d: np.ndarray) -> np.ndarray:
        step = float(np.ravel(d)[0]) if np.size(d) else 0.0
        point = (flat + step * move + 1j * c * move).reshape(shape)
        return np.broadcast_to(ev.complex_call(point, "x + d*v + i*c*v", at_x), np.shape(slope))

    refuse_non_analytic(call, reach, np.asarray(c), np.broadcast_to(out, np.shape(slope)),
                        np.asarray(slope), where="x (along the direction of all ones)")


def not_settled(converged: object, measure: bool = True, method: str = "") -> str:
    """The message of a multivariate result whose estimates did not all settle."""
    if not measure and method != "complex":
        return UNMEASURED
    bad = ~np.asarray(converged, dtype=bool)
    if not bad.any():
        return ""
    i = [int(k) for k in np.argwhere(bad)[0]]
    more = f" (and {int(bad.sum()) - 1} more)" if bad.sum() > 1 else ""
    return (f"the finite differences of element {i}{more} did not settle as the step shrank: "
            "f may have a kink or jump at x (its one-sided slopes differ whatever the step), "
            "a pole or jump inside the stencil, or vary faster than the smallest step "
            "resolves; the error estimate covers the spread of the estimates (at a kink, both "
            "one-sided slopes)")


def at_x(index: tuple[int, ...] | None) -> str:
    return "x itself" + ("" if not index else f", output element [{', '.join(map(str, index))}]")
