"""Which primitives expressions may contain, and the names text uses for them.

The table is read from the primitive registry's elementwise families, so a
scalar primitive added to ``ops/elementary.py`` (say) is known to the
parser, the printer and ``diff`` without an entry here. Only aliases and
the arity of implementations that do not reveal it are written out.
"""

from __future__ import annotations

import inspect
import keyword
import math

from chainrule.core.primitive import Primitive, registry
from chainrule.ops import arithmetic, elementary, nonsmooth
from chainrule.symbolic.errors import SymbolicError

# nondiff also holds reductions (all, any, argmax): only these are elementwise
_NONDIFF_ELEMENTWISE = (
    "floor", "ceil", "round", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "logical_and", "logical_or", "logical_not", "isfinite", "isnan",
)

_ARITY_OVERRIDES = {"where": 3, "clip": 3}

ALIASES = {
    "ln": "log", "asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2",
    "asinh": "arcsinh", "atanh": "arctanh", "max": "maximum", "min": "minimum",
    "pow": "power", "absolute": "abs",
}

# named constants of the parser (floats: pi is not kept exact)
CONSTANTS = {"pi": math.pi, "inf": math.inf, "nan": math.nan}
# Euler's number, as in math.e and SymPy's E: the parser reads ``e`` as ``exp(1)`` and
# ``e^y`` as ``exp(y)``; neither spelling can name a variable
EULER = frozenset(("e", "E"))

BOOLEAN_RESULTS = frozenset((
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_not", "isfinite", "isnan",
))


def _arity(prim: Primitive) -> int:
    if prim.name in _ARITY_OVERRIDES:
        return _ARITY_OVERRIDES[prim.name]
    nin = getattr(prim.impl, "nin", None)
    if isinstance(nin, int):
        return nin
    params = inspect.signature(prim.impl).parameters.values()
    return sum(1 for p in params
               if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty)


def _scalar_primitives() -> dict[str, Primitive]:
    names = [*arithmetic.__all__, *elementary.__all__, *nonsmooth.__all__,
             *_NONDIFF_ELEMENTWISE, "clip"]
    table = {}
    for name in names:
        prim = registry.get(name)
        if isinstance(prim, Primitive):
            table[name] = prim
    return table


PRIMITIVES: dict[str, Primitive] = _scalar_primitives()
ARITY: dict[Primitive, int] = {prim: _arity(prim) for prim in PRIMITIVES.values()}
KNOWN: frozenset[Primitive] = frozenset(PRIMITIVES.values())


def function(name: str) -> Primitive | None:
    """The primitive a function name in text stands for (aliases included)."""
    return PRIMITIVES.get(ALIASES.get(name, name))


# unregistered twins the derivative rules call (an unwatched ``sign``): in an
# expression they are the registered primitive, so ``diff("abs(x)")`` prints as
# ``sign(x)``, parses back to the same node, pickles and cancels against ``sign(x)``
TWINS: dict[Primitive, Primitive] = {nonsmooth.sign_in_rules: nonsmooth.sign}


def is_scalar_primitive(prim: Primitive) -> bool:
    """Whether expressions may apply ``prim``: a known elementwise primitive, or a
    user's own primitive (``cr.primitive``), which is not in the registry."""
    return prim in KNOWN or registry.get(prim.name) is not prim


def check_user_primitive(prim: Primitive) -> None:
    """Refuse a user's primitive whose name is one the parser reads as something
    else: its printed text would silently parse to a different expression."""
    if prim.name in CONSTANTS or function(prim.name) is not None:
        raise SymbolicError(f"{prim.name}: a user primitive named like the parser's "
                            f"{prim.name!r} would print as text that parses to the built-in "
                            f"one; give it another name (cr.primitive(..., name=...))")


def check_symbol_name(name: object) -> str:
    """``name`` if it can name a variable; ValueError otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"symbol: a name must be a string, got {type(name).__name__}")
    if not name.isidentifier() or not name.isascii():
        raise SymbolicError(f"symbol: {name!r} is not a valid name (letters, digits and "
                            f"underscores, not starting with a digit)")
    if name.startswith("__"):
        raise SymbolicError(f"symbol: names starting with '__' are reserved, got {name!r}")
    if keyword.iskeyword(name):
        raise SymbolicError(f"symbol: {name!r} is a Python keyword, not a variable name")
    if name in EULER:
        raise SymbolicError(f"symbol: {name!r} is Euler's number in formulas (e^x is exp(x)), "
                            f"not a variable; choose another variable name")
    if function(name) is not None or name in CONSTANTS:
        raise SymbolicError(f"symbol: {name!r} names a function or constant of the parser; "
                            f"choose another variable name")
    return name
