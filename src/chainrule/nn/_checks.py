"""Input checks shared by the layers: errors name the layer and both shapes."""

from __future__ import annotations

from typing import Any

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.trace import Traced
from chainrule.ops.shape import astype


def layer_dtype(dtype: Any, where: str) -> Any:
    """The parameters' dtype: float32 unless ``dtype`` asks for another float."""
    if dtype is None:
        return xp.dtype(xp.float32)
    try:
        dt = xp.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: {dtype!r} is not a dtype") from None
    if dt.kind != "f":
        raise TypeError(f"{where}: parameters must be floating (float32 or float64), "
                        f"got dtype {dt}")
    return dt


def float_input(module: Any, x: Any, dtype: Any) -> Any:
    """``x`` as a floating value of the layer's ``dtype`` (None: any float, kept).

    A float of another precision is cast (a float64 NumPy batch into a
    float32 model is the common case, and the cast is differentiable);
    integers, booleans and complex numbers are refused.
    """
    if not isinstance(x, Traced):
        x = xp.asarray(x)
    dt = dtype_of(x)
    if dt.kind != "f":
        raise TypeError(f"{module.describe()}: expected a floating input"
                        f"{'' if dtype is None else f' ({dtype})'}, got dtype {dt}")
    return x if dtype is None or dt == dtype else astype(x, dtype)


def shape_error(module: Any, expected: str, x: Any) -> ValueError:
    """``Conv2d(...): expected input of shape (N, 3, H, W), got (4, 5, 28, 28)``."""
    return ValueError(f"{module.describe()}: expected input of shape {expected}, "
                      f"got {tuple(shape_of(x))}")


def int_tuple(owner: str, what: str, value: Any, nd: int, low: int) -> tuple[int, ...]:
    """An int or ``nd`` ints, each at least ``low``, as a tuple (a layer's settings)."""
    items = (value,) * nd if isinstance(value, (int, xp.integer)) else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    if len(items) != nd or any(isinstance(v, bool) or not isinstance(v, (int, xp.integer))
                               or v < low for v in items):
        many = f" or {nd} of them" if nd > 1 else ""
        raise ValueError(f"{owner}: {what} must be an int >= {low}{many}, got {value!r}")
    return tuple(int(v) for v in items)


def restated(module: Any, err: Exception, x: Any) -> Exception:
    """An operation's complaint about an input (a kernel that does not fit, say),
    restated by the layer that called it, with the input's shape."""
    message = str(err).split(": ", 1)[-1]
    return type(err)(f"{module.describe()}: {message} (input of shape {tuple(shape_of(x))})")


def pattern(*dims: Any) -> str:
    """A shape pattern such as ``(N, 3, H, W)`` from names and sizes."""
    return "(" + ", ".join(str(d) for d in dims) + (",)" if len(dims) == 1 else ")")
