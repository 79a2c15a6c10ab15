"""gradcheck's inputs and settings, checked once: dtypes, tolerances, modes, steps.

Tolerances follow the least precise floating input. AD in float32 is right
only to float32 rounding, so holding it to float64 tolerances would fail
correct rules; holding float64 to float32 ones would pass wrong ones. The
numerical reference is always computed in float64 (the inputs' values,
widened), so its own error does not grow with the inputs' precision.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chainrule.backend import dtype_of, is_float_dtype, xp
from chainrule.numerical import METHODS

__all__ = ["MODES", "Options", "default_tolerances", "prepare_inputs", "resolve_options"]

MODES = ("reverse", "forward")

# float64 defaults, as gradcheck has always used: they cover the error of central
# differences on well-scaled functions with a wide margin.
ATOL64 = 1e-5
RTOL64 = 1e-4


def default_tolerances(dtype: Any) -> tuple[float, float]:
    """``(atol, rtol)`` for AD computed in ``dtype``.

    ``atol = max(1e-5, sqrt(eps))`` and ``rtol = max(1e-4, 10 sqrt(eps))``
    with ``eps`` the dtype's machine epsilon: float64 keeps 1e-5 and 1e-4,
    float32 (eps 1.2e-7) gets 3.5e-4 and 3.5e-3, float16 3.1e-2 and 0.31.
    A chain of k operations in precision eps is accurate to about ``k eps``
    relative; ``10 sqrt(eps)`` leaves room for long chains while still
    catching a wrong rule, which is off by far more.

    >>> default_tolerances("float64")
    (1e-05, 0.0001)
    >>> [round(t, 6) for t in default_tolerances("float32")]
    [0.000345, 0.003453]
    """
    eps = float(xp.finfo(xp.dtype(dtype)).eps)
    return max(ATOL64, math.sqrt(eps)), max(RTOL64, 10.0 * math.sqrt(eps))


def prepare_inputs(inputs: Sequence[Any], name: str) -> list[Any]:
    """Inputs as arrays: floating ones keep their dtype, the rest become float64."""
    if not inputs:
        raise TypeError(f"{name}: give at least one input to differentiate at")
    xs = []
    for j, x in enumerate(inputs):
        x = xp.asarray(getattr(x, "data", x))
        if x.dtype.kind == "c":
            raise TypeError(f"{name}: input {j} is complex ({x.dtype}); derivatives are "
                            "checked for real inputs only")
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name}: input {j} must be a real number or array, got dtype "
                            f"{x.dtype}")
        xs.append(x if is_float_dtype(x.dtype) else x.astype(xp.float64))
    return xs


@dataclass(frozen=True)
class Options:
    """Resolved settings of one check (see ``gradcheck`` for their meaning)."""

    step: float | None
    atol: float
    rtol: float
    dtype: Any
    modes: tuple[str, ...]
    random_directions: int
    elementwise: bool
    method: str
    seed: int


def _tolerance(value: Any, name: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: {what} must be a finite number >= 0, got {value!r}")
    return float(value)


def _modes(modes: Any, name: str) -> tuple[str, ...]:
    chosen = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        raise ValueError(f"{name}: modes must be a non-empty selection of {MODES}, "
                         f"got {modes!r}")
    return tuple(dict.fromkeys(chosen))


def resolve_options(xs: list[Any], name: str, *, eps: Any, atol: Any, rtol: Any, modes: Any,
                    random_directions: Any, elementwise: bool, method: Any,
                    seed: Any) -> Options:
    """Check every setting by name and fill in the dtype-scaled defaults."""
    dtype = max((dtype_of(x) for x in xs), key=lambda d: xp.finfo(d).eps)
    default_atol, default_rtol = default_tolerances(dtype)
    atol = default_atol if atol is None else _tolerance(atol, name, "atol")
    rtol = default_rtol if rtol is None else _tolerance(rtol, name, "rtol")
    if eps is not None:
        eps = _tolerance(eps, name, "eps (the step)")
        if eps == 0:
            raise ValueError(f"{name}: eps (the step) must be > 0, got 0")
    if (isinstance(random_directions, bool) or not isinstance(random_directions, numbers.Integral)
            or random_directions < 0):
        raise ValueError(f"{name}: random_directions must be an integer >= 0, got "
                         f"{random_directions!r}")
    if not elementwise and not random_directions:
        raise ValueError(f"{name}: nothing to check; give elementwise=True or "
                         "random_directions >= 1")
    if method not in METHODS:
        raise ValueError(f"{name}: unknown method {method!r}; valid methods are "
                         f"{', '.join(map(repr, METHODS))}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name}: seed must be an integer, got {seed!r}")
    return Options(eps, atol, rtol, dtype, _modes(modes, name), int(random_directions),
                   bool(elementwise), method, int(seed))
