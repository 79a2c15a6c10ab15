"""The array namespace every rule and engine uses (NumPy today).

Rule code imports ``xp`` from here instead of NumPy so another array-API
library can take its place in one module.
"""

from __future__ import annotations

import numpy as xp

ndarray = xp.ndarray
asarray = xp.asarray

FLOAT_DTYPES = (xp.dtype(xp.float16), xp.dtype(xp.float32), xp.dtype(xp.float64))


def is_float_dtype(dtype: object) -> bool:
    """Whether this dtype is a real floating one."""
    return xp.dtype(dtype).kind == "f"


def is_differentiable_dtype(dtype: object) -> bool:
    """Whether values of this dtype can carry a derivative: real floating or complex."""
    return xp.dtype(dtype).kind in "fc"


def shape_of(x: object) -> tuple[int, ...]:
    """Shape of an array, tensor or scalar, without converting a tensor."""
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else xp.shape(x)


def dtype_of(x: object) -> xp.dtype:
    """Dtype of an array, tensor or scalar, without converting a tensor."""
    dtype = getattr(x, "dtype", None)
    return dtype if dtype is not None else xp.result_type(x)


def ndim_of(x: object) -> int:
    return len(shape_of(x))
