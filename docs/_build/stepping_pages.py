"""The pages that step through the sweeps for the tutorials' examples, and their frames.

Why: a tutorial explains the sweeps in prose and tables; the page that steps
through them (``chainrule explain --html``, ``Explanation.to_html``) lets the
reader watch the same example one chain-rule product at a time. Each example
below is made into ``explain/NAME.html`` by the library at build time (nothing
generated is committed), and a page (a tutorial's Markdown cell, or a Markdown
page) asks for one with the comment ``<!-- chainrule:stepping NAME -->``, which
Jupyter does not show and the site replaces with a frame holding that page. A
name without an example stops the build.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MARKER = re.compile(r"<!--\s*chainrule:stepping\s+([\w-]+)\s*-->")


def babylonian(x: Any, iterations: int = 3) -> Any:
    """Heron's square root, three steps from (1 + x) / 2 (tutorial 3's loop, shortened)."""
    t = (1 + x) / 2
    for _ in range(iterations):
        t = (t + x / t) / 2
    return t


@dataclass(frozen=True)
class Example:
    """A function (a formula, or Python code), the point, the sweep to show, a title."""

    function: str | Callable[..., Any]
    point: dict[str, float]
    mode: str
    title: str


STEPPING_PAGES = {
    "seed_reverse": Example("x**2 - 3*x - 2", {"x": 3.0}, "reverse",
                            "f(x) = x² − 3x − 2 at 3, reverse mode"),
    "seed_forward": Example("x**2 - 3*x - 2", {"x": 3.0}, "forward",
                            "f(x) = x² − 3x − 2 at 3, forward mode"),
    "two_variables_reverse": Example("log(x1) + x1*x2 - sin(x2)", {"x1": 2.0, "x2": 5.0},
                                     "reverse", "f(x₁, x₂) = ln x₁ + x₁x₂ − sin x₂ at (2, 5), "
                                     "reverse mode"),
    "two_variables_forward": Example("log(x1) + x1*x2 - sin(x2)", {"x1": 2.0, "x2": 5.0},
                                     "forward", "f(x₁, x₂) = ln x₁ + x₁x₂ − sin x₂ at (2, 5), "
                                     "forward mode"),
    "babylonian_forward": Example(babylonian, {"x": 2.0}, "forward",
                                  "Heron's square root of 2, three iterations, forward mode"),
    "maximum_tie_reverse": Example("maximum(x, y)", {"x": 1.0, "y": 1.0}, "reverse",
                                   "max(x, y) at the tie (1, 1), reverse mode"),
}


def stepping_page(name: str) -> str:
    """The self-contained page of the example ``name``, made by the library."""
    import chainrule as cr
    from chainrule.explainer.expression import expression_function
    from chainrule.symbolic import parse

    example = STEPPING_PAGES[name]
    names = list(example.point)
    values = [example.point[n] for n in names]
    if isinstance(example.function, str):
        expression = parse(example.function)
        f = expression_function(expression, names)
        comparison = cr.compare(f, *values, names=names, expression=expression)
    else:
        f = example.function
        comparison = cr.compare(f, *values, names=names)
    explanation = cr.explain(f, *values, mode=example.mode, names=names)
    return explanation.to_html(comparison, title=example.title)


def frame(name: str, page_url: str, where: str = "") -> str:
    """The frame showing ``explain/NAME.html`` on the page at ``page_url`` (site-relative)."""
    if name not in STEPPING_PAGES:
        raise ValueError(f"no stepping page named {name!r}{where}: the examples are "
                       f"{sorted(STEPPING_PAGES)} (docs/_build/stepping_pages.py)")
    base = posixpath.dirname(page_url.rstrip("/")) if not page_url.endswith("/") else page_url
    src = posixpath.relpath(f"explain/{name}.html", base or ".")
    title = html.escape(STEPPING_PAGES[name].title)
    return (f'<figure class="chainrule-stepping" style="margin: 1em 0; width: 100%">'
            f'<iframe src="{src}" title="stepping through {title}" width="100%" height="620" '
            f'loading="lazy" style="border: 1px solid #ccc"></iframe>'
            f'<figcaption>{title}: step with the buttons, or click the page and use the arrow '
            f'keys; <a href="{src}">open it on its own</a>.</figcaption></figure>')


def embed(page_html: str, page_url: str, where: str = "") -> str:
    """``page_html`` with each ``<!-- chainrule:stepping NAME -->`` replaced by its frame."""
    return MARKER.sub(lambda m: frame(m.group(1), page_url, where), page_html)
