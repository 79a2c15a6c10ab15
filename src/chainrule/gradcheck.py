"""Reverse mode checked against central differences, element by element.

At a kink central differences return the midpoint of the one-sided slopes,
which no convention has to match; where the evaluation touched a kink
(``cr.kinks``), an element passes if reverse mode lies between its
one-sided differences instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.backend import xp
from chainrule.subgradients import kinks
from chainrule.transforms import vjp


class GradcheckError(AssertionError):
    """Reverse mode and finite differences disagree."""


def _as_float64(x: Any) -> Any:
    return xp.asarray(getattr(x, "data", x), dtype=xp.float64)


def gradcheck(f: Callable[..., Any], *inputs: Any, eps: float | None = None,
              atol: float | None = None, rtol: float | None = None) -> bool:
    """Compare the full reverse-mode Jacobian of ``f`` with central differences.

    Inputs are taken in float64. Raises :class:`GradcheckError` naming the
    worst element (input, index, both values) when they disagree. If the
    evaluation came within ``eps`` of a kink, an element also passes when
    reverse mode lies between the one-sided differences (f(x) - f(x - eps))/eps
    and (f(x + eps) - f(x))/eps: a subgradient of the composite along that axis.

    >>> import numpy as np, chainrule as cr
    >>> cr.gradcheck(lambda x: cr.sin(x) * x, np.array([0.5, 1.5]))
    True
    >>> cr.gradcheck(cr.relu, np.array([0.0, 1.0]))   # relu'(0) = 0 lies in [0, 1]
    True
    """
    eps = 1e-6 if eps is None else eps
    atol = 1e-5 if atol is None else atol
    rtol = 1e-4 if rtol is None else rtol
    xs = [_as_float64(x) for x in inputs]
    with kinks(tol=eps) as report:  # central differences straddle a kink within eps
        out, vjp_fn = vjp(f, *xs)
        out = xp.asarray(out)
        analytic = [xp.zeros(out.shape + x.shape) for x in xs]
        for k in range(out.size):
            basis = xp.zeros(out.size)
            basis[k] = 1.0
            for j, g in enumerate(vjp_fn(basis.reshape(out.shape))):
                analytic[j].reshape(out.size, -1)[k] = xp.asarray(g).reshape(-1)
    center = _as_float64(out)
    for j, x in enumerate(xs):
        numeric = xp.zeros(out.shape + x.shape)
        flat = numeric.reshape(out.size, -1)
        left, right = xp.zeros_like(numeric), xp.zeros_like(numeric)
        for i in range(x.size):
            step = xp.zeros(x.size)
            step[i] = eps
            step = step.reshape(x.shape)
            plus = _evaluate(f, xs, j, x + step)
            minus = _evaluate(f, xs, j, x - step)
            flat[:, i] = ((plus - minus) / (2 * eps)).reshape(-1)
            left.reshape(out.size, -1)[:, i] = ((center - minus) / eps).reshape(-1)
            right.reshape(out.size, -1)[:, i] = ((plus - center) / eps).reshape(-1)
        error = xp.abs(analytic[j] - numeric) - (atol + rtol * xp.abs(numeric))
        if report:  # at a kink: anything between the one-sided slopes is a fair answer
            low, high = xp.minimum(left, right), xp.maximum(left, right)
            slack = atol + rtol * xp.maximum(xp.abs(low), xp.abs(high))
            inside = (analytic[j] >= low - slack) & (analytic[j] <= high + slack)
            error = xp.where(inside, -1.0, error)
        if error.size and error.max() > 0:
            # plain ints, so the message reads (1,) rather than (np.int64(1),)
            worst = tuple(int(i) for i in xp.unravel_index(int(xp.argmax(error)),
                                                           error.shape))
            raise GradcheckError(
                f"gradcheck: input {j}, output index {worst[:out.ndim]}, input index "
                f"{worst[out.ndim:]}: reverse mode gives {analytic[j][worst]:.10g}, "
                f"central differences give {numeric[worst]:.10g} (atol={atol}, rtol={rtol})"
                + (f"; one-sided differences give {left[worst]:.10g} and {right[worst]:.10g}, "
                   f"and the evaluation touched a kink:\n{report}" if report else ""))
    return True


def _evaluate(f: Callable[..., Any], xs: list, j: int, xj: Any) -> Any:
    args = list(xs)
    args[j] = xj
    return _as_float64(f(*args))


def gradgradcheck(f: Callable[..., Any], *inputs: Any, eps: float | None = None,
                  atol: float | None = None, rtol: float | None = None, seed: int = 0) -> bool:
    """Second derivatives: reverse mode through the gradient, against central
    differences of the gradient.

    The gradient of ``<f(x), v>`` (``v`` a seeded random cotangent) is itself
    differentiated by reverse mode and compared, element by element, with
    central differences of that gradient, exactly as :func:`gradcheck` does.

    >>> import numpy as np, chainrule as cr
    >>> cr.gradgradcheck(lambda x: cr.sin(x) * x ** 3, np.array([0.5, 1.5]))
    True
    """
    from chainrule.ops.shape import concatenate, reshape

    xs = [_as_float64(x) for x in inputs]
    out = xp.asarray(vjp(f, *xs)[0])
    v = xp.random.default_rng(seed).standard_normal(out.shape)

    def first_derivatives(*args: Any) -> Any:
        _, vjp_fn = vjp(f, *args)
        return concatenate([reshape(g, (-1,)) for g in vjp_fn(v)])

    return gradcheck(first_derivatives, *xs, eps=eps, atol=atol, rtol=rtol)
