"""A griffe extension for the API reference: docstring examples become code blocks.

chainrule's docstrings hold plain doctest sessions (``>>>`` lines and their
output, ended by a blank line), which the test suite runs. Markdown would read
them as prose (``[0.5, 0.5]`` as a link); this wraps each session in a
```` ```pycon ```` fence so the site shows it as code, exactly as written.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """``text`` with every doctest session wrapped in a pycon code fence."""
    lines, out, inside = text.splitlines(), [], False
    indent = ""
    for line in lines:
        stripped = line.lstrip()
        if not inside and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
            inside = True
        elif inside and not stripped:
            out.append(f"{indent}```")
            inside = False
        out.append(line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)


class FenceDoctests(griffe.Extension):
    """Fence the doctest sessions of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
