"""``step_error_curve``: how the error of a finite difference depends on its step."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .evaluate import EvaluationError
from .result import StepErrorCurve
from .scalar import derivative
from .steps import auto_step
from .validate import (
    as_real_points,
    check_derivative_order,
    check_method,
    check_step,
    resolve_order,
)

__all__ = ["step_error_curve"]


def step_error_curve(
    f: Callable,
    x: float,
    steps: ArrayLike | None = None,
    method: str = "central",
    exact: float | None = None,
    *,
    n: int = 1,
    order: int | None = None,
) -> StepErrorCurve:
    """Total error of one finite-difference method at each of a range of steps (no plotting).

    Why: it shows the central fact of numerical differentiation. Large steps
    suffer truncation error (falling as ``h**order``), small steps round-off
    error (growing as ``eps / h**n``); on log-log axes the total is a V whose
    bottom is the best step, near the automatic one. The complex step has no
    right arm: it never subtracts. ``steps`` defaults to 65 steps log-spaced
    from ``1e-16`` to ``1`` (times ``max(1, |x|)``). The reference is ``exact``
    when given, else a Richardson estimate. Steps at which f fails (outside
    its domain) get a NaN error.

    >>> curve = step_error_curve(np.exp, 1.0, exact=np.e)
    >>> bool(1e-7 < curve.best_step < 1e-4), bool(curve.best_error < 1e-9)
    (True, True)
    >>> small, large = curve.errors[5], curve.errors[-1]  # steps 5.6e-15 and 1
    >>> bool(small > 1e-4 and large > 1e-2)  # round-off and truncation arms of the V
    True
    """
    method = check_method(method, ("central", "forward", "backward", "complex"))
    n = check_derivative_order(n)
    order = resolve_order(method, order)
    if method == "complex" and n != 1:
        raise ValueError(f"method='complex' gives first derivatives only (n=1); got n={n}")
    point = as_real_points(x)
    if point.ndim != 0:
        raise ValueError(f"step_error_curve takes a single point x; got shape {point.shape}")
    scale = max(1.0, abs(float(point)))
    if steps is None:
        hs = np.logspace(-16, 0, 65) * scale
    else:
        hs = np.asarray(steps, dtype=float).ravel()
        if hs.size == 0:
            raise ValueError("step_error_curve needs at least one step; got an empty steps")
        check_step(hs, hs.shape)
    calls = 0
    if exact is None:
        reference = derivative(f, point, method="richardson", n=n)
        calls += reference.evaluations
        ref_value, ref_kind = float(reference), "richardson"
        ref_error = float(reference.error_estimate)
    else:
        ref_value, ref_kind, ref_error = float(exact), "exact", 0.0
    errors = np.full(hs.shape, np.nan)
    for i, h in enumerate(hs):
        if method != "complex" and (point + h) - point == 0:
            continue  # a step too small to move x: no difference at all
        try:
            estimate = derivative(f, point, method=method, step=h, order=order, n=n)
        except EvaluationError:
            continue  # f is undefined at a stencil point of this step (outside its domain)
        calls += estimate.evaluations
        errors[i] = abs(float(estimate) - ref_value)
    return StepErrorCurve(
        x=float(point),
        steps=hs,
        errors=errors,
        reference=ref_value,
        reference_error=ref_error,
        reference_kind=ref_kind,
        method=method,
        auto_step=float(auto_step(point, n, order, method)),
        evaluations=calls,
    )
