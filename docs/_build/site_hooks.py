"""mkdocs hooks: pages written at build time from the library itself.

1. The operations reference, from the live rule table: the marker
``<!-- chainrule:operations -->`` in a page becomes one entry per name in
``chainrule.ops.__all__``, with its signature and docstring
(operations_page.py). Nothing is written to the repository; the list cannot
drift from the code.

2. The pages that step through the sweeps (``chainrule explain --html``) for
the tutorials' examples, made by the library at build time into
``explain/*.html`` and framed where a page asks for one with
``<!-- chainrule:stepping NAME -->`` (stepping_pages.py).

3. Offline pages: maths rendered to MathML at build time (site_maths.py), the
notebook template's MathJax and mermaid loaders removed, and a page that would
still load anything from another host fails the build (site_offline.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

MARKER = "<!-- chainrule:operations -->"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from operations_page import operations_markdown  # noqa: E402
from site_maths import render_arithmatex, render_dollars  # noqa: E402
from site_offline import external_loads, strip_notebook_loaders  # noqa: E402
from stepping_pages import STEPPING_PAGES, embed, stepping_page  # noqa: E402


def on_config(config: Any, **kwargs: Any) -> Any:
    """Tutorials executed while rendering talk to their kernel over local IPC sockets
    (docs/_build/jupyter/jupyter_nbconvert_config.json): over TCP, ipykernel warns on
    every notebook that the channel is unencrypted."""
    here = str(Path(__file__).resolve().parent / "jupyter")
    paths = os.environ.get("JUPYTER_CONFIG_PATH", "")
    if here not in paths.split(os.pathsep):
        os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in (here, paths) if p)
    return config


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, operations_markdown())
    return markdown


def _is_notebook(page: Any) -> bool:
    return page.file.src_uri.startswith("tutorials/") and page.file.src_uri.endswith(".py")


def on_page_content(html: str, page: Any, **kwargs: Any) -> str:
    where = f" on {page.file.src_uri}"
    if _is_notebook(page):
        html = render_dollars(strip_notebook_loaders(html), where)
    return embed(render_arithmatex(html, where), page.url, where)


def on_post_page(output: str, page: Any, **kwargs: Any) -> str:
    from mkdocs.exceptions import PluginError

    remote = external_loads(output)
    if remote:
        raise PluginError(f"{page.file.src_uri} would load from the network: "
                          f"{', '.join(remote[:5])}; the site must work offline")
    return output


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    for name in STEPPING_PAGES:
        content = stepping_page(name)
        if external_loads(content):
            raise PluginError(f"the stepping page {name} would load from the network")
        files.append(File.generated(config, f"explain/{name}.html", content=content))
    return files
