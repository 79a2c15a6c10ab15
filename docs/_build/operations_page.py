"""The operations reference, written at build time from the live rule table.

``chainrule.ops`` exports 100+ operations, most of them ``Primitive`` objects
made at import time (one implementation plus its rules). A primitive has no
``__doc__`` of its own (it is an instance with ``__slots__``), so each one is
documented where it is made, by the string that follows its assignment in
``src/chainrule/ops/*.py`` (an attribute docstring, as Sphinx and griffe read
them). The page gives, for each name of ``chainrule.ops.__all__``, grouped by
family module: its call signature, its docstring, and for a primitive which
derivative rules the table holds and whether it has a kink convention. A name
without a docstring is an error, so the page cannot fall back to filler.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

from griffe_doctests import fence_doctests


class MissingDocstring(ValueError):
    """An operation the reference cannot describe."""


def attribute_docstrings(module: Any) -> dict[str, str]:
    """``name -> docstring`` for each module-level ``name = ...`` followed by a string."""
    body = ast.parse(inspect.getsource(module)).body
    found = {}
    for statement, after in zip(body, body[1:]):
        if (isinstance(statement, ast.Assign) and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = inspect.cleandoc(after.value.value)
    return found


def _parameter(p: inspect.Parameter) -> str:
    if p.default is inspect.Parameter.empty or p.kind is p.POSITIONAL_ONLY:
        return p.name
    default = p.default.__name__ if isinstance(p.default, type) else repr(p.default)
    return f"{p.name}={default}"


def signature(obj: Any, name: str) -> str:
    """How to call ``obj``: a function's own signature; for a primitive, its
    implementation's arguments (NumPy's x1, x2 read as x, y; private and ufunc
    keywords such as ``out`` left out)."""
    from chainrule.core.primitive import Primitive

    target = obj.impl if isinstance(obj, Primitive) else obj
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return f"{name}(...)"
    if not isinstance(obj, Primitive):
        return f"{name}{inspect.signature(target)}"
    shown = []
    for p in params:
        if p.name == "out" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY):
            break
        if not p.name.startswith("_"):
            shown.append(_parameter(p))
    renamed = {"x1": "x", "x2": "y"}
    return f"{name}({', '.join(renamed.get(s, s) for s in shown)})"


def _docstring(name: str, obj: Any, documented: dict[str, str], canonical: dict[int, str]) -> str:
    from chainrule.core.primitive import Primitive

    if not isinstance(obj, Primitive):
        own = obj.__doc__ if type(obj).__doc__ != obj.__doc__ else None
        if own:
            return inspect.cleandoc(own)
    if name in documented:
        return documented[name]
    other = canonical.get(id(obj))
    if other and other != name and other in documented:
        return f"Another name for `{other}`: {documented[other]}"
    raise MissingDocstring(
        f"operation {name!r} has no docstring: write one (for a primitive, a string on the "
        f"line after its assignment in src/chainrule/ops/) so the reference can describe it")


def _entry(name: str, obj: Any, doc: str) -> str:
    from chainrule.core.primitive import Primitive

    lines = [f"### `{name}` {{ #{name} }}", "", "```text", signature(obj, name), "```", "",
             fence_doctests(doc)]
    if isinstance(obj, Primitive):
        rules = [label for label, table in (("reverse (VJP)", obj.vjps), ("forward (JVP)", obj.jvps))
                 if table]
        lines += ["", f"*Primitive `{obj.name}`*: one entry of the rule table, its NumPy "
                      f"implementation beside its derivative rules "
                      f"({', '.join(rules) or 'none: not differentiable'})."]
        if getattr(obj, "kink", None):
            lines[-1] += (" Its kink convention is in "
                          "[Kinks and subgradients](../subgradients.md).")
    return "\n".join(lines) + "\n"


def operations_markdown() -> str:
    """The Markdown of the operations reference: one section per family module."""
    import chainrule as cr
    from chainrule import ops

    documented: dict[str, str] = {}
    canonical: dict[int, str] = {}
    for family in ops._FAMILIES:
        documented.update(attribute_docstrings(family))
        for name in family.__all__:
            canonical.setdefault(id(getattr(family, name)), name)
    seen: set[str] = set()
    parts = []
    for family in ops._FAMILIES:
        names = [n for n in family.__all__ if n in ops.__all__ and n not in seen]
        if not names:
            continue
        title = family.__name__.rsplit(".", 1)[-1]
        summary = (inspect.getdoc(family) or "").split("\n\n")[0]
        parts.append(f"## {title}\n\n{summary}\n")
        for name in names:
            seen.add(name)
            obj = getattr(cr, name)
            parts.append(_entry(name, obj, _docstring(name, obj, documented, canonical)))
    rest = [n for n in ops.__all__ if n not in seen]
    if rest:
        parts.append("## aliases\n")
        for name in rest:
            obj = getattr(cr, name)
            parts.append(_entry(name, obj, _docstring(name, obj, documented, canonical)))
    return "\n".join(parts)
