"""``gradgradcheck``: second derivatives, as AD of the AD gradient against its differences.

The gradient of ``<f(x), w>`` (``w`` a seeded random cotangent) is computed
by reverse mode and then itself checked exactly as :func:`gradcheck` checks
a function: reverse over reverse and forward over reverse, against central
differences of that gradient. Differences of a correct first derivative
are far more accurate than second differences of f, so run gradcheck first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import xp
from chainrule.transforms import vjp

from .first_order import run_checks
from .options import MODES, prepare_inputs, resolve_options

__all__ = ["gradgradcheck"]

SECOND_ORDER_MODES = {"reverse": "reverse-over-reverse", "forward": "forward-over-reverse"}


def gradgradcheck(f: Callable[..., Any], *inputs: Any, eps: float | None = None,
                  atol: float | None = None, rtol: float | None = None, seed: int = 0,
                  modes: str | Sequence[str] = MODES, random_directions: int = 2,
                  elementwise: bool = True, method: str = "central") -> bool:
    """Check the second derivatives of ``f``: AD of its gradient against differences of it.

    Options and tolerances as in :func:`gradcheck`; ``modes`` selects
    reverse-over-reverse and forward-over-reverse. Raises
    :class:`GradcheckError` naming the mode, the element of the gradient
    (as output index, flattened over all inputs) and the input element.

    >>> import numpy as np, chainrule as cr
    >>> cr.gradgradcheck(lambda x: cr.sin(x) * x ** 3, np.array([0.5, 1.5]))
    True
    """
    from chainrule.ops.shape import concatenate, reshape

    xs = prepare_inputs(inputs, "gradgradcheck")
    opts = resolve_options(xs, "gradgradcheck", eps=eps, atol=atol, rtol=rtol, modes=modes,
                           random_directions=random_directions, elementwise=elementwise,
                           method=method, seed=seed)
    out = vjp(f, *xs)[0]
    out = xp.asarray(getattr(out, "data", out))
    w = xp.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)

    def first_derivatives(*args: Any) -> Any:
        _, vjp_fn = vjp(f, *args)
        return concatenate([reshape(g, (-1,)) for g in vjp_fn(w)])

    run_checks(first_derivatives, xs, opts, "gradgradcheck", SECOND_ORDER_MODES)
    return True
