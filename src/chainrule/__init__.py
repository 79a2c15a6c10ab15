"""chainrule: every way a computer finds a derivative, cross-checked and explained.

>>> import chainrule as cr
>>> x = cr.tensor(3.0, requires_grad=True)
>>> y = x**2 - 3*x - 2
>>> y.backward()
>>> float(x.grad)
3.0
"""

from chainrule import data, linalg, nn, numerical, optim, random
from chainrule.core.config import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.core.escape import TracerConversionError
from chainrule.core.primitive import Primitive, primitive
from chainrule.creation import (
    arange,
    eye,
    full,
    linspace,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from chainrule.explainer import compare, explain, explain_nn, to_dot
from chainrule.gradcheck import GradcheckError, gradcheck, gradgradcheck
from chainrule.ops import *  # noqa: F403 - the operations, named as in NumPy
from chainrule.ops import __all__ as _ops_all
from chainrule.program import Program, jit, make_program
from chainrule.serialization import load, save
from chainrule.subgradients import kinks, subgradient_policy
from chainrule.tensor import Tensor
from chainrule.transforms import (
    checkpoint,
    custom_jvp,
    custom_vjp,
    derivative,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacrev,
    jet,
    jvp,
    linearize,
    stop_gradient,
    taylor,
    value_and_grad,
    vjp,
    vmap,
)

try:  # one source of truth: the version in pyproject.toml, as installed
    from importlib.metadata import PackageNotFoundError as _NotInstalled
    from importlib.metadata import version as _version

    __version__ = _version("chainrule")
except _NotInstalled:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"

__all__ = [
    *_ops_all,
    "Primitive", "Program", "GradcheckError", "jit", "make_program",
    "Tensor", "TracerConversionError", "__version__", "arange",
    "detect_anomaly",
    "enable_grad", "eye", "full", "grad", "gradcheck", "gradgradcheck", "is_grad_enabled",
    "linalg", "linspace",
    "numerical",
    "no_grad", "ones", "ones_like", "primitive", "rand", "randn", "random",
    "set_grad_enabled", "tensor", "compare", "explain", "explain_nn", "to_dot",
    "value_and_grad", "vjp", "zeros", "zeros_like",
    "jvp", "linearize", "jacfwd", "jacrev", "hessian", "hvp", "stop_gradient",
    "data", "nn", "optim", "save", "load",
    "kinks", "subgradient_policy",
    "custom_jvp", "custom_vjp", "vmap", "jet", "taylor", "derivative",
    "checkpoint",
]
