"""A safe parser for ordinary infix math: text in, expression DAG out.

A hand-written Pratt (precedence-climbing) parser over a regular-expression
tokenizer. Text is never given to ``eval``, ``exec``, ``compile`` or
``ast``: the only things it can build are numbers, symbols and the scalar
primitives of the table, so ``__import__('os')``, attribute access, lambdas
and comprehensions are syntax errors. The input length and the nesting depth
are limited, so hostile text cannot exhaust memory or the stack.

Grammar, loosest first: ``|``, ``&``, comparisons (``< <= > >= == !=``, not
chained), ``+ -``, ``* /``, unary ``-``/``+``, ``**`` or ``^`` (right
associative, so ``-x**2`` is ``-(x**2)`` and ``2**-x`` works), then numbers,
names, calls ``f(a, b)`` and parentheses. Numbers without a point or
exponent are exact integers, so ``1/2`` is the rational one half. The names
``pi``, ``inf`` and ``nan`` are floats, ``e`` and ``E`` are Euler's number
(``exp(1)``; ``e^y`` is read as ``exp(y)``): none of them is a variable.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from chainrule import ops
from chainrule.symbolic.errors import ParseError, SymbolicError
from chainrule.symbolic.expr import Expr, apply, as_expr, constant, symbol
from chainrule.symbolic.names import ARITY, CONSTANTS, EULER, PRIMITIVES, function

MAX_LENGTH = 100_000  # characters
MAX_DEPTH = 200  # nested parentheses, calls, unary minus and powers
MAX_DIGITS = 4300  # of an integer literal (Python's default int-to-str limit)

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|<=|>=|==|!=|[-+*/^(),<>&|])
""", re.VERBOSE | re.ASCII)

OR, AND, CMP, ADD, MUL, NEG, POW = range(1, 8)

# operator -> (primitive, precedence)
_INFIX = {
    "|": (ops.logical_or, OR), "&": (ops.logical_and, AND),
    "<": (ops.less, CMP), "<=": (ops.less_equal, CMP), ">": (ops.greater, CMP),
    ">=": (ops.greater_equal, CMP), "==": (ops.equal, CMP), "!=": (ops.not_equal, CMP),
    "+": (ops.add, ADD), "-": (ops.subtract, ADD),
    "*": (ops.multiply, MUL), "/": (ops.divide, MUL),
    "**": (ops.power, POW), "^": (ops.power, POW),
}


class _Token:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind: str, text: str, pos: int) -> None:
        self.kind, self.text, self.pos = kind, text, pos

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the input"
        if self.kind == "name":
            return f"the name {self.text!r}"
        if self.kind == "number":
            return f"the number {self.text}"
        return repr(self.text)


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            char = text[pos]
            hint = ""
            if char in "'\"":
                hint = "; strings are not part of expressions"
            elif char == ".":
                hint = "; attribute access is not part of expressions"
            elif char in "[]{}":
                hint = "; use parentheses for grouping"
            raise ParseError(f"unexpected character {char!r}{hint}", text, pos)
        kind = m.lastgroup
        if kind != "space":
            tokens.append(_Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(_Token("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str, max_depth: int) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.max_depth = max_depth

    def error(self, message: str, token: _Token | None = None) -> ParseError:
        token = token or self.tokens[self.i]
        return ParseError(message, self.text, token.pos)

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, op: str, opening: _Token | None = None) -> None:
        token = self.peek()
        if token.kind == "op" and token.text == op:
            self.i += 1
            return
        context = f" to close the {opening.text!r} at position {opening.pos}" if opening else ""
        raise self.error(f"expected {op!r}{context}, found {token.describe()}")

    def parse(self) -> Expr:
        if self.peek().kind == "end":
            raise self.error("empty expression")
        result = self.expr(OR)
        token = self.peek()
        if token.kind != "end":
            hint = ""
            if token.kind in ("name", "number") or token.text == "(":
                hint = " (write multiplication with '*', e.g. 2*x)"
            raise self.error(f"unexpected {token.describe()}{hint}", token)
        return result

    def expr(self, least: int) -> Expr:
        self.depth += 1
        if self.depth > self.max_depth:
            raise self.error(f"expression nested more than {self.max_depth} levels deep")
        start = self.i
        left = self.prefix()
        # the bare name e before ** or ^ is the base of exp: e^y is exp(y), not 2.718...**y
        euler = self.i == start + 1 and self.tokens[start].kind == "name" and \
            self.tokens[start].text in EULER
        while True:
            token = self.peek()
            entry = _INFIX.get(token.text) if token.kind == "op" else None
            if entry is None or entry[1] < least:
                break
            prim, prec = entry
            self.i += 1
            # ** is right associative and its exponent may carry a unary minus
            right = self.expr(NEG if prec == POW else prec + 1)
            if euler and prec == POW:
                left = apply(ops.exp, (right,))
            else:
                left = apply(prim, (left, right))
            euler = False
            if prec == CMP:
                after = self.peek()
                if after.kind == "op" and _INFIX.get(after.text, (None, 0))[1] == CMP:
                    raise self.error("comparisons cannot be chained; add parentheses, "
                                     "e.g. (a < b) & (b < c)", after)
        self.depth -= 1
        return left

    def prefix(self) -> Expr:
        token = self.advance()
        if token.kind == "number":
            return self.number(token)
        if token.kind == "name":
            return self.name(token)
        if token.kind == "op":
            if token.text == "(":
                inner = self.expr(OR)
                self.expect(")", token)
                return inner
            if token.text == "-":
                return apply(ops.negative, (self.expr(NEG),))
            if token.text == "+":
                return self.expr(NEG)
        raise self.error(f"expected a number, a name or '(', found {token.describe()}", token)

    def number(self, token: _Token) -> Expr:
        text = token.text
        if any(c in text for c in ".eE"):
            value: Any = float(text)
            if value == float("inf"):
                raise self.error(f"the number {text} is too large for float64", token)
            return constant(value)
        if len(text) > MAX_DIGITS:  # whatever sys.set_int_max_str_digits allows
            raise self.error(f"the integer has {len(text)} digits, more than {MAX_DIGITS}; "
                             f"write it as a float (1.5e5000 overflows) or a power (10**5000)",
                             token)
        try:
            return constant(int(text))
        except ValueError:  # Python refuses integers with too many digits
            raise self.error("the integer has too many digits", token) from None

    def name(self, token: _Token) -> Expr:
        name = token.text
        after = self.peek()
        if after.kind == "op" and after.text == "(":
            return self.call(token)
        if name in CONSTANTS:
            return constant(CONSTANTS[name])
        if name in EULER:
            return apply(ops.exp, (constant(1),))
        if keyword.iskeyword(name):
            raise self.error(f"{name!r} is a Python keyword; expressions have no "
                             f"statements, lambdas or comprehensions", token)
        if function(name) is not None:
            raise self.error(f"{name!r} is a function; call it as {name}(...)", token)
        try:
            return symbol(name)
        except SymbolicError as err:
            raise self.error(str(err), token) from None

    def call(self, token: _Token) -> Expr:
        prim = function(token.text)
        if prim is None:
            raise self.error(f"unknown function {token.text!r}; known: "
                             f"{', '.join(sorted(PRIMITIVES))}", token)
        opening = self.advance()  # "("
        args = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            while True:
                args.append(self.expr(OR))
                if self.peek().kind == "op" and self.peek().text == ",":
                    self.i += 1
                    continue
                break
        self.expect(")", opening)
        arity = ARITY[prim]
        if len(args) != arity:
            raise self.error(f"{token.text}() takes {arity} argument{'s' * (arity != 1)}, "
                             f"got {len(args)}", token)
        return apply(prim, tuple(args))


def parse(text: str, *, max_length: int = MAX_LENGTH, max_depth: int = MAX_DEPTH) -> Expr:
    """The expression written in ``text`` (``x**2 - 3*x - 2``, ``exp(-x^2/2)``).

    Raises ParseError, with the position of the problem, for anything that is
    not an expression, and for text longer than ``max_length`` characters or
    nested deeper than ``max_depth``.

    >>> from chainrule.symbolic import parse
    >>> parse("x^2 - 3*x - 2")
    x**2 - 3*x - 2
    >>> parse("1/2 + 1/3")
    5/6
    >>> parse("__import__('os')")
    Traceback (most recent call last):
      ...
    chainrule.symbolic.errors.ParseError: unexpected character "'"; strings are not part ...
      __import__('os')
                 ^
    """
    if not isinstance(text, str):
        raise TypeError(f"parse: expected a string, got {type(text).__name__}")
    if len(text) > max_length:
        raise ParseError(f"the text is {len(text)} characters long, more than the limit of "
                         f"{max_length}", text[: max_length + 1], max_length)
    try:
        return _Parser(text, max_depth).parse()
    except RecursionError:  # only if the caller's stack was already nearly full
        raise ParseError("expression nested too deeply for the Python stack", text, 0) from None


def expr_of(value: Any, where: str = "symbolic") -> Expr:
    """An expression from an expression, a number or text (parsed)."""
    if isinstance(value, str):
        return parse(value)
    return as_expr(value, where)
