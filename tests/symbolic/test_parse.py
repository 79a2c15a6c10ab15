"""The parser: grammar, exact numbers, clear errors with positions, hostile input."""

from __future__ import annotations

import builtins
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule import symbolic as sym
from chainrule.symbolic import ParseError, parse
from chainrule.symbolic.parser import MAX_DEPTH, MAX_LENGTH

x, y, z = sym.symbols("x y z")


@pytest.mark.parametrize("text, expected", [
    ("x + y*z", x + y * z),
    ("(x + y)*z", (x + y) * z),
    ("x - y - z", (x - y) - z),
    ("x / y / z", (x / y) / z),
    ("x ** y ** z", x ** (y ** z)),
    ("x ^ y ^ z", x ** (y ** z)),
    ("-x**2", -(x ** 2)),
    ("-x*y", (-x) * y),
    ("2**-x", 2 ** (-x)),
    ("x**-2*y", (x ** -2) * y),
    ("+x", x),
    ("--x", x),
    ("x*-y", x * (-y)),
    ("sin(x)*cos(y)", cr.sin(x) * cr.cos(y)),
    ("maximum(x, y)", cr.maximum(x, y)),
    ("max(x, y)", cr.maximum(x, y)),
    ("asin(x) + atan2(y, x) + ln(z)", cr.arcsin(x) + cr.arctan2(y, x) + cr.log(z)),
    ("where(x > 0, x, -x)", cr.where(x > 0, x, -x)),
    ("x < y & y <= z", (x < y) & (y <= z)),
    ("x == y | x != z", (x == y) | (x != z)),
    ("exp(-x^2/2)", cr.exp(-(x ** 2) / 2)),
    ("  x\t+\ny  ", x + y),
])
def test_grammar(text, expected):
    assert parse(text) is expected


def test_numbers_are_exact_or_float():
    assert parse("1/2").value == Fraction(1, 2)
    assert parse("1/2 + 1/3").value == Fraction(5, 6)
    assert parse("6/3").value == 2 and type(parse("6/3").value) is int
    assert parse("2**-2").value == Fraction(1, 4)
    assert parse("0.5").value == 0.5 and type(parse("0.5").value) is float
    assert parse("1e-3").value == 0.001
    assert parse("1.5 + 1/2").value == 2.0
    assert parse("sqrt(9/4)").value == Fraction(3, 2)
    assert str(parse("sqrt(2)")) == "sqrt(2)"  # irrational: kept
    assert str(parse("sin(1)")) == "sin(1)"
    assert parse("pi").value == pytest.approx(3.141592653589793)
    assert parse("-inf").value == float("-inf")
    assert str(parse("2**100000")) == "2**100000"  # too large to fold: left alone


def _error(text, **kw):
    with pytest.raises(ParseError) as info:
        parse(text, **kw)
    return info.value


@pytest.mark.parametrize("text, position, fragment", [
    ("2 * (x + 1", 10, "expected ')' to close the '(' at position 4"),
    ("x +", 3, "expected a number, a name or '('"),
    ("", 0, "empty expression"),
    ("x y", 2, "write multiplication with '*'"),
    ("2x", 1, "write multiplication with '*'"),
    ("foo(x)", 0, "unknown function 'foo'"),
    ("sin(x, y)", 0, "sin() takes 1 argument, got 2"),
    ("maximum(x)", 0, "maximum() takes 2 arguments, got 1"),
    ("sin + 1", 0, "'sin' is a function"),
    ("x < y < z", 6, "comparisons cannot be chained"),
    ("x $ y", 2, "unexpected character '$'"),
    ("x)", 1, "unexpected ')'"),
    ("sin()", 0, "sin() takes 1 argument, got 0"),
    ("1.2.3", 3, "unexpected the number .3"),
    ("x,y", 1, "unexpected ','"),
])
def test_syntax_errors_name_the_position(text, position, fragment):
    err = _error(text)
    assert err.position == position
    assert fragment in str(err)
    caret_line = str(err).splitlines()[-1]
    text_line = str(err).splitlines()[-2]
    assert caret_line.index("^") == 2 + position  # the caret sits under the problem
    assert text_line.strip() == text.strip() or len(text) > 60


@pytest.mark.parametrize("text", [
    "__import__('os')", "__import__(os)", "x.__class__", "().__class__.__bases__",
    "lambda x: x", "[x for x in y]", "{x: 1}", "eval(x)", "exec(x)", "open(x)",
    "x; y", "x = 1", "import os", "x if y else z", "`x`", "x @ y", "x % y", "x // y",
    "f'{x}'", "b'x'", "x[0]", "not x", "x and y", "os.system('ls')", "sin.__globals__",
    "__builtins__", "None", "True", "getattr(x, y)", "\x00",
])
def test_hostile_text_is_a_parse_error_and_runs_nothing(text):
    def refuse(*args, **kwargs):
        raise AssertionError("the parser ran Python code")

    saved = {name: getattr(builtins, name) for name in ("eval", "exec", "compile")}
    try:
        for name in saved:
            setattr(builtins, name, refuse)
        with pytest.raises(ParseError):
            parse(text)
    finally:
        for name, value in saved.items():
            setattr(builtins, name, value)


def test_keywords_and_reserved_names_are_explained():
    assert "Python keyword" in str(_error("lambda"))
    assert "reserved" in str(_error("__x"))


def test_deep_nesting_raises_parse_error_not_recursion_error():
    for text in ["(" * 100_000, "(" * 40_000 + "x" + ")" * 40_000, "-" * 99_000 + "x",
                 "sin(" * 15_000 + "x" + ")" * 15_000, "x" + "**x" * 30_000]:
        err = _error(text)
        assert f"nested more than {MAX_DEPTH} levels" in str(err)


def test_nesting_within_the_limit_works():
    text = "(" * (MAX_DEPTH - 5) + "x" + ")" * (MAX_DEPTH - 5)
    assert parse(text) is x
    assert parse("((x))", max_depth=3) is x
    assert "nested more than 2" in str(_error("((x))", max_depth=2))


def test_length_limit():
    err = _error("x+" * (MAX_LENGTH // 2) + "x")
    assert "more than the limit" in str(err)
    assert "more than the limit" in str(_error("x" * 1_000_000))  # a megabyte: refused at once
    assert "more than the limit of 10" in str(_error("x + y + z + 1", max_length=10))
    long_sum = parse("+".join(["x"] * 20_000))  # long but flat: fine, no recursion
    assert sym.dag_size(long_sum) > 1


def test_number_limits():
    assert "5000 digits, more than 4300" in str(_error("9" * 5000))
    assert "too large for float64" in str(_error("1e999"))


def test_only_strings_are_parsed():
    with pytest.raises(TypeError, match="expected a string"):
        parse(b"x + 1")


def test_symbol_names_are_checked():
    with pytest.raises(sym.SymbolicError, match="names a function"):
        sym.symbol("sin")
    with pytest.raises(sym.SymbolicError, match="not a valid name"):
        sym.symbol("x y")
    with pytest.raises(TypeError):
        sym.symbol(3)


@given(st.text(alphabet="xy01.+-*/^()<>=!&|,sinexp ", max_size=40))
def test_random_text_parses_or_raises_parse_error(text):
    try:
        e = parse(text)
    except ParseError:
        return
    assert isinstance(e, sym.Expr)


@given(st.text(max_size=30))
def test_arbitrary_unicode_parses_or_raises_parse_error(text):
    try:
        parse(text)
    except ParseError as err:
        assert 0 <= err.position <= len(text)


@pytest.mark.parametrize("text, expected", [
    ("e", "exp(1)"), ("E", "exp(1)"), ("e^x", "exp(x)"), ("E**x", "exp(x)"),
    ("e^-x^2", "exp(-x**2)"), ("-e^x", "-exp(x)"), ("2*e^(2*x)", "2*exp(2*x)"),
    ("e*x + E", "exp(1)*x + exp(1)"), ("e2 + e_1", "e2 + e_1"),
])
def test_e_is_eulers_number(text, expected):
    assert str(parse(text)) == expected


def test_e_is_not_a_variable():
    assert sym.diff("e^x", "x") is parse("exp(x)")
    assert sym.diff("e^(3*x)", "x") is parse("3*exp(3*x)")
    assert sym.evaluate("e", {}) == pytest.approx(2.718281828459045, rel=1e-15)
    assert parse("x*e").free_symbols == {"x"}
    for name in ("e", "E"):
        with pytest.raises(sym.SymbolicError, match="Euler's number"):
            sym.symbol(name)
    with pytest.raises(sym.SymbolicError, match="with respect to a variable, got exp\\(1\\)"):
        sym.diff("x*e", "e")
