"""Result objects: a derivative value that also carries how it was found and how far to trust it."""

from __future__ import annotations

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__all__ = ["Derivative", "StepErrorCurve"]


def _short(value: object) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())
    return np.array2string(arr, separator=", ", precision=8, threshold=12, prefix="      ")


class Derivative(NDArrayOperatorsMixin):
    """A numerical derivative and its bookkeeping; behaves as its ``value`` in arithmetic.

    Why: a bare number hides what matters about a finite difference, namely how
    accurate it is and what it cost. This keeps ``value`` together with
    ``error_estimate`` (an estimate of ``|value - exact|``, elementwise),
    ``evaluations`` (calls of f), ``step`` (the step used; for Richardson, the
    first and largest of its shrinking steps), ``method``, ``order`` (accuracy
    order of the stencil) and ``kind`` (derivative, gradient, jacobian, hessian
    or directional_derivative). ``float(d)``, ``np.asarray(d)`` and arithmetic
    (``d + 1``, ``d * 2``, ``np.sin(d)``) all act on ``value``.

    ``converged`` (a bool, or a bool array of ``value``'s shape) says whether
    the error estimate is backed by estimates at several steps that behaved as
    theory predicts; where it is False (a pole, jump or kink inside the
    stencil, or f varying faster than the steps resolve) the value is suspect,
    the estimate is the spread of everything seen, and ``message`` says why.
    ``success`` is True when every element converged (scipy's name).

    >>> d = Derivative(value=2.0, error_estimate=1e-10, evaluations=2, step=1e-5,
    ...                method="central", order=2)
    >>> float(d), float(d + 1), d.evaluations
    (2.0, 3.0, 2)
    >>> d  # doctest: +NORMALIZE_WHITESPACE
    Derivative(value=2.0, error_estimate=1e-10, evaluations=2, step=1e-05,
               method='central', order=2)
    """

    __slots__ = ("converged", "error_estimate", "evaluations", "kind", "message", "method",
                 "order", "step", "value")

    def __init__(
        self,
        value: object,
        error_estimate: object,
        evaluations: int,
        step: object,
        method: str,
        order: int,
        kind: str = "derivative",
        converged: object = True,
        message: str = "",
    ) -> None:
        self.value = _plain(value)
        self.error_estimate = _plain(error_estimate)
        self.evaluations = int(evaluations)
        self.step = _plain(step)
        self.method = method
        self.order = order
        self.kind = kind
        self.converged = _plain(np.asarray(converged, dtype=bool)) if np.ndim(converged) else \
            bool(converged)
        self.message = message

    @property
    def success(self) -> bool:
        """True when every element converged (see ``converged`` and ``message``)."""
        return bool(np.all(self.converged))

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``value``."""
        return np.shape(self.value)

    def __float__(self) -> float:
        arr = np.asarray(self.value)
        if arr.size != 1:
            raise TypeError(
                f"only a single derivative converts to float; this {self.kind} has shape "
                f"{arr.shape} (use np.asarray(result) or result.value)"
            )
        return float(arr.reshape(()))

    def __complex__(self) -> complex:
        return complex(np.asarray(self.value).reshape(()))

    def __array__(self, dtype: object = None, copy: bool | None = None) -> np.ndarray:
        arr = np.asarray(self.value, dtype=dtype)
        return arr.copy() if copy else arr

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):  # noqa: ANN001, ANN201
        # Arithmetic and ufuncs see the value: Derivative is a number with a receipt.
        inputs = tuple(x.value if isinstance(x, Derivative) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __len__(self) -> int:
        return len(np.asarray(self.value))

    def __getitem__(self, index: object) -> object:
        return np.asarray(self.value)[index]

    def __repr__(self) -> str:
        kind = "" if self.kind == "derivative" else f"kind={self.kind!r}, "
        return (
            f"Derivative({kind}value={_short(self.value)}, "
            f"error_estimate={_short(self.error_estimate)}, evaluations={self.evaluations}, "
            f"step={_short(self.step)}, method={self.method!r}, order={self.order}"
            f"{'' if self.success else ', converged=False'})"
        )


class StepErrorCurve:
    """Error of a finite difference against its step: the V between truncation and round-off.

    ``steps`` and ``errors`` are arrays of the same length (``errors[i]`` is
    ``|D(steps[i]) - reference|``, NaN where f could not be evaluated at that
    step); ``best_step``/``best_error`` locate the bottom of the V;
    ``reference`` is the value compared against and ``reference_kind`` says
    whether it was ``"exact"`` (given by the caller) or a ``"richardson"``
    estimate, whose own error estimate is ``reference_error`` (0 for exact):
    errors below it are not resolved. ``auto_step`` is the step ``derivative``
    would choose; ``evaluations`` counts all calls of f.
    """

    __slots__ = (
        "auto_step",
        "errors",
        "evaluations",
        "method",
        "reference",
        "reference_error",
        "reference_kind",
        "steps",
        "x",
    )

    def __init__(self, x: float, steps: np.ndarray, errors: np.ndarray, reference: float,
                 reference_error: float, reference_kind: str, method: str, auto_step: float,
                 evaluations: int) -> None:
        self.x = x
        self.steps = steps
        self.errors = errors
        self.reference = reference
        self.reference_error = reference_error
        self.reference_kind = reference_kind
        self.method = method
        self.auto_step = auto_step
        self.evaluations = evaluations

    @property
    def best_index(self) -> int:
        """Index of the bottom of the V, ignoring steps where f failed.

        Round-off error is noise: among many small steps one can land on the
        exact value by luck. So the bottom is where the largest error of three
        neighbouring steps is smallest, a step whose neighbours are good too.
        """
        errors = self.errors
        if np.all(np.isnan(errors)):
            raise ValueError("f could not be evaluated at any of the steps")
        if len(errors) < 3:
            return int(np.nanargmin(errors))
        # fmax ignores NaN, so a failed neighbour does not hide a good step.
        envelope = np.fmax(np.fmax(errors, np.roll(errors, 1)), np.roll(errors, -1))
        envelope[0] = np.fmax(errors[0], errors[1])
        envelope[-1] = np.fmax(errors[-1], errors[-2])
        envelope[np.isnan(errors)] = np.nan
        return int(np.nanargmin(envelope))

    @property
    def best_step(self) -> float:
        """The step with the smallest error."""
        return float(self.steps[self.best_index])

    @property
    def best_error(self) -> float:
        """The smallest error over all steps."""
        return float(self.errors[self.best_index])

    @property
    def relative_errors(self) -> np.ndarray:
        """``errors / |reference|`` (the errors themselves when the reference is 0)."""
        scale = abs(self.reference)
        return self.errors / scale if scale > 0 else self.errors.copy()

    def __repr__(self) -> str:
        return (
            f"StepErrorCurve(method={self.method!r}, x={self.x!r}, {len(self.steps)} steps from "
            f"{self.steps.min():.3g} to {self.steps.max():.3g}, best_step={self.best_step:.3g}, "
            f"best_error={self.best_error:.3g}, reference={self.reference_kind})"
        )


def _plain(value: object) -> object:
    """0-d arrays become NumPy scalars, so a scalar result prints and compares as a number."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value
