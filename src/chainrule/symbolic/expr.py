"""Expressions: an immutable, hash-consed DAG of scalar primitive applications.

There is one node per distinct expression: building ``sin(x)`` twice gives
the same object, so equal subexpressions are shared, ``is`` decides
structural equality, and a derivative's repeated subterms cost nothing. The
intern table holds nodes weakly, so expressions nobody uses are freed.

An :class:`Expr` is a traced value (``chainrule.core.trace.Traced``) of the
highest level: any chainrule operation given an expression hands itself to
``Expr._process``, which builds the node instead of computing a number. That
is how the primitive table's own rules, written with chainrule operations and
Python operators, produce derivative *expressions* (see ``symbolic.derivatives``).

Every new node first goes through cheap local folding, as in SymPy's
automatic evaluation: ``x*1``, ``x + 0``, ``2 - 3`` and ``where(2 == 0, a, b)``
give ``x``, ``x``, ``-1`` and ``b`` at once. That keeps derivatives readable
without ``simplify``: the power rule ``where(y == 0, 0, y * x**(y - 1))``
applied to ``x**2`` folds to ``2*x``. Each fold looks only at the node's own
arguments (O(1)); collecting terms and ordering them is ``simplify``'s job.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from typing import Any

from chainrule import ops
from chainrule.backend import xp
from chainrule.core.primitive import Primitive, registry
from chainrule.core.trace import Traced
from chainrule.symbolic import numbers
from chainrule.symbolic.errors import SymbolicError
from chainrule.symbolic.names import (
    KNOWN,
    TWINS,
    check_symbol_name,
    check_user_primitive,
    is_scalar_primitive,
)
from chainrule.symbolic.numbers import Number, normalize
from chainrule.symbolic.operators import ExprOperators
from chainrule.symbolic.walk import postorder

# key -> weak reference to the node; an entry removes itself when its node dies
_table: dict[tuple, weakref.ref] = {}


class Expr(ExprOperators, Traced):
    """A symbolic scalar expression: a symbol, a number, or a primitive applied
    to expressions. Build them with :func:`symbol`, :func:`parse` and chainrule
    operations; they are immutable and hash-consed.

    >>> import chainrule as cr
    >>> from chainrule.symbolic import symbol
    >>> x = symbol("x")
    >>> cr.sin(x) * x + 1
    sin(x)*x + 1
    >>> cr.sin(x) is cr.sin(x)
    True
    """

    __slots__ = ("prim", "args", "value", "_key", "__weakref__")
    _level = 1 << 62  # above every transform level: expressions record everything
    shape: tuple[int, ...] = ()
    ndim = 0
    size = 1
    dtype = xp.dtype(xp.float64)
    __array_priority__ = 2000.0

    prim: Primitive | None  # None for symbols and numbers
    args: tuple[Expr, ...]
    value: Any  # the name of a symbol, the number of a constant, None otherwise

    def __new__(cls, *args: Any, **kwargs: Any) -> Expr:
        raise TypeError("Expr: create expressions with symbol(), constant() or parse(), "
                        "then combine them with chainrule operations")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Expr: expressions are immutable (and shared between users)")

    __hash__ = object.__hash__  # nodes are unique, so identity is structural equality

    def __copy__(self) -> Expr:
        return self

    def __deepcopy__(self, memo: dict) -> Expr:
        return self

    def __reduce__(self) -> tuple:
        return _from_program, (_program(self),)

    @property
    def is_symbol(self) -> bool:
        return self.prim is None and type(self.value) is str

    @property
    def is_number(self) -> bool:
        return self.prim is None and type(self.value) is not str

    @property
    def name(self) -> str:
        """The name of a symbol."""
        if not self.is_symbol:
            raise AttributeError(f"{self!r} is not a symbol, so it has no name")
        return self.value

    # the traced-value protocol: every chainrule operation on an expression lands here
    def _process(self, prim: Any, args: tuple, params: dict) -> Expr:
        if prim not in KNOWN:
            prim = TWINS.get(prim, prim)
            if not is_scalar_primitive(prim):
                raise TypeError(f"{prim.name}: not a scalar elementwise operation, so it "
                                f"cannot be applied to symbolic expressions")
            if prim not in KNOWN:
                check_user_primitive(prim)
        if params:
            raise TypeError(f"{prim.name}: symbolic expressions are scalars; keyword "
                            f"parameters {sorted(params)} are not supported")
        for a in args:
            if type(a) is not Expr:
                args = tuple(as_expr(b, prim.name) for b in args)
                break
        return apply(prim, args)


_set = object.__setattr__


# Threads making the same new node at once must get one object: a miss is settled
# under this lock (reentrant: a node dying during it runs ``_forget`` in the same thread)
_lock = threading.RLock()


def _forget(key: tuple, ref: weakref.ref) -> None:
    with _lock:
        if _table.get(key) is ref:  # not a newer node made under the same key
            del _table[key]


def _intern(key: tuple, prim: Primitive | None, args: tuple, value: Any) -> Expr:
    ref = _table.get(key)
    if ref is not None:
        node = ref()
        if node is not None:
            return node
    with _lock:
        ref = _table.get(key)  # another thread may have made it meanwhile
        if ref is not None:
            node = ref()
            if node is not None:
                return node
        node = object.__new__(Expr)
        _set(node, "prim", prim)
        _set(node, "args", args)
        _set(node, "value", value)
        _set(node, "_key", None)
        _table[key] = weakref.ref(node, partial(_forget, key))
    return node


def symbol(name: str) -> Expr:
    """The variable called ``name``.

    >>> from chainrule.symbolic import symbol
    >>> symbol("x") is symbol("x")
    True
    """
    ref = _table.get(("s", name))
    node = ref() if ref is not None else None  # a known name needs no checking again
    return node if node is not None else _intern(("s", name), None, (), check_symbol_name(name))


def symbols(names: str | Any) -> tuple[Expr, ...]:
    """Several variables: ``symbols("x y z")`` or ``symbols(["x", "y"])``.

    >>> from chainrule.symbolic import symbols
    >>> x, y = symbols("x y")
    >>> x * y
    x*y
    """
    if isinstance(names, str):
        names = names.replace(",", " ").split()
    return tuple(n if type(n) is Expr and n.is_symbol else symbol(n) for n in names)


def constant(value: Any) -> Expr:
    """The expression of a number: int and Fraction stay exact, floats are float64.

    >>> from fractions import Fraction
    >>> from chainrule.symbolic import constant
    >>> constant(Fraction(2, 4))
    1/2
    """
    value = normalize(value)
    if type(value) is int:
        key: tuple = ("i", value)
    elif type(value) is Fraction:
        key = ("q", value.numerator, value.denominator)
    else:
        key = ("f", value.hex())  # keeps -0.0 apart from 0.0, and nan equal to itself
    return _intern(key, None, (), value)


def make(prim: Primitive, args: tuple[Expr, ...]) -> Expr:
    """The node ``prim(*args)`` exactly as given: no folding, no identities."""
    return _intern((id(prim), *map(id, args)), prim, args, None)


def as_expr(value: Any, where: str = "symbolic") -> Expr:
    """An expression for an expression or a number (not text: see ``parse``)."""
    if type(value) is Expr:
        return value
    if isinstance(value, Traced):
        raise TypeError(f"{where}: cannot mix a symbolic expression with a "
                        f"{type(value).__name__} in one operation")
    if isinstance(value, str):
        raise TypeError(f"{where}: got the string {value!r}; parse text with "
                        f"chainrule.symbolic.parse first")
    return constant(value)


def number_value(node: Expr) -> Number | None:
    """The number of a constant node, None for anything else."""
    return node.value if node.prim is None and type(node.value) is not str else None


ZERO = constant(0)
ONE = constant(1)


# ----- construction-time folding -----

def _is(node: Expr, number: int) -> bool:
    """Whether ``node`` is the constant ``number`` (0 and 0.0 alike)."""
    return node.prim is None and node.value == number  # a symbol's value is its name


def _negative_number(node: Expr) -> bool:
    value = number_value(node)
    return value is not None and value < 0


def _add(x: Expr, y: Expr) -> Expr | None:
    if _is(x, 0):
        return y
    if _is(y, 0):
        return x
    if y.prim is ops.negative:
        return apply(ops.subtract, (x, y.args[0]))
    if x.prim is ops.negative:
        return apply(ops.subtract, (y, x.args[0]))
    if _negative_number(y):
        return apply(ops.subtract, (x, constant(-y.value)))
    return None


def _subtract(x: Expr, y: Expr) -> Expr | None:
    if x is y:
        return ZERO
    if _is(y, 0):
        return x
    if _is(x, 0):
        return apply(ops.negative, (y,))
    if y.prim is ops.negative:
        return apply(ops.add, (x, y.args[0]))
    if _negative_number(y):
        return apply(ops.add, (x, constant(-y.value)))
    return None


def _multiply(x: Expr, y: Expr) -> Expr | None:
    if _is(x, 0) or _is(y, 0):
        return ZERO  # as SymPy does: 0*x is 0 even though inf*0 is nan
    if _is(x, 1):
        return y
    if _is(y, 1):
        return x
    if _is(x, -1):
        return apply(ops.negative, (y,))
    if _is(y, -1):
        return apply(ops.negative, (x,))
    if y.is_number and not x.is_number:
        if x.prim is ops.multiply and x.args[0].is_number:  # (2*x)*3 is 6*x
            value = numbers.fold(ops.multiply, (x.args[0].value, y.value))
            if value is None:  # too large to fold: x*3, which prints flat, not 3*(2*x)
                return make(ops.multiply, (x, y))
            return apply(ops.multiply, (constant(value), x.args[1]))
        if x.prim is ops.multiply or x.prim is ops.divide:  # x*y*2, not 2*(x*y): a long
            # chain would print nested as deep as it is long
            return make(ops.multiply, (x, y))
        return make(ops.multiply, (y, x))  # numbers first: 2*x, not x*2
    return None


def _divide(x: Expr, y: Expr) -> Expr | None:
    if _is(y, 1):
        return x
    if _is(y, -1):
        return apply(ops.negative, (x,))
    if x is y and not x.is_number:  # 0/0 stays, for simplify to report
        return ONE
    if _is(x, 0) and not _is(y, 0):
        return ZERO
    return None


def _power(x: Expr, y: Expr) -> Expr | None:
    if _is(y, 0) or _is(x, 1):
        return ONE
    if _is(y, 1):
        return x
    if _is(x, 0) and number_value(y) is not None and y.value > 0:
        return ZERO
    return None


def _where(c: Expr, x: Expr, y: Expr) -> Expr | None:
    if x is y:
        return x
    if c.is_number:
        return x if c.value else y
    return None


_BOOLEAN = frozenset((ops.equal, ops.not_equal, ops.less, ops.less_equal, ops.greater,
                      ops.greater_equal, ops.logical_and, ops.logical_or, ops.logical_not))
_NEGATED = {ops.less: ops.greater_equal, ops.greater_equal: ops.less,
            ops.greater: ops.less_equal, ops.less_equal: ops.greater,
            ops.equal: ops.not_equal, ops.not_equal: ops.equal}


def _logical_and(x: Expr, y: Expr) -> Expr | None:
    for a, b in ((x, y), (y, x)):
        if a.is_number:
            if not a.value:
                return ZERO
            if b.prim in _BOOLEAN:  # true & c is c when c is already 0 or 1
                return b
    return x if x is y else None


def _logical_or(x: Expr, y: Expr) -> Expr | None:
    for a, b in ((x, y), (y, x)):
        if a.is_number:
            if a.value:
                return ONE
            if b.prim in _BOOLEAN:
                return b
    return x if x is y else None


def _logical_not(x: Expr) -> Expr | None:
    negated = _NEGATED.get(x.prim)  # not (a < b) is a >= b (nan aside)
    return None if negated is None else apply(negated, x.args)


def _same(result: int) -> Callable[[Expr, Expr], Expr | None]:
    """A comparison of a node with itself (x == x is 1, x < x is 0)."""
    return lambda x, y: constant(result) if x is y else None


_IDENTITIES: dict[Primitive, Callable[..., Expr | None]] = {
    ops.add: _add,
    ops.subtract: _subtract,
    ops.multiply: _multiply,
    ops.divide: _divide,
    ops.negative: lambda x: x.args[0] if x.prim is ops.negative else None,
    ops.power: _power,
    ops.where: _where,
    ops.logical_and: _logical_and,
    ops.logical_or: _logical_or,
    ops.logical_not: _logical_not,
    ops.equal: _same(1),
    ops.not_equal: _same(0),
    ops.less: _same(0),
    ops.greater: _same(0),
    ops.less_equal: _same(1),
    ops.greater_equal: _same(1),
}


def apply(prim: Primitive, args: tuple[Expr, ...]) -> Expr:
    """The node ``prim(*args)`` after constant folding and local identities."""
    for a in args:
        if a.prim is not None or type(a.value) is str:
            break
    else:  # every argument is a number
        value = numbers.fold(prim, tuple(a.value for a in args))
        if value is not None:
            return constant(value)
    identity = _IDENTITIES.get(prim)
    if identity is not None:
        result = identity(*args)
        if result is not None:
            return result
    return make(prim, args)


# ----- pickling: a flat program, so deep or shared expressions pickle fine -----

def _program(expr: Expr) -> list[tuple]:
    steps = []
    index: dict[int, int] = {}
    for node in postorder([expr]):
        index[id(node)] = len(steps)
        if node.prim is None:
            steps.append((None, node.value))
        else:
            if registry.get(node.prim.name) is not node.prim:
                raise SymbolicError(f"cannot pickle an expression using the unregistered "
                                    f"primitive {node.prim.name!r}")
            steps.append((node.prim.name, tuple(index[id(a)] for a in node.args)))
    return steps


def _from_program(steps: list[tuple]) -> Expr:
    nodes: list[Expr] = []
    for head, body in steps:
        if head is None:
            nodes.append(symbol(body) if type(body) is str else constant(body))
        else:
            nodes.append(make(registry[head], tuple(nodes[i] for i in body)))
    return nodes[-1]
