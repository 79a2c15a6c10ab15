"""The recorded graph of a tensor as numbered lines, inputs first.

>>> import chainrule as cr
>>> x = cr.tensor(3.0, requires_grad=True)
>>> print(graph_text(x * x + 1.0, names={id(x): "x"}))
v1 = x = 3
v2 = multiply(v1, v1) = 9
v3 = add(v2, 1) = 10
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp
from chainrule.core.graph import topological_order


def _show(value: Any) -> str:
    array = xp.asarray(getattr(value, "data", value))
    if array.size == 1:
        return f"{array.item():.6g}"
    return f"<{array.dtype}{list(array.shape)}>"


def graph_text(out: Any, names: dict[int, str] | None = None) -> str:
    """One line per value: leaves, then each recorded operation with its result."""
    names = dict(names or {})
    node = getattr(out, "_node", None)
    if node is None:
        return f"v1 = {names.get(id(out), 'input')} = {_show(out)}"
    order = list(reversed(topological_order(node)))
    labels: dict[int, str] = {}
    lines: list[str] = []

    def label_of(value: Any) -> str:
        vnode = getattr(value, "_node", None)
        key = id(vnode) if vnode is not None else id(value)
        if key in labels:
            return labels[key]
        if vnode is None and getattr(value, "requires_grad", False):
            labels[key] = f"v{len(labels) + 1}"
            lines.append(f"{labels[key]} = {names.get(id(value), 'input')} = {_show(value)}")
            return labels[key]
        return _show(value)

    for n in order:
        operands = ", ".join(label_of(v) for v in n.inputs)
        params = "".join(f", {k}={v}" for k, v in n.params.items())
        labels[id(n)] = f"v{len(labels) + 1}"
        lines.append(f"{labels[id(n)]} = {n.prim.name}({operands}{params}) = {_show(n.out)}")
    return "\n".join(lines)
