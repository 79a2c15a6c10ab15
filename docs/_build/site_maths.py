"""Maths on the site, rendered at build time to MathML: no script, no network.

Why: the site must load nothing from the network, and a MathJax copy is
megabytes of JavaScript that typesets after the page loads. Chromium, Firefox
and Safari render MathML natively, so each TeX fragment becomes MathML here,
once, with latex2mathml (pure Python). Two places hold TeX:

* Markdown pages (and docstrings): ``pymdownx.arithmatex`` in generic mode
  marks each fragment, ``<span class="arithmatex">\\(...\\)</span>`` inline and
  ``<div class="arithmatex">\\[...\\]</div>`` for display;
* tutorials rendered by mkdocs-jupyter: their Markdown cells keep ``$...$`` and
  ``$$...$$`` as Jupyter does, outside code.

A fragment latex2mathml cannot read (a syntax error, or a command it does not
know, which it would otherwise print as a raw ``\\name``) stops the build with
the fragment and the page named: no raw TeX reaches a reader.
"""

from __future__ import annotations

import html
import re

XMLNS = ' xmlns="http://www.w3.org/1998/Math/MathML"'

_ARITHMATEX = re.compile(
    r'<(span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<block>.*?)\\\])'
    r"\s*</\1>", re.S)
# elements whose text is code, script or style: dollars there are not maths
_VERBATIM = re.compile(r"(<(pre|code|script|style|textarea)\b.*?</\2\s*>)", re.S | re.I)
_TAG = re.compile(r"(<[^>]*>)")
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\s)([^$]+?)(?<![\s\\])\$(?!\d)")
_RAW_COMMAND = re.compile(r"<m(?:i|o|text)>\\[A-Za-z]+")


class MathsError(ValueError):
    """A TeX fragment that cannot be rendered."""


def mathml(tex: str, display: bool = False, where: str = "") -> str:
    """The MathML element for the TeX fragment ``tex`` (HTML entities already undone)."""
    from latex2mathml.converter import convert

    try:
        out = convert(tex.strip(), display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises several kinds for bad TeX
        raise MathsError(f"cannot render the maths {tex!r}{where}: {error!r}; write TeX that "
                         "latex2mathml reads (see docs/_build/site_maths.py)") from error
    if _RAW_COMMAND.search(out):
        raise MathsError(f"the maths {tex!r}{where} uses a command latex2mathml does not know: "
                         f"{_RAW_COMMAND.search(out).group(0)[4:]!r}; write it another way")
    return out.replace(XMLNS, "", 1)


def render_arithmatex(page: str, where: str = "") -> str:
    """``page`` with every fragment pymdownx.arithmatex marked replaced by MathML."""
    def one(match: re.Match[str]) -> str:
        block = match.group("block") is not None
        tex = match.group("block") if block else match.group("inline")
        return mathml(html.unescape(tex), display=block, where=where)

    return _ARITHMATEX.sub(one, page)


def render_dollars(page: str, where: str = "") -> str:
    """``page`` (a rendered notebook) with ``$$...$$`` and ``$...$`` in its text replaced
    by MathML, except inside pre, code, script, style and textarea elements."""
    def in_text(text: str) -> str:
        if "$" not in text or text.startswith("<"):
            return text
        text = _DISPLAY.sub(
            lambda m: mathml(html.unescape(m.group(1)), display=True, where=where), text)
        return _INLINE.sub(lambda m: mathml(html.unescape(m.group(1)), where=where), text)

    pieces = _VERBATIM.split(page)
    # re.split with two groups yields: text, element, tag name, text, element, tag name, ...
    out = []
    for k in range(0, len(pieces), 3):
        out += [in_text(text) for text in _TAG.split(pieces[k])]
        if k + 1 < len(pieces):
            out.append(pieces[k + 1])
    return "".join(out)
