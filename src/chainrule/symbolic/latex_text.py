"""LaTeX for expressions: fractions, superscripts, named functions, conditionals.

Only constructs that both TeX (with amsmath) and matplotlib's mathtext read are
written, and a test parses the LaTeX of random expressions with mathtext: so
``where`` is an inline ``(a if c else b)`` rather than a ``cases`` environment,
and a base that already has a superscript (``e^{x}``, ``10^{-5}``) gets
parentheses before it is raised to a power.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from chainrule import ops
from chainrule.symbolic.printing import (
    ADD,
    AND,
    ATOM,
    CMP,
    MUL,
    NEG,
    OR,
    POW,
    _check_size,
    number_text,
)

if TYPE_CHECKING:
    from chainrule.symbolic.expr import Expr

_GREEK = frozenset((
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho "
    "sigma tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon "
    "Phi Psi Omega").split())

# primitive -> (operator, precedence, least precedence of left and right operand)
_BINARY = {
    ops.add: (" + ", ADD, ADD, MUL),
    ops.subtract: (" - ", ADD, ADD, MUL),
    ops.multiply: (" \\cdot ", MUL, MUL, POW),
    ops.greater: (" > ", CMP, ADD, ADD),
    ops.greater_equal: (" \\geq ", CMP, ADD, ADD),
    ops.less: (" < ", CMP, ADD, ADD),
    ops.less_equal: (" \\leq ", CMP, ADD, ADD),
    ops.equal: (" = ", CMP, ADD, ADD),
    ops.not_equal: (" \\neq ", CMP, ADD, ADD),
    ops.logical_and: (" \\wedge ", AND, AND, CMP),
    ops.logical_or: (" \\vee ", OR, OR, AND),
}

_NAMED = {"sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "log"}

# one-argument functions with their own notation: (before, after)
_WRAPPED = {
    "sqrt": ("\\sqrt{", "}"),
    "cbrt": ("\\sqrt[3]{", "}"),
    "abs": ("\\left|", "\\right|"),
    "exp": ("e^{", "}"),
    "floor": ("\\left\\lfloor ", "\\right\\rfloor"),
    "ceil": ("\\left\\lceil ", "\\right\\rceil"),
    "log2": ("\\log_{2}\\left(", "\\right)"),
    "log10": ("\\log_{10}\\left(", "\\right)"),
    "logical_not": ("\\neg\\left(", "\\right)"),
}


def _word(text: str) -> str:
    """One part of a name: a Greek letter, a single letter or digit, or italic text."""
    if text in _GREEK:
        return f"\\{text}"
    if len(text) == 1 or text.isdigit():
        return text
    escaped = text.replace("_", "\\_")
    return f"\\mathit{{{escaped}}}"


def _symbol(name: str) -> str:
    base, _, sub = name.partition("_")
    if not base:  # _x: no base to put a subscript on
        return _word(name)
    return f"{_word(base)}_{{{_word(sub)}}}" if sub else _word(base)


def _number(value: Any) -> str:
    if type(value) is Fraction:
        sign = "-" if value < 0 else ""
        top, bottom = _number(abs(value.numerator)), _number(value.denominator)
        return f"{sign}\\frac{{{top}}}{{{bottom}}}"
    if type(value) is float:
        if math.isnan(value):
            return "\\mathrm{NaN}"
        if math.isinf(value):
            return "\\infty" if value > 0 else "-\\infty"
        if value == math.pi:
            return "\\pi"
        text = repr(value)
    else:
        text = number_text(value)  # scientific notation if too long for Python's str
    if "e" in text:
        mantissa, exponent = text.split("e")
        power = f"10^{{{int(exponent)}}}"
        return power if mantissa == "1" else f"{mantissa} \\cdot {power}"
    return text


def _number_precedence(value: Any) -> int:
    negative = value < 0 or (type(value) is float and math.copysign(1, value) < 0)
    if negative or type(value) is Fraction:
        return NEG  # \frac, like a division: a power of it needs parentheses
    text = _number(value)
    if "\\cdot" in text:
        return MUL
    return POW if "^" in text else ATOM


def _precedence(node: Expr) -> int:
    if node.prim is None:
        return ATOM if node.is_symbol else _number_precedence(node.value)
    if node.prim in (ops.negative, ops.divide):
        return NEG  # \frac is self-delimiting, but a power of it needs parentheses
    if node.prim is ops.power or (node.prim is ops.exp and not _is_e(node)):
        return POW  # e^{x} is a superscript already: (e^{x})^{2}, not e^{x}^{2}
    entry = _BINARY.get(node.prim)
    return entry[1] if entry is not None else ATOM


def _is_e(node: Expr) -> bool:
    """``exp(1)``, which is how the parser reads ``e``."""
    return node.prim is ops.exp and node.args[0].is_number and node.args[0].value == 1


def _operand(parts: list, child: Expr, least: int) -> None:
    if _precedence(child) < least:
        parts.extend(("\\left(", child, "\\right)"))
    else:
        parts.append(child)


def _layout(node: Expr) -> list:
    prim, args = node.prim, node.args
    name = prim.name
    if prim is ops.negative:
        parts: list = ["-"]
        _operand(parts, args[0], NEG + 1)
        return parts
    if prim is ops.divide:
        return ["\\frac{", args[0], "}{", args[1], "}"]
    if prim is ops.power:
        parts = []
        _operand(parts, args[0], ATOM)
        return [*parts, "^{", args[1], "}"]
    if prim is ops.multiply and args[0].is_number and _precedence(args[0]) == ATOM \
            and not args[1].is_number and _precedence(args[1]) == ATOM:
        return [args[0], " ", args[1]]  # 2 x rather than 2 \cdot x
    entry = _BINARY.get(prim)
    if entry is not None:
        text, _, left, right = entry
        parts = []
        _operand(parts, args[0], left)
        parts.append(text)
        _operand(parts, args[1], right)
        return parts
    if prim is ops.where:
        return ["\\left(", args[1], " \\text{ if } ", args[0], " \\text{ else } ", args[2],
                "\\right)"]
    if _is_e(node):
        return ["e"]
    if name in _WRAPPED and len(args) == 1:
        before, after = _WRAPPED[name]
        return [before, args[0], after]
    head = f"\\{name}" if name in _NAMED else f"\\operatorname{{{name}}}"
    parts = [head + "\\left("]
    for i, a in enumerate(args):
        if i:
            parts.append(", ")
        parts.append(a)
    parts.append("\\right)")
    return parts


def latex(expr: Expr) -> str:
    r"""LaTeX source for the expression.

    >>> from chainrule.symbolic import latex, parse
    >>> print(latex(parse("exp(-x^2/2) / sqrt(2*pi_0) + abs(y)")))
    \frac{e^{\frac{-x^{2}}{2}}}{\sqrt{2 \pi_{0}}} + \left|y\right|
    """
    _check_size(expr, "latex")
    out: list[str] = []
    stack: list[Any] = [expr]
    while stack:
        item = stack.pop()
        if type(item) is str:
            out.append(item)
        elif item.prim is None:
            out.append(_symbol(item.value) if item.is_symbol else _number(item.value))
        else:
            stack.extend(reversed(_layout(item)))
    return "".join(out)
