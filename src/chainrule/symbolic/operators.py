"""What an expression does as a Python value: operators, truth, NumPy, printing.

Every operator calls the chainrule operation of the same meaning (``a + b``
is ``ops.add(a, b)``), the very operations the derivative rules use, so an
expression built with operators and one built by a rule are the same nodes.
A mixin of :class:`~chainrule.symbolic.expr.Expr`, kept apart so the node
module stays small and imports nothing that imports it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from chainrule import ops
from chainrule.core.primitive import Primitive
from chainrule.core.trace import Traced
from chainrule.symbolic.evaluation import evaluate_expr
from chainrule.symbolic.numbers import to_float
from chainrule.symbolic.printing import to_str
from chainrule.symbolic.walk import dag_size, postorder, tree_size

REPR_LIMIT = 10_000  # larger expressions show their sizes instead of their text


def _operand(value: Any) -> bool:
    """Whether an operator should accept ``value`` (others get NotImplemented)."""
    return isinstance(value, ExprOperators | int | float | Fraction) or (
        hasattr(value, "dtype") and not isinstance(value, Traced))


class ExprOperators:
    """Operators, comparisons, truth, NumPy dispatch and text for expressions."""

    __slots__ = ()

    # ----- arithmetic -----
    def __add__(self, other: Any) -> Any:
        return ops.add(self, other) if _operand(other) else NotImplemented

    def __radd__(self, other: Any) -> Any:
        return ops.add(other, self) if _operand(other) else NotImplemented

    def __sub__(self, other: Any) -> Any:
        return ops.subtract(self, other) if _operand(other) else NotImplemented

    def __rsub__(self, other: Any) -> Any:
        return ops.subtract(other, self) if _operand(other) else NotImplemented

    def __mul__(self, other: Any) -> Any:
        return ops.multiply(self, other) if _operand(other) else NotImplemented

    def __rmul__(self, other: Any) -> Any:
        return ops.multiply(other, self) if _operand(other) else NotImplemented

    def __truediv__(self, other: Any) -> Any:
        return ops.divide(self, other) if _operand(other) else NotImplemented

    def __rtruediv__(self, other: Any) -> Any:
        return ops.divide(other, self) if _operand(other) else NotImplemented

    def __pow__(self, other: Any) -> Any:
        return ops.power(self, other) if _operand(other) else NotImplemented

    def __rpow__(self, other: Any) -> Any:
        return ops.power(other, self) if _operand(other) else NotImplemented

    def __neg__(self) -> Any:
        return ops.negative(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return ops.abs(self)

    # ----- comparisons build (non-differentiable) comparison nodes, as on arrays -----
    def __gt__(self, other: Any) -> Any:
        return ops.greater(self, other) if _operand(other) else NotImplemented

    def __ge__(self, other: Any) -> Any:
        return ops.greater_equal(self, other) if _operand(other) else NotImplemented

    def __lt__(self, other: Any) -> Any:
        return ops.less(self, other) if _operand(other) else NotImplemented

    def __le__(self, other: Any) -> Any:
        return ops.less_equal(self, other) if _operand(other) else NotImplemented

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return ops.equal(self, other) if _operand(other) else NotImplemented

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return ops.not_equal(self, other) if _operand(other) else NotImplemented

    def __and__(self, other: Any) -> Any:
        return ops.logical_and(self, other) if _operand(other) else NotImplemented

    def __rand__(self, other: Any) -> Any:
        return ops.logical_and(other, self) if _operand(other) else NotImplemented

    def __or__(self, other: Any) -> Any:
        return ops.logical_or(self, other) if _operand(other) else NotImplemented

    def __ror__(self, other: Any) -> Any:
        return ops.logical_or(other, self) if _operand(other) else NotImplemented

    def __invert__(self) -> Any:
        return ops.logical_not(self)

    def __bool__(self) -> bool:
        # ``a == b`` is a node; its truth is structural equality (nodes are unique),
        # so == in asserts, ``in`` and list.index behave. Other expressions have none.
        prim, args, value = self.prim, self.args, self.value  # type: ignore[attr-defined]
        if prim is None and type(value) is not str:
            return bool(value)
        if prim is ops.equal:
            return args[0] is args[1]
        if prim is ops.not_equal:
            return args[0] is not args[1]
        raise TypeError(f"the truth value of the expression {self!r} is undefined; "
                        f"compare with 'is' or evaluate it")

    def __float__(self) -> float:
        if self.prim is None and type(self.value) is not str:  # type: ignore[attr-defined]
            return to_float(self.value)  # type: ignore[attr-defined]
        raise TypeError(f"cannot convert {self!r} to float: it depends on "
                        f"{', '.join(sorted(self.free_symbols))}; use evaluate()")

    # ----- NumPy interoperation: np.sin(expr) is chainrule's sin -----
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        op = getattr(ops, ufunc.__name__, None)
        if method != "__call__" or kwargs or not isinstance(op, Primitive):
            raise TypeError(f"numpy.{ufunc.__name__} cannot be applied to a symbolic "
                            f"expression; use a chainrule operation")
        return op(*inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func.__name__ not in ("where", "clip", "round", "abs"):
            raise TypeError(f"numpy.{func.__name__} cannot be applied to a symbolic "
                            f"expression; use a chainrule operation")
        return getattr(ops, func.__name__)(*args, **kwargs)

    # ----- text and values -----
    def __str__(self) -> str:
        return to_str(self)

    def __repr__(self) -> str:
        size = tree_size(self)
        if size > REPR_LIMIT:
            return f"<Expr: tree_size={size}, dag_size={dag_size(self)}>"
        return to_str(self)

    @property
    def free_symbols(self) -> frozenset[str]:
        """The names of the variables the expression uses."""
        return frozenset(n.value for n in postorder([self])
                         if n.prim is None and type(n.value) is str)

    def evaluate(self, values: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """The value with ``x=...`` (numbers or NumPy arrays): a float for scalars.

        >>> from chainrule.symbolic import parse
        >>> parse("x**2 - 3*x - 2").evaluate(x=3.0)
        -2.0
        """
        return evaluate_expr(self, {**(values or {}), **kwargs})
