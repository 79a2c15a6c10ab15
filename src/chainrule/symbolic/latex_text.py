"""LaTeX for expressions: fractions, superscripts, named functions, cases for where."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from chainrule import ops
from chainrule.symbolic.printing import ADD, AND, ATOM, CMP, MUL, NEG, OR, POW, _check_size

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
    ops.logical_and: (" \\land ", AND, AND, CMP),
    ops.logical_or: (" \\lor ", OR, OR, AND),
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
    "logical_not": ("\\lnot\\left(", "\\right)"),
}


def _symbol(name: str) -> str:
    base, _, sub = name.partition("_")
    base = f"\\{base}" if base in _GREEK else base if len(base) == 1 else \
        f"\\mathit{{{base}}}"
    return f"{base}_{{{sub}}}" if sub else base


def _number(value: Any) -> str:
    if type(value) is Fraction:
        sign = "-" if value < 0 else ""
        return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"
    if type(value) is float:
        if math.isnan(value):
            return "\\mathrm{NaN}"
        if math.isinf(value):
            return "\\infty" if value > 0 else "-\\infty"
        text = repr(value)
        if "e" in text:
            mantissa, exponent = text.split("e")
            power = f"10^{{{int(exponent)}}}"
            return power if mantissa == "1" else f"{mantissa} \\cdot {power}"
        return text
    return str(value)


def _precedence(node: Expr) -> int:
    if node.prim is None:
        if node.is_symbol:
            return ATOM
        value = node.value
        return NEG if value < 0 or (type(value) is float and math.copysign(1, value) < 0) \
            else ATOM
    if node.prim in (ops.negative, ops.divide):
        return NEG  # \frac is self-delimiting, but a power of it needs parentheses
    if node.prim is ops.power:
        return POW
    entry = _BINARY.get(node.prim)
    return entry[1] if entry is not None else ATOM


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
            and (args[1].is_symbol or _precedence(args[1]) == ATOM):
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
        return ["\\begin{cases} ", args[1], " & \\text{if } ", args[0], " \\\\ ", args[2],
                " & \\text{otherwise} \\end{cases}"]
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
