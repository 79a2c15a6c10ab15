"""An explanation written out: plain text, Markdown or LaTeX, from the same data.

Every printed equation is true as printed: a chain ``name = symbols =
numbers = result`` multiplies out, and a negative number after an operator is
put in brackets (``v3 * (-2)``, ``1 * 6 + (-1) * 3``). Where a step applies a
Jacobian rather than a scalar factor (a matrix product, a reduction), only its
result is shown, named as the product it is.

>>> print(formula_of("multiply", ["v3", "-2"]))
v3 * (-2)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from chainrule.backend import xp

INFIX = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "matmul": "@"}


def fmt(value: Any) -> str:
    """A value for people: a short number, or the shape of an array."""
    array = xp.asarray(getattr(value, "data", value))
    if array.size == 1:
        v = float(array.reshape(()))
        return f"{v:.10g}"
    if array.size <= 6:
        return xp.array2string(array, precision=6, separator=", ")
    return f"<array {array.dtype}{list(array.shape)}>"


def bracket(text: str) -> str:
    """``text`` as an operand after an operator: negative numbers in brackets."""
    return f"({text})" if text.startswith("-") else text


def _arg_names(f: Callable[..., Any], count: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = params[:count]
    return names + [f"x{i}" for i in range(len(names), count)]


def formula_of(op: str, operands: list[str], params: dict | None = None) -> str:
    """``op`` applied to ``operands`` (names or printed constants), as text."""
    if op == "power":
        return f"{bracket(operands[0])}**{bracket(operands[1])}"
    if op in INFIX and len(operands) == 2:
        return f"{operands[0]} {INFIX[op]} {bracket(operands[1])}"
    if op == "negative":
        return f"-{bracket(operands[0])}"
    if op == "square":
        return f"{bracket(operands[0])}**2"
    extra = "".join(f", {k}={v}" for k, v in (params or {}).items())
    return f"{op}({', '.join(operands)}{extra})"


def formula(step: Any) -> str:
    return formula_of(step.op, step.operands, step.params)


def sweep_text(line: Any) -> str:
    """One sweep line in plain text."""
    t = line.target
    if line.kind == "seed":
        return f"sweep for d/d{t}: {t}' = 1, other inputs' = 0"
    if line.kind == "output":
        return f"{t}_bar = 1 (the output)"
    if line.kind == "tangent":
        if not line.terms:
            return f"  {t}' = 0"
        symbols = " + ".join(f"d{n}/d{w} * {w}'" for n, w, _, _ in line.terms)
        if line.product:
            numbers = " + ".join(f"{bracket(fmt(p)) if k else fmt(p)} * {bracket(fmt(c))}"
                                 for k, (_, _, p, c) in enumerate(line.terms))
            return f"  {t}' = {symbols} = {numbers} = {fmt(line.value)}"
        return f"  {t}' = {symbols} (a Jacobian-vector product) = {fmt(line.value)}"
    n, w, p, g = line.terms[0]
    head = f"{w}_bar += {n}_bar * d{n}/d{w}"
    if line.product:
        head += f" = {fmt(g)} * {bracket(fmt(p))}"
    else:
        head += " (a vector-Jacobian product)"
    return f"{head} = {fmt(line.value)}   (now {w}_bar = {fmt(line.total)})"


def text(e: Any) -> str:
    lines = ["Evaluation trace (each value from earlier ones by one primitive):"]
    for name, value in e.inputs.items():
        lines.append(f"  {name} = {fmt(value)}")
    for s in e.steps:
        lines.append(f"  {s.name} = {s.formula()} = {fmt(s.value)}")
    lines.append("Local partial derivatives (from each primitive's rule):")
    for s in e.steps:
        for operand, d in s.partials.items():
            lines.append(f"  d{s.name}/d{operand} = {fmt(d)}")
    title = ("Forward sweep: tangents, one sweep per input (v' = sum of partial * tangent)"
             if e.mode == "forward" else
             "Reverse sweep: adjoints from the output back (v_bar = d output / d v)")
    lines.append(title + ":")
    lines += ["  " + line for line in e.sweep]
    lines.append("Derivative:")
    for name, d in e.derivatives.items():
        lines.append(f"  d{e.output}/d{name} = {fmt(d)}")
    lines += _notes(e, "  ")
    return "\n".join(lines)


def _notes(e: Any, indent: str) -> list[str]:
    lines = []
    if e.kinks:
        lines.append("Kinks (a primitive where it has no derivative; a subgradient was taken):")
        lines += [indent + k for k in e.kinks]
    if e.problems:
        lines.append("PROBLEM: the derivative above is not usable at this point:")
        lines += [indent + p for p in e.problems]
    return lines


def markdown(e: Any) -> str:
    rows = ["| value | definition | result | local partials |", "|---|---|---|---|"]
    for name, value in e.inputs.items():
        rows.append(f"| `{name}` | input | {fmt(value)} | |")
    for s in e.steps:
        partials = ", ".join(f"∂{s.name}/∂{k} = {fmt(v)}" for k, v in s.partials.items())
        rows.append(f"| `{s.name}` | `{s.formula()}` | {fmt(s.value)} | {partials} |")
    sweep = "\n".join(f"    {line}" for line in e.sweep)
    result = "\n".join(f"- d{e.output}/d{n} = {fmt(d)}" for n, d in e.derivatives.items())
    notes = "\n".join(_notes(e, "- "))
    tail = f"\n{notes}\n" if notes else ""
    return (f"{chr(10).join(rows)}\n\n{e.mode.capitalize()} sweep:\n\n{sweep}\n\n{result}\n"
            f"{tail}")
