"""How a Tensor speaks NumPy: ndarray-style methods and the dispatch protocols.

``np.sin(t)``, ``np.sum(t, axis=0)`` or ``np.where(c, a, b)`` on tensors run
chainrule's operation and stay on the graph. A NumPy function chainrule has
no rule for raises TypeError naming it: it never silently drops the graph.
"""

from __future__ import annotations

from typing import Any

from chainrule import ops
from chainrule.backend import xp
from chainrule.core.trace import bind

_SUM = ops.reductions.sum_p
# ufunc -> chainrule operation (method "__call__" only)
_UFUNCS = {
    xp.add: ops.add, xp.subtract: ops.subtract, xp.multiply: ops.multiply,
    xp.true_divide: ops.divide, xp.negative: ops.negative, xp.power: ops.power,
    xp.reciprocal: ops.reciprocal, xp.square: ops.square, xp.exp: ops.exp,
    xp.expm1: ops.expm1, xp.log: ops.log, xp.log1p: ops.log1p, xp.log2: ops.log2,
    xp.log10: ops.log10, xp.sqrt: ops.sqrt, xp.cbrt: ops.cbrt, xp.sin: ops.sin,
    xp.cos: ops.cos, xp.tan: ops.tan, xp.arcsin: ops.arcsin, xp.arccos: ops.arccos,
    xp.arctan: ops.arctan, xp.arctan2: ops.arctan2, xp.sinh: ops.sinh, xp.cosh: ops.cosh,
    xp.tanh: ops.tanh, xp.arcsinh: ops.arcsinh, xp.arctanh: ops.arctanh,
    xp.absolute: ops.abs, xp.sign: ops.sign, xp.maximum: ops.maximum,
    xp.minimum: ops.minimum, xp.floor: ops.floor, xp.ceil: ops.ceil, xp.rint: ops.round,
    xp.equal: ops.equal, xp.not_equal: ops.not_equal, xp.less: ops.less,
    xp.less_equal: ops.less_equal, xp.greater: ops.greater,
    xp.greater_equal: ops.greater_equal, xp.logical_and: ops.logical_and,
    xp.logical_or: ops.logical_or, xp.logical_not: ops.logical_not,
    xp.isfinite: ops.isfinite, xp.floor_divide: ops.floor_divide,
    xp.remainder: ops.remainder, xp.isnan: ops.isnan, xp.matmul: ops.matmul,
    xp.positive: ops.copy, xp.fabs: ops.abs, xp.conjugate: ops.conj,
    xp.divmod: lambda x, y: (ops.floor_divide(x, y), ops.remainder(x, y)),
}


def _array_functions() -> dict:
    """NumPy function -> chainrule operation of the same name, where one exists."""
    table = {}
    for name in ops.__all__:
        np_func = getattr(xp, name, None)
        if callable(np_func) and not isinstance(np_func, xp.ufunc):
            table[np_func] = getattr(ops, name)
    from chainrule import linalg  # the public numpy.linalg twin

    for name in linalg.__all__:
        np_func = getattr(xp.linalg, name, None)
        if callable(np_func):
            table[np_func] = getattr(linalg, name)
    table[xp.amax] = ops.max
    table[xp.amin] = ops.min
    table[xp.round] = ops.round
    table[xp.around] = ops.round
    table[xp.shape] = lambda x: x.shape
    table[xp.ndim] = lambda x: x.ndim
    table[xp.size] = lambda x: x.size
    table[xp.result_type] = lambda *xs: xp.result_type(*[getattr(x, "dtype", x) for x in xs])
    return table


_FUNCTIONS: dict | None = None


class NumpyInterface:
    """ndarray-style methods and NumPy's dispatch protocols for Tensor."""

    __slots__ = ()

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        op = _UFUNCS.get(ufunc)
        if op is None or method != "__call__":
            name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
            raise TypeError(f"numpy.{name} has no chainrule rule, so it cannot be applied "
                            f"to a tensor without losing its gradient; use a chainrule "
                            f"operation or t.detach().numpy()")
        if kwargs.get("out") is not None:
            raise TypeError(f"numpy.{ufunc.__name__}: out= cannot write into a tensor")
        kwargs.pop("out", None)
        if kwargs:
            raise TypeError(f"numpy.{ufunc.__name__}: keyword arguments {sorted(kwargs)} "
                            f"are not supported on tensors")
        return op(*inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        global _FUNCTIONS
        if _FUNCTIONS is None:
            _FUNCTIONS = _array_functions()
        op = _FUNCTIONS.get(func)
        if op is None:
            module = getattr(func, "__module__", "numpy") or "numpy"
            raise TypeError(f"{module}.{func.__name__} has no chainrule rule, so it cannot "
                            f"be applied to a tensor without losing its gradient; use a "
                            f"chainrule operation or t.detach().numpy()")
        return op(*args, **kwargs)

    # ----- ndarray methods -----
    def sum(self, axis=None, keepdims=False):
        if axis is None and keepdims is False:  # a loss's sum: the primitive directly
            return _SUM(self, axis=None, keepdims=False)
        return ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return ops.min(self, axis, keepdims)

    def prod(self, axis=None, keepdims=False):
        return ops.prod(self, axis, keepdims)

    def var(self, axis=None, ddof=0, keepdims=False):
        return ops.var(self, axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, ddof=0, keepdims=False):
        return ops.std(self, axis, ddof=ddof, keepdims=keepdims)

    def cumsum(self, axis=None):
        return ops.cumsum(self, axis)

    def cumprod(self, axis=None):
        return ops.cumprod(self, axis)

    def repeat(self, repeats, axis=None):
        return ops.repeat(self, repeats, axis)

    def all(self, axis=None, keepdims=False):
        return ops.all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return ops.any(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        if keepdims:
            return ops.argmax(self, axis=axis, keepdims=True)
        return ops.argmax(self, axis=axis)

    def argmin(self, axis=None, keepdims=False):
        if keepdims:
            return ops.argmin(self, axis=axis, keepdims=True)
        return ops.argmin(self, axis=axis)

    # Tensors are immutable, so sort and partition return new tensors (as in
    # JAX) where ndarray's methods rearrange the array in place.
    def sort(self, axis=-1, kind=None, order=None, *, stable=None, descending=False):
        return ops.sort(self, axis, kind, order, stable=stable, descending=descending)

    def argsort(self, axis=-1, kind=None, order=None, *, stable=None, descending=False):
        return ops.argsort(self, axis, kind, order, stable=stable, descending=descending)

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        return ops.partition(self, kth, axis, kind, order)

    def argpartition(self, kth, axis=-1, kind="introselect", order=None):
        return ops.argpartition(self, kth, axis, kind, order)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return ops.diagonal(self, offset, axis1, axis2)

    def trace(self, offset=0, axis1=0, axis2=1):
        return ops.trace(self, offset, axis1, axis2)

    def round(self, decimals=0):
        return ops.round(self, decimals) if decimals else ops.round(self)

    def __round__(self, ndigits=None):
        return self.round(ndigits or 0)

    def copy(self):
        return ops.copy(self)

    def take(self, indices, axis=None, mode="raise"):
        return ops.take(self, indices, axis, mode)

    def compress(self, condition, axis=None):
        return ops.compress(condition, self, axis)

    def nonzero(self):
        return ops.nonzero(self)

    def reshape(self, *shape):
        return ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return ops.transpose(self, axes or None)

    def swapaxes(self, axis1, axis2):
        return ops.swapaxes(self, axis1, axis2)

    def squeeze(self, axis=None):
        return ops.squeeze(self, axis)

    def flatten(self):
        return ops.reshape(self, (-1,))

    def ravel(self):
        return ops.reshape(self, (-1,))

    def astype(self, dtype):
        return ops.astype(self, dtype)

    def clip(self, min=None, max=None):  # noqa: A002 - ndarray's names
        return ops.clip(self, min, max)

    def dot(self, other):
        return ops.dot(self, other)

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def conj(self):
        return ops.conj(self)

    conjugate = conj

    @property
    def real(self):
        return ops.real(self)

    @property
    def imag(self):
        return ops.imag(self)

    def tanh(self):
        return ops.tanh(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def relu(self):
        return ops.relu(self)


class ArrayOperators:
    """Python's operators on a traced value: each one binds one primitive, so the
    value of the highest level among the operands handles it. Tensor, Dual and
    the batched tangent share them; Tensor overrides the hottest ones."""

    __slots__ = ()

    def __add__(self, other):
        return bind(ops.add, self, other)

    def __radd__(self, other):
        return bind(ops.add, other, self)

    def __sub__(self, other):
        return bind(ops.subtract, self, other)

    def __rsub__(self, other):
        return bind(ops.subtract, other, self)

    def __mul__(self, other):
        return bind(ops.multiply, self, other)

    def __rmul__(self, other):
        return bind(ops.multiply, other, self)

    def __truediv__(self, other):
        return bind(ops.divide, self, other)

    def __rtruediv__(self, other):
        return bind(ops.divide, other, self)

    def __floordiv__(self, other):
        return bind(ops.floor_divide, self, other)

    def __rfloordiv__(self, other):
        return bind(ops.floor_divide, other, self)

    def __mod__(self, other):
        return bind(ops.remainder, self, other)

    def __rmod__(self, other):
        return bind(ops.remainder, other, self)

    def __pow__(self, other):
        if isinstance(other, (int, float)) and other == 2:
            return bind(ops.square, self)
        return bind(ops.power, self, other)

    def __rpow__(self, other):
        return bind(ops.power, other, self)

    def __matmul__(self, other):
        return bind(ops.matmul, self, other)

    def __rmatmul__(self, other):
        return bind(ops.matmul, other, self)

    def __neg__(self):
        return bind(ops.negative, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return bind(ops.abs, self)

    def __eq__(self, other):  # type: ignore[override]
        return bind(ops.equal, self, other)

    def __ne__(self, other):  # type: ignore[override]
        return bind(ops.not_equal, self, other)

    def __lt__(self, other):
        return bind(ops.less, self, other)

    def __le__(self, other):
        return bind(ops.less_equal, self, other)

    def __gt__(self, other):
        return bind(ops.greater, self, other)

    def __ge__(self, other):
        return bind(ops.greater_equal, self, other)

    def __and__(self, other):
        return bind(ops.logical_and, self, other)

    def __or__(self, other):
        return bind(ops.logical_or, self, other)

    def __invert__(self):
        return bind(ops.logical_not, self)

    def __divmod__(self, other):
        return bind(ops.floor_divide, self, other), bind(ops.remainder, self, other)

    def __rdivmod__(self, other):
        return bind(ops.floor_divide, other, self), bind(ops.remainder, other, self)

    def __rand__(self, other):
        return bind(ops.logical_and, other, self)

    def __ror__(self, other):
        return bind(ops.logical_or, other, self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __contains__(self, value) -> bool:
        return bool(ops.any(ops.equal(self, value)))

    __hash__ = object.__hash__  # identity: == is elementwise

    @property
    def ndim(self) -> int:
        return len(self.shape)  # type: ignore[attr-defined]

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:  # type: ignore[attr-defined]
            n *= d
        return n

    @property
    def T(self) -> Any:
        return ops.transpose(self)

    @property
    def mT(self) -> Any:  # noqa: N802 - NumPy's name: the transpose of each matrix
        if len(self.shape) < 2:  # type: ignore[attr-defined]
            raise ValueError(f"mT: needs at least 2 dimensions, got shape "
                             f"{self.shape}")  # type: ignore[attr-defined]
        return ops.swapaxes(self, -1, -2)

    def __len__(self) -> int:
        shape = self.shape  # type: ignore[attr-defined]
        if not shape:
            raise TypeError(f"len() of a 0-d {type(self).__name__}")
        return shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
