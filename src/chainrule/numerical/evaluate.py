"""Calling f at stencil points: count the calls, check the values, name the point on failure.

Every finite-difference method evaluates f at points the user never chose
(x + 2h, x - h, x + ih). When f fails there, the user must learn where: a NaN
from ``log`` at ``x - h`` means x sits too close to the edge of f's domain, not
that the method is broken. So every call goes through ``Evaluator``, which turns
an exception or a non-finite value into an ``EvaluationError`` naming the point.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

__all__ = ["EvaluationError", "Evaluator", "fmt"]

# describe(index) -> text naming the point; index is the position of the first bad
# value in f's output, or None when f raised.
Describe = Callable[[tuple[int, ...] | None], str]


class EvaluationError(ValueError):
    """f raised, or returned NaN or infinity, at a point a derivative method needed.

    ``point`` holds the argument f was called with, ``label`` the point's name
    (such as ``"x - h"``), so a caller can recover programmatically.
    """

    def __init__(self, message: str, point: object = None, label: str = "") -> None:
        super().__init__(message)
        self.point = point
        self.label = label


def fmt(value: object) -> str:
    """Shortest round-trip text of a real or complex number (for error messages)."""
    value = complex(value) if np.iscomplexobj(value) else float(value)
    return repr(value)


def _hint_for(exc: BaseException) -> str:
    if isinstance(exc, TypeError):
        return (" (f must accept NumPy float64 scalars and, for array x, whole arrays: "
                "use np.sin rather than math.sin)")
    return " (x may lie outside f's domain, or too close to its edge for this step)"


class Evaluator:
    """Wraps f: counts calls, refuses non-numeric and non-finite output, names failing points."""

    __slots__ = ("calls", "f")

    def __init__(self, f: Callable) -> None:
        if not callable(f):
            raise TypeError(f"f must be callable; got {f!r} of type {type(f).__name__}")
        self.f = f
        self.calls = 0

    def __call__(self, point: object, label: str, describe: Describe) -> np.ndarray:
        """f(point) as an array, every value finite, or an EvaluationError naming the point."""
        self.calls += 1
        try:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out = self.f(point)
        except Exception as exc:
            raise EvaluationError(
                f"f raised {type(exc).__name__}({exc}) at {describe(None)}{_hint_for(exc)}",
                point,
                label,
            ) from exc
        out = _numeric(out, describe)
        bad = ~np.isfinite(out)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            value = out[index]
            if label == "x" and np.isnan(value):
                advice = "x lies outside f's domain (or on a singularity of f)"
            elif label == "x":
                advice = "x lies on a pole of f, or f overflows there"
            else:
                advice = ("derivatives need finite values at every stencil point; x may lie "
                          "too close to the edge of f's domain (try a smaller step, or "
                          "method='forward'/'backward' at a boundary)")
            raise EvaluationError(
                f"f returned {fmt(value)} at {describe(index)}: {advice}", point, label
            )
        return out

    def check_domain(self, x: object, describe: Describe, failure: EvaluationError) -> None:
        """After ``failure`` at a stencil point, report instead that f fails at x itself, if so.

        A stencil point failing usually means x is outside f's domain (``log`` at
        -1), not merely too close to its edge; one more call of f tells which,
        and only on this error path.
        """
        if failure.label == "x":
            return
        try:
            self(x, "x", describe)
        except EvaluationError as at_x:
            raise at_x from failure

    def complex_call(self, point: object, label: str, describe: Describe) -> np.ndarray:
        """f at a complex point for the complex step; refuses f that is not complex-safe."""
        self.calls += 1
        advice = ("method='complex' needs f written in operations that carry complex numbers "
                  "through (NumPy ufuncs and arithmetic; not math.*, abs, float(), comparisons "
                  "or np.real); use method='central' or 'richardson' instead")
        try:
            with warnings.catch_warnings():
                # Casting complex to real only warns in NumPy; here it is the bug we look for.
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    out = self.f(point)
        except np.exceptions.ComplexWarning as exc:
            raise TypeError(
                f"f discarded the imaginary part of its complex input at {describe(None)} "
                f"({exc}); {advice}"
            ) from exc
        except Exception as exc:
            raise TypeError(
                f"f raised {type(exc).__name__}({exc}) for the complex input at "
                f"{describe(None)}; {advice}"
            ) from exc
        out = _numeric(out, describe)
        if out.dtype.kind != "c":
            raise TypeError(
                f"f returned a real result (dtype {out.dtype}) for the complex input at "
                f"{describe(None)}: it drops the imaginary part that carries the derivative, "
                f"so the complex step would silently give 0; {advice}"
            )
        bad = ~np.isfinite(out)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise EvaluationError(
                f"f returned {fmt(out[index])} at {describe(index)}: x may lie outside f's "
                "domain",
                point,
                label,
            )
        return out


    def guard_complex_step(self, out: np.ndarray, slope: np.ndarray, scale: object,
                           x: object, describe: Describe) -> None:
        """After a complex step, make sure x lies in f's real domain when the slope looks wrong.

        Off f's real domain (``log`` or ``sqrt`` of a negative x) f(x + ih) is
        not f(x) + i h f'(x) but a complex number of order 1, so Im f / h is
        garbage of order 1/h: no error, just a wrong, huge slope. A slope that
        changes f by more than ``1e8`` times its size over x's scale is that
        suspicious; only then f is called once more at the real x, and must be
        finite and real there (else EvaluationError at x). A genuinely steep f
        passes at the cost of that one call.
        """
        with np.errstate(over="ignore"):
            reach = np.abs(slope) * scale
        if not np.any(reach > STEEP * np.maximum(1.0, np.abs(out.real))):
            return
        at_x = self(x, "x", describe)
        if np.iscomplexobj(at_x) and np.any(at_x.imag != 0):
            index = tuple(int(i) for i in np.argwhere(at_x.imag != 0)[0])
            raise EvaluationError(
                f"f returned the non-real value {fmt(at_x[index])} at {describe(index)}: the "
                "complex step needs f real on the real line around x (x lies outside f's "
                "real domain)", x, "x")


# A slope beyond this many times |f| per unit of x's scale triggers guard_complex_step's check.
STEEP = 1e8


def _numeric(out: object, describe: Describe) -> np.ndarray:
    if getattr(out, "requires_grad", False) and getattr(out, "_level", None) == 0:
        out = out.detach()  # a chainrule tensor on a graph: the oracle wants its values only
    arr = np.asarray(out)
    if arr.dtype.kind in "bui":
        return arr.astype(float)
    if arr.dtype.kind not in "fc":
        raise TypeError(
            f"f must return numbers; it returned {type(out).__name__} with dtype {arr.dtype} "
            f"at {describe(None)}"
        )
    return arr
