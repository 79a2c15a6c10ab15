"""Minimize a plain function of a NumPy array: the calculus-course use of a derivative.

``minimize(f, x0, method=...)`` repeats "evaluate f and its gradient (by
reverse mode), step downhill" until the gradient is small. The first-order
methods are the library's own optimizers applied to one tensor; Newton's
method also needs the Hessian (``cr.hessian``: forward mode over reverse
mode) and solves ``H d = g``.

>>> import chainrule as cr
>>> res = cr.optim.minimize(lambda x: x**2 - 3*x - 2, 0.0, method="newton")
>>> float(res.x), res.iterations, res.converged      # f'(x) = 2x - 3 = 0
(1.5, 1, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chainrule.backend import xp
from chainrule.optim.optimizers import SGD, Adam, Optimizer
from chainrule.tensor import Tensor
from chainrule.transforms import hessian, value_and_grad

__all__ = ["minimize", "MinimizeResult"]

METHODS = ("gd", "momentum", "adam", "newton")
DEFAULT_LR = {"gd": 0.1, "momentum": 0.1, "adam": 0.1, "newton": 1.0}


@dataclass
class MinimizeResult:
    """What ``minimize`` found: the point, its value, and how it got there.

    ``history`` holds f at every iterate (the start included) and ``path``
    the iterates themselves, so a descent can be plotted; ``converged`` says
    whether the gradient norm fell to ``tol`` within ``steps``.
    """

    x: Any
    value: float
    grad: Any
    iterations: int
    converged: bool
    method: str
    message: str
    history: list[float] = field(repr=False, default_factory=list)
    path: Any = field(repr=False, default=None)


def _hessian_matrix(f: Callable[[Any], Any], x: Any) -> Any:
    """The Hessian of scalar ``f`` at ``x`` as an n x n matrix (n = x.size)."""
    return xp.asarray(hessian(f)(x)).reshape(x.size, x.size)


def _newton_direction(h: Any, g: Any) -> Any:
    try:
        return xp.linalg.solve(h, g)
    except xp.linalg.LinAlgError:  # singular Hessian: the least-squares direction
        return xp.linalg.lstsq(h, g, rcond=None)[0]


def _first_order(method: str, x: Tensor, lr: float, momentum: float,
                 betas: tuple[float, float]) -> Optimizer:
    if method == "gd":
        return SGD([x], lr=lr)
    if method == "momentum":
        return SGD([x], lr=lr, momentum=momentum)
    return Adam([x], lr=lr, betas=betas)


def minimize(f: Callable[[Any], Any], x0: Any, method: str = "gd", lr: float | None = None,
             steps: int = 1000, tol: float = 1e-6, *, momentum: float = 0.9,
             betas: tuple[float, float] = (0.9, 0.999),
             callback: Callable[[int, Any, float], Any] | None = None) -> MinimizeResult:
    """Minimize scalar ``f`` starting from ``x0`` (a float or an array).

    ``method``: ``"gd"`` (x -= lr * grad), ``"momentum"`` (heavy ball,
    PyTorch's SGD momentum), ``"adam"`` or ``"newton"`` (x -= lr * H^-1 grad;
    it jumps to the stationary point of the local quadratic model, which is a
    minimum only where H is positive definite). ``lr`` defaults to 0.1 (1.0
    for Newton). Stops when the gradient's 2-norm is at most ``tol``, after
    ``steps`` updates, or when f stops being finite. ``callback(k, x, value)``
    runs at every iterate.

    >>> import numpy as np, chainrule as cr
    >>> rosen = lambda v: (1 - v[0])**2 + 100 * (v[1] - v[0]**2)**2
    >>> res = cr.optim.minimize(rosen, np.array([-1.0, 1.0]), method="newton", steps=50)
    >>> np.round(res.x, 6), res.converged
    (array([1., 1.]), True)
    """
    if method not in METHODS:
        raise ValueError(f"minimize: method must be one of {METHODS}, got {method!r}")
    lr = DEFAULT_LR[method] if lr is None else lr
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"minimize: lr must be a positive finite number, got {lr!r}")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"minimize: steps must be a non-negative integer, got {steps!r}")
    x = xp.array(x0.data if isinstance(x0, Tensor) else x0)
    if x.dtype.kind != "f":
        x = x.astype(xp.float64)
    if x.dtype.kind != "f" or x.dtype == xp.float16:
        raise TypeError(f"minimize: x0 must be real numbers, got dtype {x.dtype}")
    scalar_input = x.ndim == 0
    value_grad = value_and_grad(f)
    param = Tensor(x, requires_grad=True)
    optimizer = None if method == "newton" else _first_order(method, param, lr, momentum, betas)

    history: list[float] = []
    path = []
    converged = False
    message = f"stopped after {steps} steps without reaching tol={tol}"
    k = 0
    while True:
        value, g = value_grad(param.data.copy())
        value = float(value)
        g = xp.asarray(g)
        history.append(value)
        path.append(param.data.copy())
        if callback is not None:
            callback(k, param.data.copy(), value)
        if not (math.isfinite(value) and xp.all(xp.isfinite(g))):
            message = (f"diverged: f or its gradient is not finite at iteration {k}; "
                       f"try a smaller lr")
            break
        if float(xp.linalg.norm(g.ravel())) <= tol:
            converged = True
            message = f"gradient norm <= tol={tol} after {k} steps"
            break
        if k == steps:
            break
        if optimizer is None:
            h = _hessian_matrix(f, param.data.copy())
            d = _newton_direction(h, g.ravel()).reshape(x.shape)
            param.data = param.data - lr * d
        else:
            param.grad = Tensor._wrap(g, None)
            optimizer.step()
        k += 1
    final = param.data.copy()
    return MinimizeResult(x=final[()] if scalar_input else final, value=history[-1],
                          grad=g[()] if scalar_input else g, iterations=k,
                          converged=converged, method=method, message=message,
                          history=history, path=xp.stack(path))
