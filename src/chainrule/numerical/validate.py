"""Argument checks shared by every numerical function: each bad argument fails early, by name."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike

METHODS = ("central", "forward", "backward", "complex", "richardson")

# Accuracy order used when the caller passes order=None: the cheapest stencil of
# each family (forward and backward differences of order 1 are the classic
# n + 1 evaluation gradient; central differences are never less than order 2).
DEFAULT_ORDER = {"central": 2, "forward": 1, "backward": 1, "complex": 2, "richardson": 2}

# Methods whose stencils are symmetric, so their accuracy order is even.
SYMMETRIC = ("central", "richardson")


def check_method(method: object, valid: tuple[str, ...] = METHODS) -> str:
    """Return ``method`` if it is one of ``valid``; otherwise a ValueError listing them."""
    if not isinstance(method, str) or method not in valid:
        listed = ", ".join(repr(name) for name in valid)
        raise ValueError(f"unknown method {method!r}; valid methods are {listed}")
    return method


def _as_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r} of type {type(value).__name__}")
    return int(value)


def check_derivative_order(n: object, *, allow_zero: bool = False) -> int:
    """The derivative order n: an integer >= 1 (>= 0 where the 0th derivative makes sense)."""
    n = _as_int(n, "the derivative order n")
    least = 0 if allow_zero else 1
    if n < least:
        raise ValueError(f"the derivative order n must be >= {least}; got n={n}")
    return n


def resolve_order(method: str, order: object) -> int:
    """The accuracy order: the method's default for None, else an integer >= 1 (even if central)."""
    if order is None:
        return DEFAULT_ORDER[method]
    order = _as_int(order, "the accuracy order")
    if order < 1:
        raise ValueError(f"the accuracy order must be >= 1; got order={order}")
    if method in SYMMETRIC and order % 2:
        raise ValueError(
            f"method={method!r} uses symmetric stencils, whose accuracy order is even; "
            f"got order={order} (use order={order + 1}, or method='forward'/'backward')"
        )
    return order


def check_step(step: ArrayLike | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """A user step: positive and finite, a scalar or an array broadcastable to ``shape``."""
    if step is None:
        return None
    try:
        h = np.asarray(step, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"step must be a positive number or array; got {step!r}") from exc
    if not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise ValueError(f"step must be positive and finite; got step={step!r}")
    try:
        return np.broadcast_to(h, shape).copy()
    except ValueError:
        raise ValueError(
            f"step of shape {h.shape} does not broadcast to the points' shape {shape}"
        ) from None


def as_real_points(x: ArrayLike, what: str = "x") -> np.ndarray:
    """``x`` as a float64 array, refusing complex, non-numeric and non-finite points."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{what} must be a real number or array; got {x!r}") from exc
    if arr.dtype.kind == "c":
        raise TypeError(f"{what} must be real; got complex {x!r} (differentiate real and "
                        "imaginary parts separately)")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be a real number or array; got dtype {arr.dtype}")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite; got {x!r}")
    return arr
