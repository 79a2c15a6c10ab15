"""The documentation site builds strictly, and its API reference covers every public name.

``make docs`` builds the site with ``mkdocs build --strict`` (a broken link, a
page missing from the nav, a reference mkdocstrings cannot resolve: each fails
the build). This test runs the same build into a temporary folder, without
executing the tutorials again (tests/test_tutorials.py runs them as notebooks),
and skips with the reason when the docs extra is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_build"))

from griffe_doctests import fence_doctests  # noqa: E402
from site_maths import MathsError, mathml, render_arithmatex, render_dollars  # noqa: E402
from site_offline import external_loads, strip_notebook_loaders  # noqa: E402

from tests.test_explain_html import browser  # noqa: E402, F401  (Debian's headless Chromium)

ENTRY = re.compile(r"^:::\s*chainrule\.(\w+)\s*$", re.MULTILINE)


def _mkdocs_missing() -> str | None:
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter"):
        try:
            if importlib.util.find_spec(module) is None:
                return module
        except ModuleNotFoundError:
            return module
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = _mkdocs_missing()
    if missing:
        pytest.skip(f"the docs extra is not installed ({missing} missing): "
                    "pip install -e '.[docs]' to build the site")
    import chainrule

    out = tmp_path_factory.mktemp("site")
    source = str(Path(chainrule.__file__).resolve().parent.parent)
    env = {**os.environ, "CHAINRULE_DOCS_EXECUTE": "false", "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-4000:]}"
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert not warnings, f"the build warned: {warnings[:5]}"
    return out


def _page_data(page: str) -> dict:
    found = re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


def test_the_site_embeds_stepping_pages_for_the_examples(site):
    """Each example is a self-contained page in explain/, framed by its tutorial, and
    holds the derivatives the library computes."""
    import numpy as np
    from stepping_pages import STEPPING_PAGES, babylonian

    import chainrule as cr

    for name in STEPPING_PAGES:
        page = site / "explain" / f"{name}.html"
        assert page.is_file() and page.stat().st_size <= 300 * 1024, name
        text = page.read_text(encoding="utf-8")
        assert external_loads(text) == [] and "default-src 'none'" in text
    derivatives = {name: _page_data((site / "explain" / f"{name}.html").read_text())[
        "derivatives"] for name in STEPPING_PAGES}
    assert derivatives["seed_reverse"] == derivatives["seed_forward"] == {"x": 3.0}
    for mode in ("reverse", "forward"):
        got = derivatives[f"two_variables_{mode}"]
        assert np.allclose([got["x1"], got["x2"]], [0.5 + 5.0, 2.0 - np.cos(5.0)], atol=1e-15)
    assert derivatives["babylonian_forward"]["x"] == float(cr.grad(babylonian)(2.0))
    assert derivatives["maximum_tie_reverse"] == {"x": 0.5, "y": 0.5}
    framed = {}
    for page in [site / "tutorials" / "index.html",
                 *sorted((site / "tutorials").glob("*/index.html"))]:
        text = page.read_text(encoding="utf-8")
        assert "chainrule:stepping" not in text, f"{page}: a marker was left unreplaced"
        for src in re.findall(r'<iframe src="([^"]+)"', text):
            assert not re.match(r"(https?:)?//", src) and (page.parent / src).resolve().is_file()
            framed.setdefault(Path(src).stem, []).append(page.parent.name)
    assert set(framed) == set(STEPPING_PAGES), framed
    start = (site / "getting-started" / "index.html").read_text(encoding="utf-8")
    assert '<iframe src="../explain/seed_reverse.html"' in start
    left = [str(p) for p in _pages(site) if "chainrule:stepping" in p.read_text(encoding="utf-8")]
    assert not left, f"markers left unreplaced: {left}"
    assert "01_one_function_four_ways" in framed["seed_reverse"]
    assert "07_points_without_a_derivative" in framed["maximum_tie_reverse"]


def test_a_frame_points_at_its_page_from_anywhere_and_refuses_an_unknown_name():
    from stepping_pages import embed, frame

    assert 'src="../../explain/seed_reverse.html"' in frame("seed_reverse", "tutorials/01_x/")
    assert 'src="../explain/seed_reverse.html"' in frame("seed_reverse", "tutorials/")
    assert 'src="explain/seed_reverse.html"' in frame("seed_reverse", "")
    assert 'src="../explain/seed_forward.html"' in frame("seed_forward", "howto/page.html")
    text = embed("<p>a</p><!-- chainrule:stepping seed_forward --><p>b</p>", "tutorials/")
    assert text.startswith("<p>a</p><figure") and text.endswith("</figure><p>b</p>")
    with pytest.raises(ValueError, match="no stepping page named 'nope' on x.md"):
        embed("<!-- chainrule:stepping nope -->", "", " on x.md")


def test_site_builds_strictly_with_every_section(site):
    pages = {
        "index.html": "Where to go",
        "getting-started/index.html": "One derivative, four ways",
        "tutorials/index.html": "Tutorials",
        "tutorials/01_one_function_four_ways/index.html": "One function, four ways",
        "tutorials/10_your_own_primitive/index.html": "gradcheck",
        "howto/train-a-model/index.html": "DataLoader",
        "howto/numpy-code/index.html": "__array_ufunc__",
        "howto/subgradient-policy/index.html": "min-norm",
        "howto/save-and-load/index.html": "safetensors",
        "reference/api/index.html": "value_and_grad",
        "reference/operations/index.html": "logsumexp",
        "design/index.html": "rule table",
        "subgradients/index.html": "minimum-norm",
    }
    for page, text in pages.items():
        path = site / page
        assert path.is_file(), f"{page} was not built"
        assert text in path.read_text(encoding="utf-8"), f"{page} does not mention {text!r}"


def test_the_site_shows_docstring_examples_as_code(site):
    html = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    # grad's docstring example, fenced by docs/_build/griffe_doctests.py, is highlighted code
    section = html[html.index('id="chainrule.grad"'):]
    assert "&gt;&gt;&gt;" in section[:20000] and "highlight" in section[:20000]


def test_every_public_name_has_an_api_entry():
    import chainrule as cr
    from chainrule import ops

    entries = set(ENTRY.findall((DOCS / "reference" / "api.md").read_text(encoding="utf-8")))
    assert "<!-- chainrule:operations -->" in (DOCS / "reference" / "operations.md").read_text()
    covered = entries | set(ops.__all__)  # the operations page is written from ops.__all__
    missing = sorted(set(cr.__all__) - covered)
    assert not missing, f"public names without an API entry in docs/reference/api.md: {missing}"
    stale = sorted(entries - set(cr.__all__))
    assert not stale, f"docs/reference/api.md documents names chainrule does not export: {stale}"


def _examples_on(page: Path) -> str:
    """The ``>>>`` lines of a reference page (its pycon blocks run in test_docs_blocks)."""
    return "\n".join(line for line in page.read_text(encoding="utf-8").splitlines()
                     if line.lstrip().startswith((">>>", "...")))


def _has_example(name: str, obj: object, examples: str) -> bool:
    own = getattr(obj, "__doc__", None) or ""
    if ">>>" in own and type(obj).__doc__ != own:  # its own docstring, not its class's
        return True
    return re.search(rf"\bcr\.{re.escape(name)}\b", examples) is not None


def test_every_public_name_has_a_runnable_example():
    """A docstring example (run by --doctest-modules) or one on a reference page (run by
    tests/test_docs_blocks.py) for each name of chainrule.__all__."""
    import chainrule as cr

    examples = "\n".join(_examples_on(DOCS / "reference" / page)
                         for page in ("api.md", "operations.md"))
    missing = [name for name in cr.__all__
               if not _has_example(name, getattr(cr, name), examples)]
    assert not missing, f"public names without a runnable example: {missing}"


def test_the_operations_page_lists_every_operation_once():
    from site_hooks import operations_markdown

    from chainrule import ops

    text = operations_markdown()
    listed = re.findall(r"^### `(\w+)`", text, re.MULTILINE)
    assert sorted(listed) == sorted(set(ops.__all__))
    assert "Primitive `sin`*" in text and "reverse (VJP), forward (JVP)" in text


def _entries(text: str) -> dict[str, str]:
    parts = re.split(r"^### `(\w+)` .*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_operation_is_described_by_its_own_docstring():
    """Each entry gives a signature and a docstring written for that operation (a
    primitive's from the string after its assignment), not a generated line."""
    from operations_page import attribute_docstrings, operations_markdown

    from chainrule import ops
    from chainrule.ops import elementary

    entries = _entries(operations_markdown())
    for name, body in entries.items():
        prose = [line for line in body.split("```")[2].strip().splitlines()
                 if not line.startswith("*Primitive")]
        assert prose and len(" ".join(prose)) > 30, f"{name}: {body[:300]!r}"
    assert "sin(x)\n```\n\nThe sine (radians); its derivative is cos(x)." in entries["sin"]
    assert "Another name for `divide`" in entries["true_divide"]
    assert "maximum(x, y)" in entries["maximum"] and "1/2 to each" in entries["maximum"]
    assert "Like ``numpy.sum``: the sum over ``axis``" in entries["sum"]
    assert attribute_docstrings(elementary)["exp"].startswith("``e ** x``")
    primitives = [n for n in ops.__all__ if type(getattr(ops, n)).__name__ == "Primitive"]
    assert len(primitives) > 60


def test_an_operation_without_a_docstring_stops_the_page(monkeypatch):
    import operations_page

    from chainrule.ops import elementary

    real = operations_page.attribute_docstrings
    monkeypatch.setattr(operations_page, "attribute_docstrings", lambda module: {
        k: v for k, v in real(module).items() if not (module is elementary and k == "tanh")})
    with pytest.raises(operations_page.MissingDocstring, match="'tanh' has no docstring"):
        operations_page.operations_markdown()


def test_fence_doctests_wraps_sessions_only():
    text = "Why.\n\n>>> x = 1\n>>> x + 1\n2\n\nMore prose [a, b].\n    >>> y\n    3"
    assert fence_doctests(text) == ("Why.\n\n```pycon\n>>> x = 1\n>>> x + 1\n2\n```\n\n"
                                    "More prose [a, b].\n    ```pycon\n    >>> y\n    3\n    ```")
    assert fence_doctests("no examples") == "no examples"


# --- offline: maths rendered at build time, nothing loaded from another host ------------

VERBATIM = re.compile(r"<(pre|code|script|style|textarea)\b.*?</\1\s*>", re.S | re.I)
# a $...$ fragment in text (prose has no dollar amounts), $$, \( or \[ left for a script to typeset
RAW_TEX = re.compile(r"\$[^$<>\s][^$<>]{0,80}?\$|\$\$|\\\(|\\\[")


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_no_page_of_the_site_loads_anything_from_the_network(site):
    loads = {str(p.relative_to(site)): external_loads(p.read_text(encoding="utf-8"))
             for p in _pages(site)}
    assert len(loads) > 30 and "tutorials/01_one_function_four_ways/index.html" in loads
    remote = {page: urls for page, urls in loads.items() if urls}
    assert not remote, f"pages that would load from the network: {remote}"
    for css in site.rglob("*.css"):  # stylesheets: no web fonts or images from elsewhere
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", css.read_text(encoding="utf-8")), css


def test_the_maths_is_mathml_and_no_raw_tex_is_left(site):
    raw = {}
    for page in _pages(site):
        text = VERBATIM.sub("", page.read_text(encoding="utf-8"))
        found = RAW_TEX.findall(text) + re.findall(r'class="arithmatex"', text)
        if found:
            raw[str(page.relative_to(site))] = found[:3]
    assert not raw, f"TeX left unrendered: {raw}"
    tutorial = (site / "tutorials" / "01_one_function_four_ways" / "index.html").read_text()
    assert tutorial.count("<math") >= 5 and "<mfrac>" in tutorial  # the central difference
    assert "MathJax.Hub" not in tutorial and "mermaid.initialize" not in tutorial
    start = (site / "getting-started" / "index.html").read_text(encoding="utf-8")
    assert '<math display="block">' in start and "<munder>" in start  # the limit, from Markdown


def test_mathml_renders_tex_and_refuses_what_it_cannot_read():
    out = mathml(r"\frac{\partial f}{\partial x}", display=True)
    assert out.startswith('<math display="block">') and "<mfrac>" in out and "http" not in out
    with pytest.raises(MathsError, match=r"\\nosuchcommand"):
        mathml(r"x + \nosuchcommand", where=" on a page")
    with pytest.raises(MathsError, match="cannot render"):
        mathml(r"\frac{1}{")


def test_dollars_become_mathml_outside_code_only():
    page = ("<p>Cost $2n$ for $x &lt; 1$, and $5 or $10.</p><pre>$x$</pre>"
            "<p><code>a = \"$b$\"</code> then $$\\sum_i v_i$$</p>")
    out = render_dollars(page)
    assert out.count("<math") == 3 and "<mo>&#x0003C;</mo>" in out
    assert "$5 or $10" in out and "<pre>$x$</pre>" in out and '"$b$"' in out
    marked = '<p><span class="arithmatex">\\(x^2\\)</span></p>'
    assert render_arithmatex(marked) == "<p>" + mathml("x^2") + "</p>"


def test_external_loads_are_found_and_the_notebook_loaders_dropped():
    page = ('<a href="https://example.org">a link is not a load</a>'
            '<img src="https://example.org/i.png">'
            '<link rel="stylesheet" href="//cdn.example/x.css">'
            '<script src="../assets/local.js"></script><svg xmlns="http://www.w3.org/2000/svg"/>'
            '<!-- Load mathjax --><script src="https://cdn.example/mathjax.js"></script>'
            '<!-- End of mathjax configuration -->'
            '<script type="module">const m = await import("https://cdn.example/mermaid.mjs");'
            ' mermaid.initialize({});</script>')
    assert external_loads('<link rel="canonical" href="https://example.org/page/">') == []
    assert len(external_loads('<link rel="icon" href="https://example.org/i.png">')) == 1
    assert len(external_loads(page)) == 4
    assert external_loads(strip_notebook_loaders(page)) == [
        "<img src='https://example.org/i.png'>", "<link href='//cdn.example/x.css'>"]


def test_an_equation_renders_as_maths_in_chromium(site, browser, tmp_path):  # noqa: F811
    """Chromium lays the MathML out: a fraction's numerator stands above its denominator
    (as unknown inline elements they would sit side by side), and the page fetched
    nothing but its own files."""
    page = site / "tutorials" / "01_one_function_four_ways" / "index.html"
    browser.get(page.as_uri())
    fraction = browser.execute_script("""
        const f = document.querySelector("math mfrac");
        f.scrollIntoView({block: "center"});
        const [top, bottom] = [...f.children].map(c => c.getBoundingClientRect());
        return {above: top.bottom <= bottom.top + 1, width: f.getBoundingClientRect().width,
                display: getComputedStyle(f.closest("math")).display};
    """)
    assert fraction["above"] and fraction["width"] > 20, fraction
    assert fraction["display"].endswith("math")  # a MathML box, from Chromium's own layout
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(url.startswith("file://") for url in fetched), fetched
    assert browser.save_screenshot(str(tmp_path / "tutorial_01_maths.png"))


def test_a_tutorial_steps_through_its_framed_page_in_chromium(site, browser, tmp_path):  # noqa: F811
    """Tutorial 1 as built, opened from disk: inside its frame the stepping page runs to
    the end and shows the adjoint cr.grad computes."""
    from selenium.webdriver.support.ui import WebDriverWait

    import chainrule as cr

    page = site / "tutorials" / "01_one_function_four_ways" / "index.html"
    browser.get(page.as_uri())
    frames = browser.find_elements("css selector", "figure.chainrule-stepping iframe")
    assert len(frames) == 2
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", frames[1])
    browser.switch_to.frame(frames[1])
    try:
        # the frame loads lazily once scrolled into view: wait for its page, not a fixed time
        WebDriverWait(browser, 30).until(lambda b: b.find_elements("id", "last"))
        browser.find_element("id", "last").click()
        assert browser.find_element("id", "position").get_attribute("data-end") == "1"
        adjoint = float(browser.find_element("id", "adj-x").text)
        assert adjoint == float(cr.grad(lambda x: x**2 - 3 * x - 2)(3.0)) == 3.0
    finally:
        browser.switch_to.default_content()
    assert browser.save_screenshot(str(tmp_path / "tutorial_01_stepping.png"))
