"""Proximal gradient: minimize smooth f plus a simple non-smooth penalty h.

Instead of a subgradient of ``f + h``, each step takes a gradient step on
the smooth part and then solves the penalty exactly through its proximal
operator ``prox_{t h}(v) = argmin_x h(x) + |x - v|**2 / (2 t)``:

    x_{k+1} = prox_{t h}(x_k - t grad f(x_k))                    (ISTA)

FISTA adds Nesterov's momentum and improves the rate from 1/k to 1/k**2.
For the L1 norm the prox is soft thresholding, which sets small entries to
exactly 0 (the subgradient method only gets near 0); for a box it is clip.
The step ``t`` is ``lr`` if given, else found by backtracking: t is halved
until f(x+) <= f(y) + <grad f(y), x+ - y> + |x+ - y|**2 / (2 t).

>>> import numpy as np, chainrule as cr
>>> from chainrule.optim.proximal import L1, fista
>>> f = lambda x: 0.5 * cr.sum((x - np.array([3.0, 0.2])) ** 2)
>>> fista(f, np.zeros(2), L1(1.0), lr=1.0).x     # soft thresholding of (3, 0.2) by 1
array([2., 0.])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chainrule.backend import xp
from chainrule.transforms import value_and_grad

__all__ = ["prox_l1", "prox_box", "L1", "Box", "proximal_gradient", "ista", "fista",
           "ProximalResult"]


def prox_l1(v: Any, t: Any) -> Any:
    """Soft thresholding: the prox of ``t * |x|_1``, shrinking each entry towards 0 by t.

    >>> import numpy as np
    >>> prox_l1(np.array([3.0, -2.5, 0.5]), 1.0)
    array([ 2. , -1.5,  0. ])
    """
    v = xp.asarray(v, dtype=xp.float64)
    return xp.sign(v) * xp.maximum(xp.abs(v) - t, 0.0)


def prox_box(v: Any, lo: Any, hi: Any) -> Any:
    """The prox of the box constraint lo <= x <= hi (for any step): the projection, clip.

    >>> import numpy as np
    >>> prox_box(np.array([-2.0, 0.5, 2.0]), -1.0, 1.0)
    array([-1. ,  0.5,  1. ])
    """
    return xp.clip(xp.asarray(v, dtype=xp.float64), lo, hi)


class L1:
    """The penalty ``lam * sum(|x|)`` (``lam`` a number or one weight per entry)."""

    def __init__(self, lam: Any) -> None:
        lam_arr = xp.asarray(lam, dtype=xp.float64)
        if not (xp.isfinite(lam_arr).all() and (lam_arr >= 0).all()):
            raise ValueError(f"L1: lam must be finite and >= 0, got {lam!r}")
        self.lam = lam_arr

    def __call__(self, x: Any) -> float:
        return float(xp.sum(self.lam * xp.abs(x)))

    def prox(self, v: Any, t: float) -> Any:
        return prox_l1(v, t * self.lam)

    def __repr__(self) -> str:
        return f"L1(lam={self.lam.tolist()})"


class Box:
    """The constraint ``lo <= x <= hi``: 0 inside, +inf outside."""

    def __init__(self, lo: Any, hi: Any) -> None:
        if xp.any(xp.asarray(lo) > xp.asarray(hi)):
            raise ValueError(f"Box: every lower bound must be <= its upper bound, got "
                             f"lo={lo!r}, hi={hi!r}")
        self.lo, self.hi = lo, hi

    def __call__(self, x: Any) -> float:
        inside = xp.all((x >= self.lo) & (x <= self.hi))
        return 0.0 if inside else math.inf

    def prox(self, v: Any, t: float) -> Any:
        return prox_box(v, self.lo, self.hi)

    def __repr__(self) -> str:
        return f"Box(lo={self.lo!r}, hi={self.hi!r})"


@dataclass
class ProximalResult:
    """Where proximal gradient ended: ``value`` is f + penalty at ``x``;
    ``history[k]`` is that objective at the k-th iterate (the start included)."""

    x: Any
    value: float
    iterations: int
    converged: bool
    method: str
    lr: float
    history: list[float] = field(repr=False, default_factory=list)


def proximal_gradient(f: Callable[[Any], Any], x0: Any, penalty: Any = None, *,
                      lr: float | None = None, steps: int = 500, accelerated: bool = True,
                      tol: float = 1e-10,
                      callback: Callable[[int, Any, float], Any] | None = None
                      ) -> ProximalResult:
    """Minimize ``f(x) + penalty(x)``: ``f`` smooth (its gradient by reverse mode),
    ``penalty`` an object with ``__call__`` (its value) and ``prox(v, t)``
    (``L1``, ``Box`` or your own; None for plain gradient descent).

    ``accelerated`` chooses FISTA over ISTA. Stops when a step moves x by at
    most ``tol * max(1, |x|)``. ``callback(k, x, value)`` returning True stops.
    """
    if lr is not None and not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"proximal_gradient: lr must be a finite number > 0 or None, got {lr!r}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"proximal_gradient: steps must be an int >= 0, got {steps!r}")
    if penalty is not None and not (callable(penalty) and hasattr(penalty, "prox")):
        raise TypeError(f"proximal_gradient: penalty must have __call__ and prox(v, t), got "
                        f"{type(penalty).__name__}")
    h = penalty if penalty is not None else (lambda x: 0.0)
    prox = penalty.prox if penalty is not None else (lambda v, t: v)
    vg = value_and_grad(f)
    x = xp.array(x0, dtype=xp.float64)
    y, momentum = x, 1.0
    t = lr if lr is not None else 1.0
    history = [float(f(x)) + h(x)]
    converged = False
    k = 0
    for k in range(1, steps + 1):  # noqa: B007 - k is reported
        fy, gy = vg(y)
        fy, gy = float(fy), xp.asarray(gy, dtype=xp.float64)
        while True:  # backtracking: shrink t until the quadratic model bounds f
            x_new = prox(y - t * gy, t)
            if lr is not None:
                break
            d = x_new - y
            model = fy + float(xp.vdot(gy, d)) + float(xp.vdot(d, d)) / (2 * t)
            # slack for rounding: near the optimum both sides agree to the last bits
            if float(f(x_new)) <= model + 1e-12 * max(1.0, abs(fy)):
                break
            t /= 2.0
        moved = float(xp.linalg.norm(x_new - x))
        if accelerated:
            following = (1.0 + math.sqrt(1.0 + 4.0 * momentum * momentum)) / 2.0
            y = x_new + ((momentum - 1.0) / following) * (x_new - x)
            momentum = following
        else:
            y = x_new
        x = x_new
        history.append(float(f(x)) + h(x))
        if callback is not None and callback(k, x, history[-1]) is True:
            break
        if moved <= tol * max(1.0, float(xp.linalg.norm(x))):
            converged = True
            break
    return ProximalResult(x, history[-1], k if steps else 0, converged,
                          "fista" if accelerated else "ista", t, history)


def ista(f: Callable[[Any], Any], x0: Any, penalty: Any = None, **options: Any
         ) -> ProximalResult:
    """Proximal gradient without momentum (rate 1/k); see ``proximal_gradient``."""
    return proximal_gradient(f, x0, penalty, accelerated=False, **options)


def fista(f: Callable[[Any], Any], x0: Any, penalty: Any = None, **options: Any
          ) -> ProximalResult:
    """Proximal gradient with Nesterov's momentum (rate 1/k**2); see ``proximal_gradient``."""
    return proximal_gradient(f, x0, penalty, accelerated=True, **options)
