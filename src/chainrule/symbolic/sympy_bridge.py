"""Conversion to and from SymPy (an optional dependency, imported when used).

Symbols become real SymPy symbols. Primitives SymPy lacks are written out
(``sigmoid(x)`` is ``1/(1 + exp(-x))``, ``relu(x)`` is ``Max(x, 0)``);
comparisons used as numbers become ``Piecewise((1, x > 0), (0, True))`` and
``where`` a ``Piecewise``; a primitive with no SymPy twin becomes an
undefined SymPy function of the same name.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from chainrule import ops
from chainrule.symbolic.errors import SymbolicError
from chainrule.symbolic.expr import Expr, apply, constant, symbol
from chainrule.symbolic.names import function
from chainrule.symbolic.walk import postorder


def _sympy() -> Any:
    try:
        import sympy
    except ImportError:  # pragma: no cover - sympy is a test dependency
        raise SymbolicError("SymPy is not installed: pip install sympy") from None
    return sympy


def _numeric_table(sp: Any) -> dict:
    return {
        "add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
        "multiply": lambda a, b: a * b, "divide": lambda a, b: a / b,
        "negative": lambda a: -a, "power": lambda a, b: a ** b,
        "reciprocal": lambda a: 1 / a, "square": lambda a: a ** 2,
        "exp": sp.exp, "expm1": lambda a: sp.exp(a) - 1, "log": sp.log,
        "log1p": lambda a: sp.log(1 + a), "log2": lambda a: sp.log(a, 2),
        "log10": lambda a: sp.log(a, 10), "sqrt": sp.sqrt, "cbrt": sp.cbrt,
        "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "arcsin": sp.asin, "arccos": sp.acos,
        "arctan": sp.atan, "arctan2": sp.atan2, "sinh": sp.sinh, "cosh": sp.cosh,
        "tanh": sp.tanh, "arcsinh": sp.asinh, "arctanh": sp.atanh,
        "sigmoid": lambda a: 1 / (1 + sp.exp(-a)), "softplus": lambda a: sp.log(1 + sp.exp(a)),
        "erf": sp.erf, "relu": lambda a: sp.Max(a, 0), "abs": sp.Abs, "sign": sp.sign,
        "maximum": sp.Max, "minimum": sp.Min,
        "clip": lambda a, lo, hi: sp.Min(sp.Max(a, lo), hi),
        "floor": sp.floor, "ceil": sp.ceiling,
    }


def _boolean_table(sp: Any) -> dict:
    return {
        "greater": sp.Gt, "greater_equal": sp.Ge, "less": sp.Lt, "less_equal": sp.Le,
        "equal": sp.Eq, "not_equal": sp.Ne, "logical_and": sp.And, "logical_or": sp.Or,
        "logical_not": sp.Not, "isfinite": lambda a: sp.Lt(sp.Abs(a), sp.oo),
        "isnan": lambda a: sp.Ne(a, a),
    }


def to_sympy(expr: Expr) -> Any:
    """The SymPy expression equal to ``expr``.

    >>> from chainrule.symbolic import parse, to_sympy
    >>> to_sympy(parse("x**2 - 3*x - 2"))
    x**2 - 3*x - 2
    """
    sp = _sympy()
    numeric, boolean = _numeric_table(sp), _boolean_table(sp)
    num: dict[int, Any] = {}  # node -> its SymPy value as a number
    cond: dict[int, Any] = {}  # boolean nodes -> their SymPy truth
    for node in postorder([expr]):
        key = id(node)
        if node.is_symbol:
            num[key] = sp.Symbol(node.value, real=True)
            continue
        if node.is_number:
            v = node.value
            num[key] = sp.Rational(v.numerator, v.denominator) if type(v) is Fraction \
                else sp.Integer(v) if type(v) is int else sp.Float(v)
            continue
        name = node.prim.name

        def truth(a: Expr) -> Any:
            return cond[id(a)] if id(a) in cond else sp.Ne(num[id(a)], 0)

        if name in boolean:
            logical = name.startswith("logical")  # their arguments are truths too
            args = [truth(a) if logical else num[id(a)] for a in node.args]
            cond[key] = boolean[name](*args)
            num[key] = sp.Piecewise((1, cond[key]), (0, True))
        elif name == "where":
            c, a, b = node.args
            num[key] = sp.Piecewise((num[id(a)], truth(c)), (num[id(b)], True))
        elif name in numeric:
            num[key] = numeric[name](*[num[id(a)] for a in node.args])
        else:  # no SymPy twin: an undefined function keeps the structure
            num[key] = sp.Function(name)(*[num[id(a)] for a in node.args])
    return num[id(expr)]


_SYMPY_FUNCTIONS = {
    "exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan", "asin": "arcsin",
    "acos": "arccos", "atan": "arctan", "atan2": "arctan2", "sinh": "sinh", "cosh": "cosh",
    "tanh": "tanh", "asinh": "arcsinh", "atanh": "arctanh", "Abs": "abs", "sign": "sign",
    "erf": "erf", "floor": "floor", "ceiling": "ceil", "Max": "maximum", "Min": "minimum",
    "And": "logical_and", "Or": "logical_or", "Not": "logical_not",
    "StrictGreaterThan": "greater", "GreaterThan": "greater_equal",
    "StrictLessThan": "less", "LessThan": "less_equal", "Equality": "equal",
    "Unequality": "not_equal",
}


def _fold(prim: Any, args: list[Expr]) -> Expr:
    result = args[0]
    for a in args[1:]:
        result = apply(prim, (result, a))
    return result


def _from_number(sp: Any, value: Any) -> Expr:
    if value.is_Integer:
        return constant(int(value))
    if value.is_Rational:
        return constant(Fraction(int(value.p), int(value.q)))
    if value.is_Float or value in (sp.oo, -sp.oo, sp.nan):
        return constant(float(value))
    if value is sp.pi:
        return constant(math.pi)
    if value is sp.E:
        return apply(ops.exp, (constant(1),))
    raise SymbolicError(f"from_sympy: cannot convert the number {value} (not real)")


def _from_node(sp: Any, node: Any, args: list[Expr]) -> Expr:
    if isinstance(node, sp.Symbol):
        return symbol(node.name)
    if node in (sp.true, sp.false):
        return constant(int(bool(node)))
    if node.is_Atom and node.is_number:  # 2, 1/2, 0.5, pi, E, oo, nan, I, zoo
        return _from_number(sp, node)
    if isinstance(node, sp.Add):
        return _fold(ops.add, args)
    if isinstance(node, sp.Mul):
        return _fold(ops.multiply, args)
    if isinstance(node, sp.Pow):
        if node.exp == sp.Rational(1, 2):
            return apply(ops.sqrt, (args[0],))
        return apply(ops.power, tuple(args))
    if isinstance(node, sp.Piecewise):
        return _piecewise(node, args)
    name = _SYMPY_FUNCTIONS.get(type(node).__name__, type(node).__name__)
    prim = function(name)
    if prim is None:
        raise SymbolicError(f"from_sympy: no chainrule primitive for SymPy's "
                            f"{type(node).__name__}")
    if prim in (ops.maximum, ops.minimum, ops.logical_and, ops.logical_or):
        return _fold(prim, args)
    if name == "log" and len(args) == 2:
        return apply(ops.divide, (apply(prim, (args[0],)), apply(prim, (args[1],))))
    return apply(prim, tuple(args))


def _piecewise(node: Any, args: list[Expr]) -> Expr:
    # args alternate value, condition; the last condition is usually True
    pairs = list(zip(args[0::2], args[1::2]))
    result = constant(math.nan)
    for value, condition in reversed(pairs):
        result = apply(ops.where, (condition, value, result))
    return result


def from_sympy(value: Any) -> Expr:
    """The chainrule expression of a SymPy expression.

    >>> import sympy
    >>> from chainrule.symbolic import from_sympy
    >>> x = sympy.Symbol("x")
    >>> from_sympy(sympy.sin(x)**2 + sympy.Rational(1, 2))
    1/2 + sin(x)**2
    """
    sp = _sympy()
    value = sp.sympify(value, strict=True)
    done: dict[Any, Expr] = {}
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, expanded = stack.pop()
        if node in done:
            continue
        children = _children(sp, node)
        if not expanded:
            stack.append((node, True))
            stack.extend((c, False) for c in children if c not in done)
            continue
        done[node] = _from_node(sp, node, [done[c] for c in children])
    return done[value]


def _children(sp: Any, node: Any) -> tuple:
    if isinstance(node, sp.Piecewise):
        return tuple(part for pair in node.args for part in (pair.expr, pair.cond))
    if node.is_Atom:
        return ()
    return tuple(node.args)

