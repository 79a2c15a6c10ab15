"""The chain rule carried out step by step: an evaluation trace of a function,
each step's local partial derivatives, then forward tangents or reverse
adjoints, ending in the derivative.

The trace is read from the graph reverse mode records, and the partials,
tangents and adjoints are computed with the primitives' own JVP and VJP
rules: what it shows is exactly what the engines do. Kinks the evaluation
touched, values outside a primitive's domain and a point on the edge of the
function's domain are reported with it (``Explanation.kinks``,
``Explanation.problems``).

>>> import chainrule as cr
>>> e = cr.explain(lambda x: x**2 - 3*x - 2, 3.0)
>>> [round(float(d), 12) for d in e.derivatives.values()]
[3.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chainrule.backend import xp
from chainrule.core.graph import Node, topological_order
from chainrule.explainer import diagnostics, trace_format, trace_latex
from chainrule.explainer.trace_format import _arg_names, fmt
from chainrule.forward import fit_tangent
from chainrule.ops.shape import identity_p, sum_to
from chainrule.tensor import Tensor

__all__ = ["Explanation", "Step", "SweepLine", "explain", "fmt"]


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
        return trace_format.formula(self)


@dataclass
class SweepLine:
    """One line of a sweep.

    Forward (``kind="tangent"``): ``target' = sum of d target/d wrt * wrt'``
    over ``terms``. Reverse (``kind="adjoint"``): ``target_bar += node_bar *
    d node/d target`` with one term, ``total`` the adjoint so far. A ``terms``
    entry is ``(node, wrt, partial, carried)``. ``product`` says whether the
    numbers multiply out to ``value`` (scalars, elementwise steps); otherwise
    the rule applied a Jacobian (a matrix product, a reduction) and only the
    result is printed. ``kind="seed"`` starts a forward sweep (the input seeded
    with tangent 1), ``kind="output"`` the reverse sweep (the output's adjoint 1).
    """

    kind: str
    target: str
    value: Any
    terms: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    total: Any = None
    product: bool = True


@dataclass
class Explanation:
    """A worked derivative: inputs, trace, and the sweep(s) of the chosen mode."""

    mode: str
    inputs: dict[str, Any]
    steps: list[Step]
    output: str
    lines: list[SweepLine]  # the forward or reverse sweep, in order
    derivatives: dict[str, Any]  # input name -> d output / d input
    adjoints: dict[str, Any] = field(default_factory=dict)  # reverse mode: every value's adjoint
    kinks: list[str] = field(default_factory=list)  # kinks touched, with the convention taken
    problems: list[str] = field(default_factory=list)  # NaN/inf, outside or on edge of domain

    @property
    def usable(self) -> bool:
        """False when a problem makes the derivative meaningless (a kink does not)."""
        return not self.problems

    @property
    def sweep(self) -> list[str]:
        """The sweep as plain-text lines."""
        return [trace_format.sweep_text(line) for line in self.lines]

    def text(self) -> str:
        return trace_format.text(self)

    def markdown(self) -> str:
        return trace_format.markdown(self)

    def latex(self) -> str:
        return trace_latex.latex(self)

    def render(self, format: str = "text") -> str:  # noqa: A002 - the CLI's option name
        renderers = {"text": self.text, "markdown": self.markdown, "latex": self.latex}
        if format not in renderers:
            raise ValueError(f"explain: unknown format {format!r}; choose from {sorted(renderers)}")
        return renderers[format]()

    def __str__(self) -> str:
        return self.text()

    def to_html(self, comparison: Any = None, title: str | None = None) -> str:
        """One self-contained HTML page stepping through the sweeps (no network needed).

        ``comparison`` (from ``cr.compare`` at the same point) adds the four
        methods' results side by side at the end.

        >>> import chainrule as cr
        >>> f = lambda x: x**2 - 3*x - 2
        >>> page = cr.explain(f, 3.0).to_html(cr.compare(f, 3.0))
        >>> page.startswith("<!DOCTYPE html>"), "https://" in page, "http://" in page
        (True, False, False)
        """
        from chainrule.explainer.html_page import explanation_html

        return explanation_html(self, comparison, title)


def _fit(g: Any, ref: Any) -> Any:
    g = xp.asarray(g)
    shape = xp.shape(ref)
    return sum_to(g, shape) if g.shape != shape else g


def _params(node: Node, perturbed: tuple[int, ...]) -> dict[str, Any]:
    # the engines tell kink rules which arguments are differentiated (maximum(x, c))
    if node.prim.takes_perturbed:
        return {**node.params, "perturbed": perturbed}
    return node.params


def _multiplies_out(carried: Any, partial: Any, value: Any) -> bool:
    """Whether ``carried * partial`` (summed to value's shape) is ``value``."""
    if partial is None:
        return False
    with xp.errstate(all="ignore"):
        product = xp.asarray(carried) * xp.asarray(partial)
    if product.shape != xp.shape(value):
        if product.ndim < len(xp.shape(value)):
            return False
        try:
            product = xp.asarray(sum_to(product, xp.shape(value)))
        except (ValueError, TypeError):
            return False
    return bool(xp.allclose(product, value, rtol=1e-12, atol=0.0, equal_nan=True))


class _Recorder:
    """Runs ``f`` on fresh leaves and names every recorded value."""

    def __init__(self, f: Callable[..., Any], args: Sequence[Any], names: Sequence[str]):
        from chainrule.reverse import backward_pass
        from chainrule.subgradients import kinks

        self.leaves = [Tensor(xp.asarray(a, dtype=xp.float64), requires_grad=True) for a in args]
        with kinks() as report, xp.errstate(all="ignore"):
            out = f(*self.leaves)
            if any(out is leaf for leaf in self.leaves):  # f returns an input: record identity
                out = identity_p(out)
            if not isinstance(out, Tensor) or out._node is None:
                raise ValueError("explain: the function's output does not depend on its inputs "
                                 "through any differentiable operation")
            if out.size != 1:
                raise ValueError(f"explain: the function must return a scalar, it returned "
                                 f"shape {out.shape}")
            # the engine's own sweep tells the kink report which arguments were differentiated
            backward_pass(out._node, xp.ones_like(out.data), retain_graph=True)
        self.report = report
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

    def groups(self, node: Node) -> dict[int, list[int]]:
        """The differentiated argument positions of ``node``, by operand (x * x: one)."""
        out: dict[int, list[int]] = {}
        for i in node.needs:
            if node.prim.vjps[i] is not None:
                out.setdefault(self.key(node.inputs[i]), []).append(i)
        return out


def explain(f: Callable[..., Any], *args: Any, mode: str = "reverse",
            names: Sequence[str] | None = None) -> Explanation:
    """Explain the derivative of scalar ``f`` at ``args`` step by step.

    ``mode`` is ``"reverse"`` (one backward sweep of adjoints gives every
    input's derivative) or ``"forward"`` (one sweep of tangents per input).
    Kinks and domain problems are listed, not raised: see ``Explanation.usable``.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"explain: mode must be 'reverse' or 'forward', got {mode!r}")
    if not args:
        raise ValueError("explain: give the point, e.g. explain(f, 3.0)")
    names = list(names) if names is not None else _arg_names(f, len(args))
    rec = _Recorder(f, args, names)
    if mode == "forward" and any(leaf.size != 1 for leaf in rec.leaves):
        raise ValueError("explain: forward mode is shown for scalar inputs; use "
                         "mode='reverse' for array inputs")
    steps = []
    with xp.errstate(all="ignore"):
        for node in rec.order:
            steps.append(_step(rec, node))
        inputs = {n: t.data for t, n in zip(rec.leaves, names)}
        output = rec.names[id(rec.out._node)]
        if mode == "reverse":
            lines, derivatives, adjoints = _reverse(rec)
        else:
            (lines, derivatives), adjoints = _forward(rec), {}
    explanation = Explanation(mode, inputs, steps, output, lines, derivatives, adjoints)
    explanation.kinks = diagnostics.kink_notes(
        rec.report, {id(node.out): rec.names[id(node)] for node in rec.order})
    explanation.problems = _problems(f, args, names, rec, explanation)
    return explanation


def _step(rec: _Recorder, node: Node) -> Step:
    step = Step(rec.names[id(node)], node.prim.name, [rec.label(v) for v in node.inputs],
                node.out, params=dict(node.params))
    ones = xp.ones_like(node.out)
    params = _params(node, tuple(node.needs))
    for positions in rec.groups(node).values():
        total = None
        for i in positions:
            partial = _fit(node.prim.vjps[i](ones, node.out, *node.args, **params), node.args[i])
            rec.partials[(id(node), i)] = partial
            total = partial if total is None else total + partial
        step.partials[rec.label(node.inputs[positions[0]])] = total
    return step


def _problems(f: Callable[..., Any], args: Sequence[Any], names: list[str], rec: _Recorder,
              e: Explanation) -> list[str]:
    found = []
    for s in e.steps:
        if not diagnostics.finite(s.value):
            found.append(f"{s.name} = {s.formula()} = {fmt(s.value)}: outside the domain of "
                         f"{s.op}")
        for operand, d in s.partials.items():
            if not diagnostics.finite(d):
                found.append(f"d{s.name}/d{operand} = {fmt(d)}: {s.op} has no finite "
                             f"derivative at {operand} = {fmt(_value_of(e, operand))}")
    for name, d in e.derivatives.items():
        if not found and not diagnostics.finite(d):
            found.append(f"d{e.output}/d{name} = {fmt(d)} is not finite")
    found += diagnostics.power_conventions(rec.order, rec.label, rec.names)
    return found + diagnostics.domain_problems(f, list(args), names)


def _value_of(e: Explanation, name: str) -> Any:
    if name in e.inputs:
        return e.inputs[name]
    return next((s.value for s in e.steps if s.name == name), float("nan"))


def _reverse(rec: _Recorder) -> tuple[list[SweepLine], dict[str, Any], dict[str, Any]]:
    root = rec.out._node
    bars: dict[int, Any] = {id(root): xp.ones_like(root.out)}
    lines = [SweepLine("output", rec.names[id(root)], bars[id(root)])]
    adjoints: dict[str, Any] = {}
    for node in reversed(rec.order):
        g = bars.get(id(node))
        name = rec.names[id(node)]
        if g is None:
            continue
        adjoints[name] = g
        params = _params(node, tuple(node.needs))
        for key, positions in rec.groups(node).items():
            contribution = None
            for i in positions:
                c = _fit(node.prim.vjps[i](g, node.out, *node.args, **params), node.args[i])
                contribution = c if contribution is None else contribution + c
            before = bars.get(key)
            bars[key] = contribution if before is None else before + contribution
            target = rec.label(node.inputs[positions[0]])
            partial = _partial(rec, node, positions)
            lines.append(SweepLine("adjoint", target, contribution, [(name, target, partial, g)],
                                   bars[key], _multiplies_out(g, partial, contribution)))
    derivatives = {}
    for leaf in rec.leaves:
        value = bars.get(id(leaf))
        name = rec.names[id(leaf)]
        derivatives[name] = value if value is not None else xp.zeros_like(leaf.data)
        adjoints[name] = derivatives[name]
    return lines, derivatives, adjoints


def _partial(rec: _Recorder, node: Node, positions: list[int]) -> Any:
    total = None
    for i in positions:
        p = rec.partials.get((id(node), i))
        total = p if total is None else total + p
    return total


def _forward(rec: _Recorder) -> tuple[list[SweepLine], dict[str, Any]]:
    lines: list[SweepLine] = []
    derivatives = {}
    for leaf in rec.leaves:
        seed = rec.names[id(leaf)]
        lines.append(SweepLine("seed", seed, xp.ones_like(leaf.data)))
        dots: dict[int, Any] = {id(leaf): xp.ones_like(leaf.data)}
        for node in rec.order:
            name = rec.names[id(node)]
            carried = tuple(i for i in node.needs if rec.key(node.inputs[i]) in dots)
            params = _params(node, carried)
            total, terms, exact = None, [], True
            for key, positions in rec.groups(node).items():
                dx = dots.get(key)
                rule_positions = [i for i in positions if node.prim.jvps is not None
                                  and node.prim.jvps[i] is not None]
                if dx is None or not rule_positions:
                    continue
                term = None
                for i in rule_positions:
                    t = node.prim.jvps[i](dx, node.out, *node.args, **params)
                    if t is not None:
                        t = fit_tangent(t, node.out)
                        term = t if term is None else term + t
                if term is None:
                    continue
                partial = _partial(rec, node, positions)
                exact = exact and _multiplies_out(dx, partial, term)
                terms.append((name, rec.label(node.inputs[positions[0]]), partial, dx))
                total = term if total is None else total + term
            if total is None:
                lines.append(SweepLine("tangent", name, xp.zeros_like(node.out)))
                continue
            dots[id(node)] = total
            lines.append(SweepLine("tangent", name, total, terms, product=exact))
        value = dots.get(id(rec.out._node))
        derivatives[seed] = value if value is not None else xp.zeros(())
    return lines, derivatives
