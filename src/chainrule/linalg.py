"""Linear algebra under ``cr.linalg``, named as in ``numpy.linalg``."""

from chainrule.ops.linalg import matmul

__all__ = ["matmul"]
