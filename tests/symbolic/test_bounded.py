"""Bounded work for any input: exact arithmetic stops at a size bound (the result is
left unevaluated, or simplify turns it into a float or refuses it), and numbers of
any size print."""

from __future__ import annotations

import sys
from fractions import Fraction

import pytest

from chainrule import symbolic as sym
from chainrule.symbolic import numbers, parse
from chainrule.symbolic.numbers import MAX_EXACT_BITS, to_float
from chainrule.symbolic.walk import postorder


def _bits(value) -> int:
    if type(value) is float:
        return 0
    value = Fraction(value)
    return max(value.numerator.bit_length(), value.denominator.bit_length())


def largest_constant_bits(e: sym.Expr) -> int:
    return max(_bits(n.value) for n in postorder([e]) if n.is_number)


@pytest.mark.parametrize("text", [
    "*".join(["2**1000"] * 200),               # 200,000 bits if folded
    "*".join(["3**2000"] * 50),
    "+".join(f"1/{p}" for p in range(3, 4000, 2)),   # denominators multiply
    "*".join(str(i) for i in range(1, 3000)),  # a factorial
    "square(" * 30 + "2**4000" + ")" * 30,     # 4000 * 2**30 bits
    "(" * 40 + "2**4000" + ")**2" * 40,
    "2**2**2**2**2**2", "9**9**9**9",
    "(2**4000 + 1)*(2**4000 + 1)*(2**4000 + 1)",
])
def test_exact_arithmetic_in_the_parser_is_bounded(text):
    e = parse(text)
    assert largest_constant_bits(e) <= MAX_EXACT_BITS
    assert parse(str(e)) is e  # left unevaluated, it still round-trips


def test_small_results_are_still_exact():
    assert parse("2**1000*2**1000").value == 2**2000
    assert parse("1/3 + 1/7").value == Fraction(10, 21)
    assert parse("(2**4000 + 1) - 2**4000").value == 1
    big = "9" * 4000  # a literal larger than the bound stays as written
    assert parse(f"-{big}").value == -int(big)


def test_simplify_is_bounded_too():
    x = sym.symbol("x")
    # the fractions' sum outgrows the bound: simplify gives its float
    many = parse("+".join(f"1/{p}" for p in range(3, 4000, 2)))
    s = sym.simplify(many * x)
    assert largest_constant_bits(s) <= MAX_EXACT_BITS
    assert type(sym.simplify(many).value) is float
    assert sym.simplify(many).value == pytest.approx(sum(1 / p for p in range(3, 4000, 2)))
    # an integer too large for a float as well: refused, with the reason
    with pytest.raises(sym.SymbolicError, match="4096-bit bound and too large for float64"):
        sym.simplify(parse("*".join(["2**1000"] * 10)) * x)
    with pytest.raises(sym.SymbolicError, match="4096-bit bound"):
        sym.diff(parse("*".join(["2**1000"] * 10)) * x**2, "x")


def test_long_integer_literals_are_refused_whatever_pythons_limit():
    old = sys.get_int_max_str_digits()
    try:
        sys.set_int_max_str_digits(0)  # no limit in Python: the parser keeps its own
        with pytest.raises(sym.ParseError, match="digits, more than 4300"):
            parse("7" * 20_000)
    finally:
        sys.set_int_max_str_digits(old)


def test_huge_constants_print_in_scientific_notation():
    x = sym.symbol("x")
    e = sym.constant(10**5000) * x + sym.constant(Fraction(1, 3**10000))
    text = str(e)
    assert text.startswith("1.000000000000000e+5000*x + 1/")
    assert text.endswith("1/1.631350185342626e+4771")  # 3**10000
    assert "10^{5000}" in sym.latex(e)
    assert sym.simplify(e) is not None  # sorting keys do not write the digits either
    with pytest.raises(sym.SymbolicError, match="1.00000e[+]5000 is too large for float64"):
        to_float(10**5000)
    with pytest.raises(sym.SymbolicError, match="too large for float64"):
        sym.evaluate(e, x=1.0)


def test_printing_follows_a_lowered_python_limit():
    old = sys.get_int_max_str_digits()
    try:
        sys.set_int_max_str_digits(640)
        e = sym.constant(7**1000)  # 846 digits
        assert str(e) == numbers.scientific(7**1000) == "1.253256639965718e+845"
        assert str(sym.symbol("x") * 7**100) == f"{7**100}*x"
    finally:
        sys.set_int_max_str_digits(old)
