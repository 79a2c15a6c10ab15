"""The chain rule carried out step by step: an evaluation trace of a function,
each step's local partial derivatives, then forward tangents or reverse
adjoints, ending in the derivative.

The trace is read from the graph reverse mode records, and the partials,
tangents and adjoints are computed with the primitives' own JVP and VJP
rules: what it shows is exactly what the engines do.

>>> import chainrule as cr
>>> e = cr.explain(lambda x: x**2 - 3*x - 2, 3.0)
>>> [round(float(d), 12) for d in e.derivatives.values()]
[3.0]
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chainrule.backend import xp
from chainrule.core.graph import Node, topological_order
from chainrule.ops.shape import identity_p, sum_to
from chainrule.tensor import Tensor

INFIX = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**",
         "matmul": "@"}


@dataclass
class Step:
    """One intermediate value: ``name = op(operands)``."""

    name: str
    op: str
    operands: list[str]
    value: Any
    partials: dict[str, Any] = field(default_factory=dict)  # operand name -> d name / d operand
    params: dict[str, Any] = field(default_factory=dict)

    def formula(self) -> str:
        if self.op == "power":
            return f"{self.operands[0]}**{self.operands[1]}"
        if self.op in INFIX and len(self.operands) == 2:
            return f"{self.operands[0]} {INFIX[self.op]} {self.operands[1]}"
        if self.op == "negative":
            return f"-{self.operands[0]}"
        if self.op == "square":
            return f"{self.operands[0]}**2"
        extra = "".join(f", {k}={v}" for k, v in self.params.items())
        return f"{self.op}({', '.join(self.operands)}{extra})"


@dataclass
class Explanation:
    """A worked derivative: inputs, trace, and the sweep(s) of the chosen mode."""

    mode: str
    inputs: dict[str, Any]
    steps: list[Step]
    output: str
    sweep: list[str]  # the lines of the forward or reverse sweep, in order
    derivatives: dict[str, Any]  # input name -> d output / d input
    adjoints: dict[str, Any] = field(default_factory=dict)  # reverse mode: every value's adjoint

    def text(self) -> str:
        lines = ["Evaluation trace (each value from earlier ones by one primitive):"]
        for name, value in self.inputs.items():
            lines.append(f"  {name} = {fmt(value)}")
        for s in self.steps:
            lines.append(f"  {s.name} = {s.formula()} = {fmt(s.value)}")
        lines.append("Local partial derivatives (from each primitive's rule):")
        for s in self.steps:
            for operand, d in s.partials.items():
                lines.append(f"  d{s.name}/d{operand} = {fmt(d)}")
        title = ("Forward sweep: tangents, one sweep per input (v' = sum of partial * tangent)"
                 if self.mode == "forward" else
                 "Reverse sweep: adjoints from the output back (v_bar = d output / d v)")
        lines.append(title + ":")
        lines += ["  " + line for line in self.sweep]
        lines.append("Derivative:")
        for name, d in self.derivatives.items():
            lines.append(f"  d{self.output}/d{name} = {fmt(d)}")
        return "\n".join(lines)

    def markdown(self) -> str:
        rows = ["| value | definition | result | local partials |", "|---|---|---|---|"]
        for name, value in self.inputs.items():
            rows.append(f"| `{name}` | input | {fmt(value)} | |")
        for s in self.steps:
            partials = ", ".join(f"∂{s.name}/∂{k} = {fmt(v)}" for k, v in s.partials.items())
            rows.append(f"| `{s.name}` | `{s.formula()}` | {fmt(s.value)} | {partials} |")
        sweep = "\n".join(f"    {line}" for line in self.sweep)
        result = "\n".join(f"- d{self.output}/d{n} = {fmt(d)}" for n, d in self.derivatives.items())
        return f"{chr(10).join(rows)}\n\n{self.mode.capitalize()} sweep:\n\n{sweep}\n\n{result}\n"

    def latex(self) -> str:
        lines = [r"\begin{aligned}"]
        for name, value in self.inputs.items():
            lines.append(f"{_tex_name(name)} &= {fmt(value)} \\\\")
        for s in self.steps:
            lines.append(f"{_tex_name(s.name)} &= {_tex_formula(s)} = {fmt(s.value)} \\\\")
        for name, d in self.derivatives.items():
            lines.append(rf"\frac{{\partial {_tex_name(self.output)}}}{{\partial "
                         rf"{_tex_name(name)}}} &= {fmt(d)} \\")
        lines.append(r"\end{aligned}")
        return "\n".join(lines)

    def render(self, format: str = "text") -> str:  # noqa: A002 - the CLI's option name
        renderers = {"text": self.text, "markdown": self.markdown, "latex": self.latex}
        if format not in renderers:
            raise ValueError(f"explain: unknown format {format!r}; choose from {sorted(renderers)}")
        return renderers[format]()

    def __str__(self) -> str:
        return self.text()


def fmt(value: Any) -> str:
    """A value for people: a short number, or the shape of an array."""
    array = xp.asarray(getattr(value, "data", value))
    if array.size == 1:
        v = float(array.reshape(()))
        return f"{v:.10g}"
    if array.size <= 6:
        return xp.array2string(array, precision=6, separator=", ")
    return f"<array {array.dtype}{list(array.shape)}>"


def _tex_name(name: str) -> str:
    if name.startswith("v") and name[1:].isdigit():
        return f"v_{{{name[1:]}}}"
    return name


def _tex_formula(step: Step) -> str:
    ops = [_tex_name(o) for o in step.operands]
    if step.op == "multiply":
        return rf"{ops[0]} \cdot {ops[1]}"
    if step.op == "divide":
        return rf"\frac{{{ops[0]}}}{{{ops[1]}}}"
    if step.op == "square":
        return f"{ops[0]}^2"
    if step.op == "power":
        return f"{ops[0]}^{{{ops[1]}}}"
    if step.op in INFIX and len(ops) == 2:
        return f"{ops[0]} {INFIX[step.op]} {ops[1]}"
    if step.op == "negative":
        return f"-{ops[0]}"
    return rf"\operatorname{{{step.op}}}({', '.join(ops)})"


def _arg_names(f: Callable[..., Any], count: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = params[:count]
    return names + [f"x{i}" for i in range(len(names), count)]


def _fit(g: Any, ref: Any) -> Any:
    g = xp.asarray(g)
    shape = xp.shape(ref)
    return sum_to(g, shape) if g.shape != shape else g


class _Recorder:
    """Runs ``f`` on fresh leaves and names every recorded value."""

    def __init__(self, f: Callable[..., Any], args: Sequence[Any], names: Sequence[str]):
        self.leaves = [Tensor(xp.asarray(a, dtype=xp.float64), requires_grad=True) for a in args]
        out = f(*self.leaves)
        if any(out is leaf for leaf in self.leaves):  # f returns an input: record the identity
            out = identity_p(out)
        if not isinstance(out, Tensor) or out._node is None:
            raise ValueError("explain: the function's output does not depend on its inputs "
                             "through any differentiable operation")
        if out.size != 1:
            raise ValueError(f"explain: the function must return a scalar, it returned shape "
                             f"{out.shape}")
        self.out = out
        self.partials: dict[tuple[int, int], Any] = {}
        self.names: dict[int, str] = {id(t): n for t, n in zip(self.leaves, names)}
        self.order: list[Node] = list(reversed(topological_order(out._node)))
        for k, node in enumerate(self.order, start=1):
            self.names[id(node)] = f"v{k}"

    def label(self, value: Any) -> str:
        node = getattr(value, "_node", None)
        key = id(node) if node is not None else id(value)
        if key in self.names:
            return self.names[key]
        if isinstance(value, Tensor) and value.requires_grad:
            self.names[key] = f"c{len(self.names)}"  # a tensor from outside the function
            return self.names[key]
        return fmt(value)

    def key(self, value: Any) -> int:
        node = value._node
        return id(node) if node is not None else id(value)


def explain(f: Callable[..., Any], *args: Any, mode: str = "reverse",
            names: Sequence[str] | None = None) -> Explanation:
    """Explain the derivative of scalar ``f`` at ``args`` step by step.

    ``mode`` is ``"reverse"`` (one backward sweep of adjoints gives every
    input's derivative) or ``"forward"`` (one sweep of tangents per input).
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"explain: mode must be 'reverse' or 'forward', got {mode!r}")
    if not args:
        raise ValueError("explain: give the point, e.g. explain(f, 3.0)")
    names = list(names) if names is not None else _arg_names(f, len(args))
    rec = _Recorder(f, args, names)
    steps = []
    for node in rec.order:
        step = Step(rec.names[id(node)], node.prim.name, [rec.label(v) for v in node.inputs],
                    node.out, params=dict(node.params))
        ones = xp.ones_like(node.out)
        for i in node.needs:
            rule = node.prim.vjps[i]
            if rule is not None:
                partial = _fit(rule(ones, node.out, *node.args, **node.params), node.args[i])
                step.partials[rec.label(node.inputs[i])] = partial
                rec.partials[(id(node), i)] = partial
        steps.append(step)
    inputs = {n: t.data for t, n in zip(rec.leaves, names)}
    output = rec.names[id(rec.out._node)]
    if mode == "reverse":
        sweep, derivatives, adjoints = _reverse(rec)
        return Explanation(mode, inputs, steps, output, sweep, derivatives, adjoints)
    sweep, derivatives = _forward(rec)
    return Explanation(mode, inputs, steps, output, sweep, derivatives)


def _reverse(rec: _Recorder) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    root = rec.out._node
    bars: dict[int, Any] = {id(root): xp.ones_like(root.out)}
    lines = [f"{rec.names[id(root)]}_bar = 1 (the output)"]
    adjoints: dict[str, Any] = {rec.names[id(root)]: bars[id(root)]}
    for node in reversed(rec.order):
        g = bars.get(id(node))
        name = rec.names[id(node)]
        if g is None:
            continue
        adjoints[name] = g
        for i in node.needs:
            rule = node.prim.vjps[i]
            if rule is None:
                continue
            x = node.inputs[i]
            contribution = _fit(rule(g, node.out, *node.args, **node.params), node.args[i])
            key = rec.key(x)
            target = rec.label(x)
            before = bars.get(key)
            bars[key] = contribution if before is None else before + contribution
            partial = rec.partials.get((id(node), i))
            product = f"{fmt(g)} * {fmt(partial)} = " if partial is not None else ""
            lines.append(f"{target}_bar += {name}_bar * d{name}/d{target} = {product}"
                         f"{fmt(contribution)}   (now {target}_bar = {fmt(bars[key])})")
    derivatives = {}
    for leaf in rec.leaves:
        value = bars.get(id(leaf))
        derivatives[rec.names[id(leaf)]] = value if value is not None else xp.zeros_like(leaf.data)
        adjoints[rec.names[id(leaf)]] = derivatives[rec.names[id(leaf)]]
    return lines, derivatives, adjoints


def _forward(rec: _Recorder) -> tuple[list[str], dict[str, Any]]:
    lines: list[str] = []
    derivatives = {}
    for leaf in rec.leaves:
        if leaf.size != 1:
            raise ValueError("explain: forward mode is shown for scalar inputs; use "
                             "mode='reverse' for array inputs")
        seed = rec.names[id(leaf)]
        lines.append(f"sweep for d/d{seed}: {seed}' = 1, other inputs' = 0")
        dots: dict[int, Any] = {id(leaf): xp.ones_like(leaf.data)}
        for node in rec.order:
            total = None
            name = rec.names[id(node)]
            terms = []
            for i in node.needs:
                dx = dots.get(rec.key(node.inputs[i]))
                rule = node.prim.jvps[i] if node.prim.jvps is not None else None
                if dx is None or rule is None:
                    continue
                term = rule(dx, node.out, *node.args, **node.params)
                if term is not None:
                    total = term if total is None else total + term
                    operand = rec.label(node.inputs[i])
                    terms.append(f"d{name}/d{operand} * {operand}' = "
                                 f"{fmt(rec.partials.get((id(node), i)))} * {fmt(dx)}")
            if total is None:
                lines.append(f"  {name}' = 0")
                continue
            dots[id(node)] = total
            lines.append(f"  {name}' = {' + '.join(terms)} = {fmt(total)}")
        value = dots.get(id(rec.out._node))
        derivatives[seed] = value if value is not None else xp.zeros(())
    return lines, derivatives
