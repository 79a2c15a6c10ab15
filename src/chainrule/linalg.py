"""Linear algebra under ``cr.linalg``, named as in ``numpy.linalg``.

``np.linalg.<name>(tensor)`` dispatches here for every name in ``__all__``.
The array-API style functions NumPy 2 added to ``numpy.linalg`` (``trace``,
``diagonal``, ``outer``, ``tensordot``) keep their ``numpy.linalg`` meaning,
which differs from the top-level functions of the same names: they work on
the last two axes, or on vectors only.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import ndim_of
from chainrule.core.trace import describe
from chainrule.ops import linalg as _ops
from chainrule.ops.linalg import SlogdetResult, det, inv, matmul, slogdet, solve
from chainrule.ops.reductions import norm
from chainrule.ops.shape import astype

__all__ = [
    "SlogdetResult",
    "det",
    "diagonal",
    "inv",
    "matmul",
    "norm",
    "outer",
    "slogdet",
    "solve",
    "tensordot",
    "trace",
]


def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """Like ``numpy.linalg.diagonal``: the diagonals of the matrices in the last two axes.

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.diagonal(np.arange(8.0).reshape(2, 2, 2))
    array([[0., 3.],
           [4., 7.]])
    """
    return _ops.diagonal(x, offset, -2, -1)


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """Like ``numpy.linalg.trace``: the traces of the matrices in the last two axes.

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.trace(np.arange(8.0).reshape(2, 2, 2))
    array([ 3., 11.])
    """
    out = _ops.trace(x, offset, -2, -1)
    return out if dtype is None else astype(out, dtype)


def outer(x1: Any, x2: Any, /) -> Any:
    """Like ``numpy.linalg.outer``: the outer product of two vectors (1-D only,
    unlike ``cr.outer``, which flattens).

    >>> import numpy as np, chainrule as cr
    >>> cr.linalg.outer(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    array([[3., 4.],
           [6., 8.]])
    """
    for x in (x1, x2):
        if ndim_of(x) != 1:
            raise ValueError(f"outer: expected two vectors (1-D), got {describe(x1)} and "
                             f"{describe(x2)}")
    return _ops.outer(x1, x2)


def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
    """Like ``numpy.linalg.tensordot`` (the same contraction as ``cr.tensordot``).

    >>> import numpy as np, chainrule as cr
    >>> float(cr.linalg.tensordot(np.ones((2, 3)), np.ones((2, 3))))
    6.0
    """
    return _ops.tensordot(x1, x2, axes)
