"""The subgradient method: gradient descent for convex functions with kinks.

Where a convex ``f`` has a kink (an L1 penalty at 0, a hinge at its
corner) there is no gradient, but reverse mode still returns a subgradient
``g`` (see ``chainrule.subgradients``), and ``x - a * g`` moves towards the
minimizers for small enough ``a``. It is not a descent method (``f`` may go
up), so the best point seen is kept. The step rule decides convergence:

* ``"constant"``: ``a_k = lr``; ends within about ``lr * G**2 / 2`` of the
  optimum (``G`` bounds the subgradients), no closer;
* ``"sqrt"``: ``a_k = lr / sqrt(k + 1)``; the best value converges like
  ``1 / sqrt(k)``;
* ``"polyak"``: ``a_k = (f(x_k) - f_star) / |g_k|**2``, when the optimal value
  ``f_star`` is known; often much faster;
* a callable ``step(k, value, grad) -> a_k``.

A zero subgradient proves ``x`` optimal (for convex ``f``), which the
minimum-norm convention makes likely: the method stops there.

>>> import numpy as np, chainrule as cr
>>> from chainrule.optim.subgradient import subgradient_method
>>> f = lambda x: cr.sum(cr.abs(x - np.array([1.0, -2.0])))
>>> res = subgradient_method(f, np.zeros(2), step="constant", lr=0.5, steps=100)
>>> res.x, res.value, res.iterations, res.message
(array([ 1., -2.]), 0.0, 4, 'a zero subgradient: x is optimal')
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chainrule.backend import xp
from chainrule.transforms import value_and_grad

__all__ = ["subgradient_method", "SubgradientResult", "STEP_RULES"]

STEP_RULES = ("constant", "sqrt", "polyak")

StepRule = Callable[[int, float, Any], float]


@dataclass
class SubgradientResult:
    """The best point the subgradient method found, and the way there.

    ``history[k]`` is f at the k-th iterate (the start included) and
    ``best_history[k]`` the best value up to it; ``x_last`` is the final
    iterate, which need not be the best.
    """

    x: Any
    value: float
    x_last: Any
    iterations: int
    step_rule: str
    message: str
    history: list[float] = field(repr=False, default_factory=list)
    best_history: list[float] = field(repr=False, default_factory=list)


def _step_rule(step: str | float | StepRule, lr: float, f_star: float | None
               ) -> tuple[str, StepRule]:
    if callable(step):
        return getattr(step, "__name__", "custom"), step
    if isinstance(step, (int, float)) and not isinstance(step, bool):
        lr, step = float(step), "constant"
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"subgradient_method: lr must be a finite number > 0, got {lr!r}")
    if step == "constant":
        return step, lambda k, value, g: lr
    if step == "sqrt":
        return step, lambda k, value, g: lr / math.sqrt(k + 1)
    if step == "polyak":
        if f_star is None or not math.isfinite(f_star):
            raise ValueError("subgradient_method: the Polyak step needs the optimal value; "
                             "pass f_star=")
        return step, lambda k, value, g: (value - f_star) / float(xp.vdot(g, g))
    raise ValueError(f"subgradient_method: unknown step rule {step!r}; use one of "
                     f"{', '.join(repr(s) for s in STEP_RULES)}, a number or a callable")


def subgradient_method(f: Callable[[Any], Any], x0: Any, *,
                       step: str | float | StepRule = "sqrt", lr: float = 1.0,
                       steps: int = 1000, f_star: float | None = None, tol: float = 0.0,
                       callback: Callable[[int, Any, float], Any] | None = None
                       ) -> SubgradientResult:
    """Minimize convex ``f`` from ``x0`` by ``x <- x - a_k g_k``, keeping the best point.

    ``g_k`` is reverse mode's (sub)gradient of ``f`` at ``x_k``; ``step`` picks
    ``a_k`` (see the module docstring). With ``f_star`` the method stops once
    ``f(x) - f_star <= tol``. ``callback(k, x, value)`` runs after every
    evaluation; returning True stops early.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"subgradient_method: steps must be an int >= 0, got {steps!r}")
    name, rule = _step_rule(step, lr, f_star)
    x = xp.array(x0, dtype=xp.float64)
    vg = value_and_grad(f)
    best_x, best = x.copy(), math.inf
    history: list[float] = []
    best_history: list[float] = []
    message = f"stopped after {steps} steps"
    k = 0
    while True:
        value, g = vg(x)
        value, g = float(value), xp.asarray(g, dtype=xp.float64)
        if not math.isfinite(value) or not xp.isfinite(g).all():
            message = f"f or its subgradient is not finite at step {k}"
            break
        history.append(value)
        if value < best:
            best, best_x = value, x.copy()
        best_history.append(best)
        if callback is not None and callback(k, x, value) is True:
            message = "stopped by the callback"
            break
        if f_star is not None and best - f_star <= tol:
            message = f"within tol={tol:g} of f_star"
            break
        if not g.any():
            message = "a zero subgradient: x is optimal"
            break
        if k == steps:
            break
        x = x - rule(k, value, g) * g
        k += 1
    return SubgradientResult(best_x, best, x, k, name, message, history, best_history)
