"""One self-contained HTML page that steps through an explanation's sweeps.

Why: a printed trace shows every chain-rule product at once; a learner
understands it by watching one step at a time. The page holds the graph (an
inline SVG laid out here, no Graphviz needed), the evaluation trace and the
adjoint (or tangent) table; the buttons and the arrow keys step forward
through the primal sweep, then through the adjoint sweep back from the output
(or the tangent sweeps forward from each input), highlighting the node and
the product applied at each step; the four methods' results close it. The
file loads nothing from the network: styles, script and data are inline.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

from chainrule.backend import xp
from chainrule.explainer import trace_format

__all__ = ["explanation_html"]


def _number(value: Any) -> Any:
    """A JSON-ready number (or nested list), exact: JSON keeps a float's 17 digits."""
    array = xp.asarray(value)
    if array.size == 1:
        v = float(array.reshape(()))
        return v if math.isfinite(v) else str(v)
    return [_number(v) for v in array.tolist()] if array.ndim else _number(array.item())


def _layout(inputs: list[str], steps: list[Any]) -> dict[str, tuple[float, float]]:
    """Columns by depth (inputs in column 0), rows in order of appearance."""
    level: dict[str, int] = {name: 0 for name in inputs}
    for step in steps:
        level[step.name] = 1 + max((level[o] for o in step.operands if o in level), default=0)
    rows: dict[int, int] = {}
    places = {}
    for name in [*inputs, *(s.name for s in steps)]:
        column = level[name]
        rows[column] = rows.get(column, 0) + 1
        places[name] = (70 + 150 * column, 45 + 70 * (rows[column] - 1))
    return places


# an edge points from an operand to the value computed from it: the direction of the
# primal sweep (the adjoint sweep runs against the arrows)
_ARROW = ('<defs>' + ''.join(
    f'<marker id="{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="10" '
    f'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto">'
    f'<path d="M0,0 L10,5 L0,10 z"/></marker>'
    for name in ("arrow", "arrow-hot")) + '</defs>')


def _svg(inputs: list[str], steps: list[Any]) -> str:
    places = _layout(inputs, steps)
    width = max(x for x, _ in places.values()) + 90
    height = max(y for _, y in places.values()) + 50
    parts = [f'<svg id="graph" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="computational graph">', _ARROW]
    for step in steps:
        x2, y2 = places[step.name]
        for operand in dict.fromkeys(step.operands):
            if operand in places:
                x1, y1 = places[operand]
                parts.append(f'<line class="edge" data-from="{html.escape(operand)}" '
                             f'data-to="{html.escape(step.name)}" x1="{x1 + 48}" y1="{y1}" '
                             f'x2="{x2 - 49}" y2="{y2}" marker-end="url(#arrow)"/>')
    ops = {s.name: s.op for s in steps}
    for name, (x, y) in places.items():
        label = html.escape(name)
        op = html.escape(ops.get(name, "input"))
        parts.append(f'<g class="node" id="node-{label}" transform="translate({x},{y})">'
                     f'<rect x="-48" y="-24" width="96" height="48" rx="9"/>'
                     f'<text y="-7">{label}: {op}</text>'
                     f'<text class="val" id="val-{label}" y="12"></text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _methods(comparison: Any) -> list[dict[str, Any]]:
    if comparison is None:
        return []
    rows = []
    for row in comparison.rows:
        rows.append({"method": str(getattr(row, "method", row)),
                     "value": _number(getattr(row, "value", float("nan"))),
                     "error": _number(getattr(row, "abs_error", float("nan")))})
    return rows


def explanation_html(explanation: Any, comparison: Any = None, title: str | None = None) -> str:
    """The page for ``explanation`` (from ``cr.explain``), with ``comparison``'s table
    (from ``cr.compare``) at the end when given."""
    inputs = list(explanation.inputs)
    steps = explanation.steps
    sweep = []
    for line in explanation.lines:
        node = line.terms[0][0] if line.terms else line.target
        sweep.append({"kind": line.kind, "target": line.target, "node": node,
                      # the graph's edges whose chain-rule products this line adds up
                      "edges": [[operand, consumer] for consumer, operand, *_ in line.terms],
                      "text": trace_format.sweep_text(line),
                      "value": _number(line.total if line.total is not None else line.value)})
    data = {
        "mode": explanation.mode,
        "inputs": [{"name": n, "value": _number(v)} for n, v in explanation.inputs.items()],
        "steps": [{"name": s.name, "formula": f"{s.name} = {s.formula()}",
                   "value": _number(s.value),
                   "partials": {k: _number(v) for k, v in s.partials.items()}} for s in steps],
        "sweep": sweep,
        "output": explanation.output,
        "derivatives": {k: _number(v) for k, v in explanation.derivatives.items()},
        "methods": _methods(comparison),
    }
    heading = html.escape(title or f"d{explanation.output}/d({', '.join(inputs)})")
    names = [*inputs, *(s.name for s in steps)]
    bar = "adjoint" if explanation.mode == "reverse" else "tangent"
    table_rows = "".join(
        f'<tr id="row-{html.escape(n)}"><td>{html.escape(n)}</td>'
        f'<td class="formula" id="formula-{html.escape(n)}"></td>'
        f'<td id="value-{html.escape(n)}"></td><td id="adj-{html.escape(n)}"></td></tr>'
        for n in names)
    payload = json.dumps(data).replace("</", "<\\/")
    return _TEMPLATE.format(heading=heading, svg=_svg(inputs, steps), rows=table_rows,
                            bar=bar, data=payload)


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>chainrule: {heading}</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }}
#graph .node rect {{ fill: #f4f4f4; stroke: #888; }}
#graph .node text {{ text-anchor: middle; font-size: 12px; }}
#graph .edge {{ stroke: #999; stroke-width: 1.5; }}
#graph marker path {{ fill: #999; }}
#graph .edge.current {{ stroke: #b58900; stroke-width: 2.5; }}
#graph #arrow-hot path {{ fill: #b58900; }}
#graph .node.done rect {{ fill: #dbe9f6; }}
#graph .node.current rect {{ fill: #ffd966; stroke: #b58900; stroke-width: 2; }}
#graph .node.source rect {{ fill: #f8cbad; }}
table {{ border-collapse: collapse; margin: .8em 0; }}
td, th {{ border: 1px solid #ccc; padding: .2em .6em; font-family: ui-monospace, monospace; }}
tr.current td {{ background: #ffd966; }}
#now {{ font-family: ui-monospace, monospace; background: #fff8dc; padding: .5em;
        min-height: 1.5em; border-left: 4px solid #b58900; }}
button {{ font-size: 15px; margin-right: .4em; }}
.hidden {{ display: none; }}
</style></head>
<body>
<h1>{heading}</h1>
<p><button id="first">start</button><button id="prev">&#x2190; back</button>
<button id="next">forward &#x2192;</button><button id="last">end</button>
<span id="position"></span> (arrow keys step too)</p>
<div id="now"></div>
{svg}
<table id="trace"><thead><tr><th>name</th><th>operation</th><th>value</th>
<th>{bar}</th></tr></thead><tbody>{rows}</tbody></table>
<div id="results" class="hidden"><h2>The derivative</h2><table id="derivatives"></table>
<table id="methods"></table></div>
<script id="data" type="application/json">{data}</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const show = v => Array.isArray(v) ? JSON.stringify(v) : String(v);
// in a node of the graph: six significant digits (the table has every digit)
const brief = v => typeof v === "number" ? String(Number(v.toPrecision(6)))
  : (s => s.length > 14 ? s.slice(0, 13) + "\u2026" : s)(show(v));
const primal = D.steps.length, total = primal + D.sweep.length + 1;
let at = 0;
function el(id) {{ return document.getElementById(id); }}
function edges(pairs) {{
  for (const [from, to] of pairs) {{
    const e = document.querySelector('#graph .edge[data-from="' + CSS.escape(from)
      + '"][data-to="' + CSS.escape(to) + '"]');
    if (e) {{ e.classList.add("current"); e.setAttribute("marker-end", "url(#arrow-hot)"); }}
  }}
}}
function render() {{
  document.querySelectorAll(".current,.done,.source").forEach(
    e => e.classList.remove("current", "done", "source"));
  document.querySelectorAll("#graph .edge").forEach(
    e => e.setAttribute("marker-end", "url(#arrow)"));
  for (const i of D.inputs) {{
    el("value-" + i.name).textContent = show(i.value);
    el("val-" + i.name).textContent = brief(i.value);
    el("formula-" + i.name).textContent = "input";
    el("adj-" + i.name).textContent = "";
    el("node-" + i.name).classList.add("done");
  }}
  D.steps.forEach((s, k) => {{
    const seen = k < Math.min(at, primal);
    el("formula-" + s.name).textContent = seen ? s.formula : "";
    el("value-" + s.name).textContent = seen ? show(s.value) : "";
    el("val-" + s.name).textContent = seen ? brief(s.value) : "";
    el("adj-" + s.name).textContent = "";
    if (seen) el("node-" + s.name).classList.add("done");
  }});
  let now = at === 0 ? "Press forward (or the right arrow) to run the primal sweep." : "";
  if (at > 0 && at <= primal) {{
    const s = D.steps[at - 1];
    el("node-" + s.name).classList.add("current");
    el("row-" + s.name).classList.add("current");
    edges([...document.querySelectorAll('#graph .edge[data-to="' + CSS.escape(s.name) + '"]')]
      .map(e => [e.dataset.from, s.name]));
    now = "primal sweep, step " + at + ": " + s.formula + " = " + show(s.value);
  }}
  const swept = Math.max(0, Math.min(at - primal, D.sweep.length));
  for (let k = 0; k < swept; k++) {{
    const line = D.sweep[k];
    if (line.kind === "seed") {{
      for (const n of [...D.inputs.map(i => i.name), ...D.steps.map(s => s.name)])
        el("adj-" + n).textContent = "";
    }}
    el("adj-" + line.target).textContent = show(line.value);
  }}
  if (swept > 0 && at <= primal + D.sweep.length) {{
    const line = D.sweep[swept - 1];
    el("node-" + line.target).classList.add("current");
    el("row-" + line.target).classList.add("current");
    if (line.node !== line.target && el("node-" + line.node))
      el("node-" + line.node).classList.add("source");
    edges(line.edges);
    now = (D.mode === "reverse" ? "adjoint" : "tangent") + " sweep, step " + swept + ": "
      + line.text;
  }}
  const end = at === total - 1;
  el("results").classList.toggle("hidden", !end);
  if (end) now = "done: the derivative, and every method side by side";
  el("now").textContent = now;
  el("position").textContent = "step " + at + " of " + (total - 1);
  el("position").dataset.at = at;
  el("position").dataset.end = end ? "1" : "0";
}}
function go(k) {{ at = Math.max(0, Math.min(total - 1, k)); render(); }}
el("derivatives").innerHTML = "<tr><th>input</th><th>d" + D.output + "/d input</th></tr>"
  + Object.entries(D.derivatives).map(([k, v]) =>
    "<tr><td>" + k + "</td><td id=\\"deriv-" + k + "\\">" + show(v) + "</td></tr>").join("");
el("methods").innerHTML = D.methods.length ? "<tr><th>method</th><th>value</th>"
  + "<th>abs error</th></tr>" + D.methods.map(m => "<tr><td>" + m.method + "</td><td>"
  + show(m.value) + "</td><td>" + show(m.error) + "</td></tr>").join("") : "";
el("first").onclick = () => go(0);
el("prev").onclick = () => go(at - 1);
el("next").onclick = () => go(at + 1);
el("last").onclick = () => go(total - 1);
document.addEventListener("keydown", e => {{
  if (e.key === "ArrowRight") go(at + 1);
  else if (e.key === "ArrowLeft") go(at - 1);
  else if (e.key === "Home") go(0);
  else if (e.key === "End") go(total - 1);
}});
render();
</script>
</body></html>
"""
