"""Drawing the recorded graph: Graphviz DOT text, rendered when Graphviz is there.

Leaves are ellipses (inputs, with their gradient once known), operations are
boxes with the primitive's name, shape and value (and adjoint, when drawn
from a function). An operation of several operands is drawn as
``subtract(a, b)`` with its incoming edges labelled ``a`` and ``b``, so the
order of a subtraction or division can be read off the drawing.

>>> import chainrule as cr
>>> dot = cr.to_dot(lambda x: x**2 - 3*x - 2, 3.0)
>>> dot.startswith("digraph") and "subtract" in dot
True
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chainrule.core.graph import topological_order
from chainrule.explainer.trace import explain
from chainrule.explainer.trace_format import _arg_names, fmt
from chainrule.tensor import Tensor


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _shape(value: Any) -> str:
    shape = getattr(value, "shape", ())
    return "scalar" if shape == () else "x".join(str(n) for n in shape)


def _operand(position: int) -> str:
    """The name of an operation's operand in the drawing: a, b, c, ..."""
    return chr(ord("a") + position) if position < 26 else f"arg{position}"


def to_dot(target: Any, *args: Any, names: list[str] | None = None) -> str:
    """DOT text of a tensor's recorded graph, or of ``f`` evaluated at ``args``.

    Given a function, the drawing also shows every value's adjoint (its
    derivative of the output), computed by a reverse sweep.
    """
    adjoints: dict[str, Any] = {}
    if callable(target) and not isinstance(target, Tensor):
        names = names or _arg_names(target, len(args))
        explanation = explain(target, *args, names=names)
        adjoints = explanation.adjoints
        leaves = [Tensor(a, requires_grad=True) for a in args]
        out = target(*leaves)
        labels = {id(t): n for t, n in zip(leaves, names)}
    elif isinstance(target, Tensor):
        out = target
        labels = {}
    else:
        raise TypeError(f"to_dot: expected a tensor or a function, got {type(target).__name__}")
    lines = ["digraph chainrule {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=10];']
    if out._node is None:
        lines.append(f'  n0 [label="{_escape(labels.get(id(out), "input"))}", shape=ellipse];')
        lines.append("}")
        return "\n".join(lines)
    if out._node.freed:
        raise RuntimeError("to_dot: the graph of this tensor was freed by backward(); call "
                           "to_dot before backward, or pass retain_graph=True to backward "
                           "to keep it (or draw the function: to_dot(f, *args))")
    order = list(reversed(topological_order(out._node)))
    ids: dict[int, str] = {}
    for k, node in enumerate(order, start=1):
        ids[id(node)] = f"v{k}"

    def leaf_id(t: Tensor) -> str:
        key = id(t)
        if key not in ids:
            ids[key] = f"leaf{len(ids)}"
            name = labels.get(key, f"input{len(ids)}")
            parts = [name, f"= {fmt(t.data)}", _shape(t.data)]
            grad = adjoints.get(name, t.grad)
            if grad is not None:
                parts.append(f"grad {fmt(grad)}")
            label = _escape("\\n".join(parts)).replace("\\\\n", "\\n")
            lines.append(f'  {ids[key]} [label="{label}", shape=ellipse, '
                         f'style=filled, fillcolor="#dbe9f6"];')
        return ids[key]

    for node in order:
        name = ids[id(node)]
        # with two or more operands, the box names them and each edge says which it is,
        # so x - y and y - x (or x / y and y / x) cannot be told apart only by layout
        many = len(node.inputs) > 1
        call = f"({', '.join(_operand(k) for k in range(len(node.inputs)))})" if many else ""
        parts = [f"{name} = {node.prim.name}{call}", f"= {fmt(node.out)}", _shape(node.out)]
        if name in adjoints:
            parts.append(f"adjoint {fmt(adjoints[name])}")
        label = "\\n".join(_escape(p) for p in parts)
        lines.append(f'  {name} [label="{label}", shape=box, style=rounded];')
        for position, value in enumerate(node.inputs):
            if isinstance(value, Tensor) and value._node is not None:
                source = ids[id(value._node)]
            elif isinstance(value, Tensor) and value.requires_grad:
                source = leaf_id(value)
            else:
                source = f"const_{name}_{position}"
                lines.append(f'  {source} [label="{_escape(fmt(value))}", shape=plaintext];')
            edge = f' [label="{_operand(position)}"]' if many else ""
            lines.append(f"  {source} -> {name}{edge};")
    lines.append("}")
    return "\n".join(lines)


GRAPH_FORMATS = ("dot", "gv", "svg", "png", "pdf")


def prepare_graph_path(path: str | Path) -> Path:
    """Check ``path`` can take a drawing (known suffix, writable folder) before the
    work of drawing starts; raise ValueError or OSError naming the problem."""
    path = Path(path)
    if path.suffix.lstrip(".").lower() not in GRAPH_FORMATS:
        raise ValueError(f"graph: unsupported output {path.name!r}; use .dot, .svg, .png or .pdf")
    if path.is_dir():
        raise OSError(f"graph: cannot write {path}: it is a folder")
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OSError(f"graph: cannot write {path}: {blocker} is a file, not a folder")
    probe = path.parent / f".{path.name}.chainrule-write-test"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise OSError(f"graph: cannot write {path}: {reason}") from err
    return path


def render_dot(dot: str, path: str | Path) -> Path:
    """Write ``dot`` to ``path``: as DOT text for ``.dot``, else rendered by Graphviz.

    Raises RuntimeError naming what is missing when Graphviz cannot render;
    the DOT text is then written beside the requested file so nothing is lost.
    """
    path = prepare_graph_path(path)
    fmt_name = path.suffix.lstrip(".").lower()
    if fmt_name in ("dot", "gv"):
        try:
            path.write_text(dot)
        except OSError as err:
            raise OSError(f"graph: cannot write {path}: {err.strerror}") from err
        return path
    missing = None
    try:
        import graphviz  # the Python package
    except ImportError:
        missing = "the Python package graphviz (pip install 'chainrule[viz]')"
    if missing is None and shutil.which("dot") is None:
        missing = "Graphviz's 'dot' program (Debian: apt-get install graphviz)"
    if missing is not None:
        fallback = path.with_suffix(".dot")
        fallback.write_text(dot)
        raise RuntimeError(f"graph: cannot render {path.name}: {missing} is missing; "
                           f"wrote the DOT text to {fallback}")
    data = graphviz.Source(dot).pipe(format=fmt_name)
    try:
        path.write_bytes(data)
    except OSError as err:
        raise OSError(f"graph: cannot write {path}: {err.strerror}") from err
    return path


def draw(f: Callable[..., Any], *args: Any, path: str | Path) -> Path:
    """Draw ``f``'s graph at ``args`` (with adjoints) into ``path``."""
    return render_dot(to_dot(f, *args), path)
