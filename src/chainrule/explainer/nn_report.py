"""``NNGradients`` as text or Markdown: variables, forward pass, backward formulas, checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chainrule.explainer.nn_gradients import NNGradients

FORMATS = ("text", "markdown")


def _shape(shape: tuple[int, ...]) -> str:
    return "scalar" if not shape else str(tuple(int(s) for s in shape))


def _variables(r: NNGradients) -> list[str]:
    s = r.sizes
    target = "targets, (B, K)" if r.loss == "mse" else "class labels, (B,)"
    sizes = ", ".join(f"{k} = {v}" for k, v in s.items())
    return [
        f"Sizes: {sizes} (batch, inputs, hidden units, outputs); seed {r.seed}.",
        "Gradients are taken with respect to the parameters, the variables training "
        "changes:",
        f"  W1 {_shape((s['D'], s['H']))}, b1 {_shape((s['H'],))}, "
        f"W2 {_shape((s['H'], s['K']))}, b2 {_shape((s['K'],))}",
        f"The batch is data, held fixed (no gradient): X (B, D), Y {target}.",
        "L is a scalar, so dL/dP has the shape of P. Z1, A1, Z2 are intermediates: their "
        "adjoints dL/dZ2, dL/dA1, dL/dZ1 are computed on the way back and reused, "
        "not returned.",
    ]


def _check_rows(r: NNGradients) -> list[tuple[str, ...]]:
    rows = []
    for c in r.checks:
        rows.append((c.parameter, _shape(c.shape), f"{c.largest:.3g}", f"{c.reverse_error:.1e}",
                     f"{c.numerical_error:.1e}", str(c.numerical_evaluations),
                     "pass" if c.passed else "FAIL"))
    return rows


CHECK_HEADER = ("parameter", "shape", "max |dL/dP|", "vs reverse mode", "vs central diff",
                "evaluations", "check")


def _verdict(r: NNGradients) -> str:
    tolerances = (f"(tolerances {r.reverse_tolerance:g} against reverse mode, "
                  f"{r.numerical_tolerance:g} against central differences, "
                  f"times max(1, max |dL/dP|))")
    if r.passed:
        return f"All four gradients agree {tolerances}."
    failed = ", ".join(c.parameter for c in r.checks if not c.passed)
    return f"CHECK FAILED for {failed} {tolerances}."


def text(r: NNGradients) -> str:
    act = r.activation
    lines = [f"A shallow network: one hidden layer ({act}), loss {r.loss} "
             f"({r.forward[-1].why})", ""]
    lines += _variables(r)
    lines += ["", "Forward pass, layer by layer:"]
    width = max(len(f.formula) for f in r.forward) + 6
    for f in r.forward:
        text_ = f"{f.name} = {f.formula}"
        lines.append(f"  {text_:<{width}}{_shape(f.shape)}")
    lines.append(f"  L = {r.loss_value:.6g} on this batch")
    lines += ["", "Backward pass, the chain rule from the loss back (each line reuses the one "
                  "before):"]
    width = max(len(f.name) + len(f.formula) for f in r.backward) + 5
    for f in r.backward:
        text_ = f"{f.name} = {f.formula}"
        lines.append(f"  {text_:<{width}}{_shape(f.shape):<9}  [{f.why}]")
    lines += ["", "Checks: the formulas above evaluated with NumPy, max abs error against "
                  "chainrule's reverse mode and central differences (chainrule.numerical):"]
    rows = [CHECK_HEADER, *_check_rows(r)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(CHECK_HEADER))]
    for row in rows:
        lines.append("  " + "  ".join(cell.rjust(w) if i else cell.ljust(w)
                                      for i, (cell, w) in enumerate(zip(row, widths))))
    lines += [f"  note: {n}" for n in r.notes]
    lines.append(_verdict(r))
    return "\n".join(lines)


def markdown(r: NNGradients) -> str:
    lines = [f"### A shallow network: one hidden layer ({r.activation}), loss {r.loss}", ""]
    lines += [line.strip() + "  " for line in _variables(r)]
    lines += ["", "**Forward pass**", "", "| value | formula | shape |", "| --- | --- | --- |"]
    lines += [f"| {f.name} | `{f.formula}` | {_shape(f.shape)} |" for f in r.forward]
    lines += ["", f"L = {r.loss_value:.6g} on this batch.", "",
              "**Backward pass** (the chain rule from the loss back)", "",
              "| adjoint | formula | shape | why |", "| --- | --- | --- | --- |"]
    lines += [f"| {f.name} | `{f.formula}` | {_shape(f.shape)} | {f.why} |" for f in r.backward]
    lines += ["", "**Checks** (max abs error of the formulas, evaluated with NumPy)", "",
              "| " + " | ".join(h.replace("|", "\\|") for h in CHECK_HEADER) + " |",
              "| " + " | ".join(["---"] + ["---:"] * (len(CHECK_HEADER) - 1)) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in _check_rows(r)]
    lines += [""] + [f"Note: {n}" for n in r.notes]
    lines.append(_verdict(r))
    return "\n".join(lines)


def render(r: NNGradients, format: str = "text") -> str:
    """``r`` in ``format``: ``"text"`` or ``"markdown"``."""
    if format == "text":
        return text(r)
    if format == "markdown":
        return markdown(r)
    raise ValueError(f"NNGradients.render: format must be one of {', '.join(FORMATS)}, "
                     f"got {format!r}")
