"""Numbers inside expressions: exact integers and rationals, and floats.

Exact values stay exact (``1/2`` is ``Fraction(1, 2)``, never 0.5); a float
anywhere makes the result a float, as in SymPy. Folding a primitive applied
to numbers happens here: exactly when the result is exact (``2**-1``,
``sqrt(9/4)``, ``sin(0)``), in float64 when an argument is a float, and not
at all when an exact result does not exist (``sqrt(2)`` stays ``sqrt(2)``)
or would be huge.

**Bounded work.** Exact results are bounded by size: an operation whose exact
result would have more than ``MAX_EXACT_BITS`` bits, and more than its
operands (``2**1000 * 2**4000``, ``2**10**9``), is left unevaluated, so no
input makes the parser multiply ever larger integers; ``simplify`` turns such
a number into a float where one holds it and refuses it otherwise
(``bounded``).
"""

from __future__ import annotations

import decimal
import math
import numbers
from collections.abc import Callable
from fractions import Fraction

from chainrule import ops
from chainrule.backend import xp
from chainrule.ops.nonsmooth import clip_p
from chainrule.symbolic.errors import SymbolicError

Number = int | Fraction | float

MAX_EXACT_BITS = 4096  # bigger exact results are left unevaluated
MAX_ROOT_DEGREE = 64


def normalize(value: object) -> Number:
    """A plain Python number of the kinds expressions hold, or TypeError."""
    if type(value) is int or type(value) is float:
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Rational):
        return normalize(Fraction(value.numerator, value.denominator))
    if isinstance(value, numbers.Real):
        return float(value)
    array = getattr(value, "__array__", None)
    if array is not None:
        a = xp.asarray(value)
        if a.ndim == 0 and a.dtype.kind in "biuf":
            return normalize(a.item())
        raise TypeError(f"symbolic: expressions are scalars; cannot hold an array of shape "
                        f"{a.shape} and dtype {a.dtype}")
    raise TypeError(f"symbolic: cannot use a value of type {type(value).__name__} in an "
                    f"expression; give a number, a symbol or an expression")


def is_exact(value: Number) -> bool:
    return type(value) is not float


def _bits(value: int | Fraction) -> int:
    if type(value) is int:
        return value.bit_length()
    return max(value.numerator.bit_length(), value.denominator.bit_length())


def _iroot(n: int, q: int) -> int:
    """The integer q-th root of ``n >= 0``, rounded down (Newton's method)."""
    if n < 2:
        return n
    x = 1 << -(-n.bit_length() // q)  # a power of two at least the root
    while True:
        y = ((q - 1) * x + n // x ** (q - 1)) // q
        if y >= x:
            return x
        x = y


def exact_root(value: int | Fraction, q: int) -> int | Fraction | None:
    """The exact q-th root of a non-negative rational, or None if it is irrational."""
    if value < 0 or q > MAX_ROOT_DEGREE or _bits(value) > MAX_EXACT_BITS:
        return None
    value = Fraction(value)
    roots = []
    for n in (value.numerator, value.denominator):
        r = _iroot(n, q)
        if r ** q != n:
            return None
        roots.append(r)
    return normalize(Fraction(roots[0], roots[1]))


def exact_power(base: int | Fraction, exponent: int | Fraction) -> int | Fraction | None:
    """``base ** exponent`` exactly, or None (irrational, 0 to a negative power, huge)."""
    if type(exponent) is Fraction:
        if base < 0:
            return None  # a real root of a negative number: left as it is
        root = exact_root(base, exponent.denominator)
        if root is None:
            return None
        return exact_power(root, exponent.numerator)
    if base == 0 and exponent < 0:
        return None
    if base in (0, 1):
        return base
    if base == -1:
        return 1 if exponent % 2 == 0 else -1
    if abs(exponent) * (_bits(base) - 1) > MAX_EXACT_BITS:  # |base| >= 2**(bits - 1)
        return None
    result = normalize(Fraction(base) ** exponent)  # at most about twice the bound
    return result if _bits(result) <= MAX_EXACT_BITS else None


def _divide(x: Number, y: Number) -> Number | None:
    return None if y == 0 else normalize(Fraction(x) / Fraction(y))


def _clip(x: Number, lo: Number, hi: Number) -> Number:
    return min(max(x, lo), hi)  # numpy.clip's order: the upper bound wins


def _sign(x: Number) -> int:
    return (x > 0) - (x < 0)


def _cbrt(x: Number) -> Number | None:
    root = exact_root(abs(x), 3)
    return None if root is None else _sign(x) * root


def _at(point: Number, result: Number) -> Callable[[Number], Number | None]:
    """An exact value of a transcendental function at one point."""
    return lambda x: result if x == point else None


# primitive -> exact implementation on int/Fraction (None: no exact result)
EXACT: dict = {
    ops.add: lambda x, y: normalize(x + y),
    ops.subtract: lambda x, y: normalize(x - y),
    ops.multiply: lambda x, y: normalize(x * y),
    ops.divide: _divide,
    ops.negative: lambda x: -x,
    ops.power: exact_power,
    ops.reciprocal: lambda x: _divide(1, x),
    ops.square: lambda x: normalize(x * x),
    ops.abs: lambda x: abs(x),
    ops.sign: _sign,
    ops.relu: lambda x: max(x, 0),
    ops.maximum: max,
    ops.minimum: min,
    clip_p: _clip,
    ops.floor: lambda x: math.floor(x),
    ops.ceil: lambda x: math.ceil(x),
    ops.round: lambda x: round(x),  # half to even, as numpy.round
    ops.equal: lambda x, y: int(x == y),
    ops.not_equal: lambda x, y: int(x != y),
    ops.less: lambda x, y: int(x < y),
    ops.less_equal: lambda x, y: int(x <= y),
    ops.greater: lambda x, y: int(x > y),
    ops.greater_equal: lambda x, y: int(x >= y),
    ops.logical_and: lambda x, y: int(bool(x) and bool(y)),
    ops.logical_or: lambda x, y: int(bool(x) or bool(y)),
    ops.logical_not: lambda x: int(not x),
    ops.isfinite: lambda x: 1,
    ops.isnan: lambda x: 0,
    ops.where: lambda c, x, y: x if c else y,
    ops.sqrt: lambda x: exact_root(x, 2),
    ops.cbrt: _cbrt,
    ops.exp: _at(0, 1),
    ops.expm1: _at(0, 0),
    ops.log: _at(1, 0),
    ops.log1p: _at(0, 0),
    ops.log2: _at(1, 0),
    ops.log10: _at(1, 0),
    ops.sin: _at(0, 0),
    ops.cos: _at(0, 1),
    ops.tan: _at(0, 0),
    ops.arcsin: _at(0, 0),
    ops.arccos: _at(1, 0),
    ops.arctan: _at(0, 0),
    ops.sinh: _at(0, 0),
    ops.cosh: _at(0, 1),
    ops.tanh: _at(0, 0),
    ops.arcsinh: _at(0, 0),
    ops.arctanh: _at(0, 0),
    ops.sigmoid: _at(0, Fraction(1, 2)),
    ops.erf: _at(0, 0),
}


def fold(prim: object, values: tuple[Number, ...]) -> Number | None:
    """``prim`` applied to numbers, or None to keep it unevaluated."""
    if all(type(v) is not float for v in values):
        rule = EXACT.get(prim)
        if rule is None:
            return None
        result = rule(*values)
        if type(result) is not int and type(result) is not Fraction:
            return result
        size = _bits(result)  # a result that grew beyond the bound is not computed on
        if size > MAX_EXACT_BITS and size > max(_bits(v) for v in values):
            return None
        return result
    return fold_float(prim, values)


def bounded(value: Number, where: str = "simplify") -> Number:
    """``value`` if it is a float or small enough to stay exact; otherwise its float,
    or SymbolicError when even that overflows (``simplify``'s coefficients and
    exponents: collecting terms must not build ever larger integers)."""
    if type(value) is float or _bits(value) <= MAX_EXACT_BITS:
        return value
    try:
        return float(value)
    except OverflowError:
        raise SymbolicError(f"{where}: an exact number grew to {_bits(value)} bits "
                            f"(about {scientific(value)}), beyond the {MAX_EXACT_BITS}-bit "
                            f"bound and too large for float64") from None


def scientific(value: int | Fraction, digits: int = 16) -> str:
    """``value`` in scientific notation (``1.2345e+5000``) without writing out its
    digits: Python refuses ``str`` of integers longer than a limit
    (``sys.set_int_max_str_digits``), and the division that ``str`` does is
    quadratic in the length."""
    if type(value) is Fraction:
        num, den = value.numerator, value.denominator
    else:
        num, den = int(value), 1
    with decimal.localcontext() as ctx:
        ctx.prec = digits + 12
        ctx.Emax, ctx.Emin = decimal.MAX_EMAX, decimal.MIN_EMIN
        result = _decimal(num) / _decimal(den)
        return f"{result:.{digits - 1}e}"


def _decimal(n: int) -> decimal.Decimal:
    """``n`` as a Decimal to the context's precision, from its leading bits."""
    shift = max(abs(n).bit_length() - 128, 0)
    return decimal.Decimal(n >> shift if n >= 0 else -(-n >> shift)) * \
        decimal.Decimal(2) ** shift


def fold_float(prim: object, values: tuple[Number, ...]) -> float | int | None:
    """Evaluate in float64; None when the result is not finite but the inputs were.

    Keeping ``log(0.0)`` or ``1.0/0.0`` unevaluated leaves the pole visible
    (and ``simplify`` reports the division by zero) instead of an ``inf``
    whose origin is lost.
    """
    try:
        floats = [float(v) for v in values]
    except OverflowError:
        return None
    with xp.errstate(all="ignore"):
        try:
            out = xp.asarray(prim.impl(*[xp.float64(v) for v in floats]))  # type: ignore[attr-defined]
        except (ValueError, TypeError, ArithmeticError):
            return None
    if out.ndim != 0:
        return None
    if out.dtype.kind == "b":
        return int(out.item())
    result = float(out.item())
    if not math.isfinite(result) and all(math.isfinite(v) for v in floats):
        return None
    return result


def to_float(value: Number) -> float:
    """The float64 value of a constant; SymbolicError names a number too large."""
    try:
        return float(value)
    except OverflowError:
        raise SymbolicError(f"the exact number {scientific(value, 6)} is too large for "
                            f"float64 (largest about 1.8e+308)") from None
