"""Reverse mode checked against central differences, element by element."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.backend import xp
from chainrule.transforms import vjp


class GradcheckError(AssertionError):
    """Reverse mode and finite differences disagree."""


def _as_float64(x: Any) -> Any:
    return xp.asarray(getattr(x, "data", x), dtype=xp.float64)


def gradcheck(f: Callable[..., Any], *inputs: Any, eps: float | None = None,
              atol: float | None = None, rtol: float | None = None) -> bool:
    """Compare the full reverse-mode Jacobian of ``f`` with central differences.

    Inputs are taken in float64. Raises :class:`GradcheckError` naming the
    worst element (input, index, both values) when they disagree.

    >>> import numpy as np, chainrule as cr
    >>> cr.gradcheck(lambda x: cr.sin(x) * x, np.array([0.5, 1.5]))
    True
    """
    eps = 1e-6 if eps is None else eps
    atol = 1e-5 if atol is None else atol
    rtol = 1e-4 if rtol is None else rtol
    xs = [_as_float64(x) for x in inputs]
    out, vjp_fn = vjp(f, *xs)
    out = xp.asarray(out)
    analytic = [xp.zeros(out.shape + x.shape) for x in xs]
    for k in range(out.size):
        basis = xp.zeros(out.size)
        basis[k] = 1.0
        for j, g in enumerate(vjp_fn(basis.reshape(out.shape))):
            analytic[j].reshape(out.size, -1)[k] = xp.asarray(g).reshape(-1)
    for j, x in enumerate(xs):
        numeric = xp.zeros(out.shape + x.shape)
        flat = numeric.reshape(out.size, -1)
        for i in range(x.size):
            step = xp.zeros(x.size)
            step[i] = eps
            step = step.reshape(x.shape)
            plus = _evaluate(f, xs, j, x + step)
            minus = _evaluate(f, xs, j, x - step)
            flat[:, i] = ((plus - minus) / (2 * eps)).reshape(-1)
        error = xp.abs(analytic[j] - numeric) - (atol + rtol * xp.abs(numeric))
        if error.size and error.max() > 0:
            worst = xp.unravel_index(int(xp.argmax(error)), error.shape)
            raise GradcheckError(
                f"gradcheck: input {j}, output index {worst[:out.ndim]}, input index "
                f"{worst[out.ndim:]}: reverse mode gives {analytic[j][worst]:.10g}, "
                f"central differences give {numeric[worst]:.10g} (atol={atol}, rtol={rtol})")
    return True


def _evaluate(f: Callable[..., Any], xs: list, j: int, xj: Any) -> Any:
    args = list(xs)
    args[j] = xj
    return _as_float64(f(*args))
