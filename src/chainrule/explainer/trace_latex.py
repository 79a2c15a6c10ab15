r"""An explanation as one LaTeX ``aligned`` block (amsmath): the trace, every
local partial derivative, the sweep (tangents or adjoints) and the derivative.

>>> print(tex_number(-2.5e-07))
-2.5 \times 10^{-7}
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp
from chainrule.explainer.trace_format import INFIX

_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "%": r"\%",
                 "&": r"\&", "#": r"\#", "$": r"\$", "^": r"\^{}", "~": r"\~{}"}


def tex_text(text: str) -> str:
    """Plain words inside ``\\text{...}``, special characters escaped."""
    return "".join(_TEXT_ESCAPES.get(ch, ch) for ch in text)


def tex_number(v: float) -> str:
    if xp.isnan(v):
        return r"\mathrm{NaN}"
    if xp.isinf(v):
        return r"\infty" if v > 0 else r"-\infty"
    mantissa, _, exponent = f"{v:.10g}".partition("e")
    if not exponent:
        return mantissa
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def tex_value(value: Any) -> str:
    """A number, a small vector or matrix, or an array's shape."""
    array = xp.asarray(getattr(value, "data", value), dtype=float)
    if array.size == 1:
        return tex_number(float(array.reshape(())))
    if array.ndim == 1 and array.size <= 6:
        return r"\left[" + ", ".join(tex_number(float(v)) for v in array) + r"\right]"
    if array.ndim == 2 and array.size <= 9:
        rows = [" & ".join(tex_number(float(v)) for v in row) for row in array]
        return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"
    return rf"\text{{array of shape {tex_text(str(list(array.shape)))}}}"


def tex_name(name: str) -> str:
    if name[:1].isalpha() and name[1:].isdigit():
        return f"{name[0]}_{{{name[1:]}}}"
    if name.isidentifier():
        return name if len(name) == 1 else rf"\mathit{{{tex_text(name)}}}"
    return tex_operand(name)


def tex_operand(text: str) -> str:
    """A name, or a printed constant (brackets around a negative one)."""
    if text.isidentifier():
        return tex_name(text)
    try:
        number = tex_number(float(text))
    except ValueError:
        return rf"\text{{{tex_text(text)}}}"
    return rf"\left({number}\right)" if number.startswith("-") else number


def tex_formula(step: Any) -> str:
    ops = [tex_operand(o) for o in step.operands]
    if step.op == "multiply":
        return rf"{ops[0]} \cdot {ops[1]}"
    if step.op == "divide":
        return rf"\frac{{{ops[0]}}}{{{ops[1]}}}"
    if step.op == "square":
        return f"{ops[0]}^{{2}}"
    if step.op == "power":
        return f"{ops[0]}^{{{ops[1]}}}"
    if step.op in INFIX and len(ops) == 2:
        return f"{ops[0]} {INFIX[step.op]} {ops[1]}"
    if step.op == "negative":
        return f"-{ops[0]}"
    return rf"\operatorname{{{tex_text(step.op)}}}\left({', '.join(ops)}\right)"


def _partial(of: str, wrt: str) -> str:
    return rf"\frac{{\partial {tex_name(of)}}}{{\partial {tex_name(wrt)}}}"


def _factor(value: Any, first: bool = False) -> str:
    shown = tex_value(value)
    return rf"\left({shown}\right)" if shown.startswith("-") and not first else shown


def _sweep_line(line: Any) -> str:
    t = tex_name(line.target)
    if line.kind == "seed":
        return (rf"&\text{{sweep for }} \partial/\partial {t}\text{{: }} \dot{{{t}}} = 1"
                rf"\text{{, other inputs' tangents }} 0 \\")
    if line.kind == "output":
        return rf"\bar{{{t}}} &= 1 \\"
    if line.kind == "tangent":
        if not line.terms:
            return rf"\dot{{{t}}} &= 0 \\"
        symbols = " + ".join(rf"{_partial(n, w)} \, \dot{{{tex_name(w)}}}"
                             for n, w, _, _ in line.terms)
        if line.product:
            numbers = " + ".join(rf"{_factor(p, k == 0)} \cdot {_factor(c)}"
                                 for k, (_, _, p, c) in enumerate(line.terms))
            return rf"\dot{{{t}}} &= {symbols} = {numbers} = {tex_value(line.value)} \\"
        return (rf"\dot{{{t}}} &= {symbols} \quad\text{{(a Jacobian-vector product)}} = "
                rf"{tex_value(line.value)} \\")
    n, w, p, g = line.terms[0]
    middle = (rf" = {_factor(g, True)} \cdot {_factor(p)}" if line.product
              else r" \quad\text{(a vector-Jacobian product)}")
    return (rf"\bar{{{t}}} &\mathrel{{+}}= \bar{{{tex_name(n)}}} \, {_partial(n, w)}{middle} = "
            rf"{tex_value(line.value)} \quad (\text{{now }} \bar{{{t}}} = "
            rf"{tex_value(line.total)}) \\")


def latex(e: Any) -> str:
    """The whole explanation; every line of the aligned block ends in ``\\\\``."""
    lines = [r"\begin{aligned}", r"&\text{Evaluation trace} \\"]
    for name, value in e.inputs.items():
        lines.append(rf"{tex_name(name)} &= {tex_value(value)} \\")
    for s in e.steps:
        lines.append(rf"{tex_name(s.name)} &= {tex_formula(s)} = {tex_value(s.value)} \\")
    lines.append(r"&\text{Local partial derivatives} \\")
    for s in e.steps:
        for operand, d in s.partials.items():
            lines.append(rf"{_partial(s.name, operand)} &= {tex_value(d)} \\")
    lines.append(r"&\text{Forward sweep: tangents} \\" if e.mode == "forward"
                 else r"&\text{Reverse sweep: adjoints} \\")
    lines += [_sweep_line(line) for line in e.lines]
    lines.append(r"&\text{Derivative} \\")
    for name, d in e.derivatives.items():
        lines.append(rf"{_partial(e.output, name)} &= {tex_value(d)} \\")
    for title, notes in (("Kinks (a subgradient was taken)", e.kinks),
                         ("PROBLEM: the derivative is not usable here", e.problems)):
        if notes:
            lines.append(rf"&\text{{{tex_text(title)}}} \\")
            lines += [rf"&\text{{{tex_text(note)}}} \\" for note in notes]
    lines.append(r"\end{aligned}")
    return "\n".join(lines)
