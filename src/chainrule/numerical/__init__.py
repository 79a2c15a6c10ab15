"""Numerical derivatives: finite differences, complex step, Richardson extrapolation.

This package is chainrule's independent oracle: it imports nothing but NumPy and
the standard library, and knows nothing of the AD engines it checks. Every
function returns a ``Derivative`` carrying the value, an error estimate, the
number of calls of f and the step, and usable as a number or array.

>>> import numpy as np
>>> from chainrule import numerical as nd
>>> d = nd.derivative(np.sin, 0.5, method="richardson")
>>> bool(abs(d.value - np.cos(0.5)) < 1e-12)
True
"""

from .curve import step_error_curve
from .evaluate import EvaluationError
from .hessian import hessian
from .multivariate import directional_derivative, gradient, jacobian
from .result import Derivative, StepErrorCurve
from .scalar import derivative
from .steps import auto_step
from .validate import METHODS
from .weights import fd_stencil, fd_weights

__all__ = [
    "METHODS",
    "Derivative",
    "EvaluationError",
    "StepErrorCurve",
    "auto_step",
    "derivative",
    "directional_derivative",
    "fd_stencil",
    "fd_weights",
    "gradient",
    "hessian",
    "jacobian",
    "step_error_curve",
]
