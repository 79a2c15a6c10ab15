"""Automatic step sizes: balance truncation error against round-off, per method.

A stencil of accuracy order p for the n-th derivative has a truncation error
about ``C h**p`` and a round-off error about ``eps |f| / h**n`` (the values
f(x + k h) are correct to eps relative, and the differences divide by h**n).
Their sum is smallest at ``h ~ eps**(1/(n + p))`` times the length over which f
changes, which we take to be ``max(1, |x|)``: f's scale when x is large, and 1
near 0, where ``|x|`` says nothing about f.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .validate import (
    as_real_points,
    check_derivative_order,
    check_method,
    resolve_order,
)

__all__ = ["COMPLEX_STEP", "EPS", "RICHARDSON_EXTRA_ORDER", "auto_step"]

EPS = float(np.finfo(float).eps)

# The complex step has no subtraction, hence no round-off growth as h shrinks:
# any tiny h works. 1e-20 makes the O(h**2) truncation ~1e-40 relative, yet keeps
# h * f'(x) far from underflow for any derivative above ~1e-288.
COMPLEX_STEP = 1e-20

# Richardson starts from a larger step than the plain stencil (its extrapolation
# removes the h**p, h**(p+2), ... error terms that such a step leaves): the step
# that would balance round-off against an error of order p + RICHARDSON_EXTRA_ORDER.
RICHARDSON_EXTRA_ORDER = 5


def auto_step(
    x: ArrayLike, n: int = 1, order: int | None = None, method: str = "central"
) -> np.ndarray:
    """The default step of ``method`` for the n-th derivative at each point of ``x``.

    Why: too large a step and truncation error dominates, too small and
    round-off does (see ``step_error_curve``). The step here is
    ``eps**(1/(n + order)) * max(1, |x|)`` for central, forward and backward
    stencils, ``eps**(1/(n + order + 5)) * max(1, |x|)`` for the first step of
    Richardson's sequence and ``1e-20 * max(1, |x|)`` for the complex step.

    >>> float(auto_step(1.0))  # eps ** (1/3)
    6.055454452393343e-06
    >>> auto_step([0.0, 100.0], method="forward")  # eps ** (1/2) * max(1, |x|)
    array([1.49011612e-08, 1.49011612e-06])
    """
    method = check_method(method)
    n = check_derivative_order(n)
    order = resolve_order(method, order)
    scale = np.maximum(1.0, np.abs(as_real_points(x)))
    if method == "complex":
        return COMPLEX_STEP * scale
    if method == "richardson":
        return EPS ** (1.0 / (n + order + RICHARDSON_EXTRA_ORDER)) * scale
    return EPS ** (1.0 / (n + order)) * scale
