"""The site loads nothing from the network: find external loads, drop the notebook's.

Why: the site is built and read offline (a laptop on a train, a locked-down
lab). mkdocs-material is configured without web fonts, and maths is rendered
at build time (site_maths.py), but the notebook template of mkdocs-jupyter
adds two loaders of its own to every rendered tutorial: MathJax (from a URL,
empty here) and a module that imports mermaid from a CDN when the page has a
diagram. Both are removed from each tutorial page; ``external_loads`` lists
what a finished page would still fetch, and the build fails on any.
"""

from __future__ import annotations

import re

# the blocks nbconvert's lab template writes (base/mathjax.html.j2, base/mermaid_js.html.j2)
_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_MERMAID = re.compile(r"<script type=\"module\">(?:(?!</script>).)*?mermaid.*?</script>", re.S)

# (element, attribute) pairs whose URL the browser fetches while showing the page
_LOADING = {"script": ("src",), "link": ("href",), "img": ("src", "srcset"),
            "iframe": ("src",), "frame": ("src",), "source": ("src", "srcset"),
            "video": ("src", "poster"), "audio": ("src",), "track": ("src",),
            "embed": ("src",), "object": ("data",), "input": ("src",), "image": ("href",)}
_TAG = re.compile(r"<(%s)\b([^>]*)>" % "|".join(_LOADING), re.I)
_ATTR = re.compile(r"""(?:^|\s)([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
# <link> relations that name a document without fetching it (a canonical URL, say)
_NOT_FETCHED = {"canonical", "alternate", "author", "license", "help", "next", "prev", "me",
                "bookmark"}
_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.I)
_BODIES = re.compile(r"<(script|style)\b[^>]*>(.*?)</\1\s*>", re.S | re.I)
# a URL in a script or style body; namespace names (never fetched) are not loads
_URL_IN_CODE = re.compile(r"https?://(?!www\.w3\.org/)[\w.-]+\.[a-z]{2,}[/\w.?=&%-]*", re.I)


def strip_notebook_loaders(page: str) -> str:
    """A rendered notebook without nbconvert's MathJax and mermaid loaders."""
    return _MERMAID.sub("", _MATHJAX.sub("", page))


def external_loads(page: str) -> list[str]:
    """Every URL on another host that ``page`` would load: in the src/href of its script,
    link, img, iframe, ... elements, and in its inline scripts and styles."""
    found = []
    for match in _TAG.finditer(page):
        element, attributes = match.group(1).lower(), match.group(2)
        pairs = [(name.lower(), next((v for v in values if v), ""))
                 for name, *values in _ATTR.findall(attributes)]
        rel = set(dict(pairs).get("rel", "").lower().split())
        if element == "link" and rel and rel <= _NOT_FETCHED:
            continue
        found += [f"<{element} {name}={value!r}>" for name, value in pairs
                  if name in _LOADING[element] and _REMOTE.match(value)]
    for match in _BODIES.finditer(page):
        body = match.group(2)
        # a line comment in a script is not a load; strip the obvious ones
        code = re.sub(r"^\s*//.*$", "", body, flags=re.M)
        found += [f"<{match.group(1).lower()}> {url}" for url in _URL_IN_CODE.findall(code)]
    return found
