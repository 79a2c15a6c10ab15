"""The page that steps through the sweeps: self-contained, small, and showing the library's numbers.

The browser tests drive Debian's headless Chromium through Selenium and
Debian's chromium-driver (``make test`` installs both where it can); they
skip with the reason where either is missing. Each keeps a screenshot of the
finished page under the test's temporary folder (pytest keeps the last runs'
folders), as an artifact to look at.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main

SEED = lambda x: x**2 - 3 * x - 2  # noqa: E731
TWO = lambda x, y: x * y + cr.sin(x)  # noqa: E731
LIMIT = 300 * 1024


def _data(page: str) -> dict:
    found = re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_page_is_self_contained_small_and_holds_the_library_numbers(mode):
    page = cr.explain(TWO, 1.0, 2.0, mode=mode).to_html(cr.compare(TWO, 1.0, 2.0))
    assert len(page.encode()) <= LIMIT
    assert "http://" not in page and "https://" not in page and "src=" not in page
    assert "default-src 'none'" in page  # the page itself forbids any network load
    data = _data(page)
    gx, gy = cr.grad(TWO, argnums=(0, 1))(1.0, 2.0)
    assert data["derivatives"] == {"x": float(gx), "y": float(gy)}
    assert [row["method"] for row in data["methods"]][-2:] == ["forward mode", "reverse mode"]
    if mode == "reverse":
        final = {}
        for line in data["sweep"]:
            final[line["target"]] = line["value"]
        assert (final["x"], final["y"]) == (float(gx), float(gy))


def test_the_graph_has_an_arrowhead_on_every_edge():
    """Edges point from an operand to the value made from it (the primal sweep's way)."""
    explanation = cr.explain(TWO, 1.0, 2.0)
    page = explanation.to_html()
    edges = re.findall(r'<line class="edge" data-from="(\w+)" data-to="(\w+)"[^>]*>', page)
    expected = {(o, s.name) for s in explanation.steps for o in s.operands
                if o in explanation.inputs or any(o == t.name for t in explanation.steps)}
    assert set(edges) == expected and len(edges) == len(expected) >= 4
    assert page.count('marker-end="url(#arrow)"') == len(edges)
    assert re.search(r'<marker id="arrow"[^>]*orient="auto"[^>]*><path d="M0,0 L10,5 L0,10 z"/>',
                     page)


def test_the_command_writes_the_page_and_refuses_a_bad_path(tmp_path, capsys):
    path = tmp_path / "page.html"
    assert main(["explain", "x**2 - 3*x - 2", "--at", "x=3", "--html", str(path)]) == 0
    assert _data(path.read_text())["derivatives"] == {"x": 3.0}
    assert main(["explain", "x**2", "--at", "x=3", "--html", str(tmp_path / "no" / "p.html")]) == 2
    assert "does not exist" in capsys.readouterr().err


# --- in a real browser ---------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("Debian's chromium and chromium-driver are not installed "
                    "(apt-get install chromium chromium-driver; make test does it as root)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1100,900"):
        options.add_argument(flag)
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    yield driver
    driver.quit()


def _open(browser, tmp_path, f, *point, mode="reverse"):
    path = tmp_path / f"page_{mode}.html"
    page = cr.explain(f, *point, mode=mode).to_html(cr.compare(f, *point))
    path.write_text(page, encoding="utf-8")
    browser.get(path.as_uri())
    return browser


def _text(browser, element_id: str) -> str:
    return browser.find_element("id", element_id).text


def _press(browser, key, times=1):
    from selenium.webdriver.common.action_chains import ActionChains

    for _ in range(times):
        ActionChains(browser).send_keys(key).perform()


def _at_end(browser) -> bool:
    return browser.find_element("id", "position").get_attribute("data-end") == "1"


def test_stepping_the_seed_example_both_ways_in_chromium(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    explanation = cr.explain(SEED, 3.0)
    _open(browser, tmp_path, SEED, 3.0)
    # the primal sweep, one arrow key at a time: each step's value appears in the trace
    for k, step in enumerate(explanation.steps, start=1):
        _press(browser, Keys.ARROW_RIGHT)
        assert float(_text(browser, f"value-{step.name}")) == float(step.value)
        assert f"step {k} of" in _text(browser, "position")
    # the adjoint sweep, back from the output, to the end
    steps = 0
    while not _at_end(browser):
        _press(browser, Keys.ARROW_RIGHT)
        steps += 1
        assert steps < 50
    assert float(_text(browser, "adj-x")) == cr.grad(SEED)(3.0) == 3.0
    for name, adjoint in explanation.adjoints.items():
        assert float(_text(browser, f"adj-{name}")) == float(adjoint)
    assert float(_text(browser, "deriv-x")) == 3.0
    assert "reverse mode" in _text(browser, "methods")
    # and back again with the left arrow and the buttons
    _press(browser, Keys.ARROW_LEFT, times=steps)
    assert _text(browser, "adj-x") == ""
    browser.find_element("id", "first").click()
    assert _text(browser, "value-v1") == ""
    browser.find_element("id", "last").click()
    assert _at_end(browser)
    arrows = browser.execute_script("""
        const edges = [...document.querySelectorAll("#graph line.edge")];
        const head = document.querySelector("#graph marker#arrow path");
        return {edges: edges.length, marked: edges.filter(e => ['url("#arrow")',
                  'url("#arrow-hot")'].includes(getComputedStyle(e).markerEnd)).length,
                head: head ? head.getBBox().width : 0};
    """)
    assert arrows["edges"] >= 3 and arrows["marked"] == arrows["edges"] and arrows["head"] > 0
    assert browser.save_screenshot(str(tmp_path / "seed_reverse.png"))
    assert (tmp_path / "seed_reverse.png").stat().st_size > 1000


def test_stepping_a_two_variable_function_in_chromium(browser, tmp_path):
    gx, gy = cr.grad(TWO, argnums=(0, 1))(1.0, 2.0)
    _open(browser, tmp_path, TWO, 1.0, 2.0)
    browser.find_element("id", "last").click()
    assert float(_text(browser, "adj-x")) == float(gx)
    assert float(_text(browser, "adj-y")) == float(gy)
    # a node of the graph shows six digits; the trace table every digit
    assert _text(browser, "val-v2") == "0.841471"
    assert float(_text(browser, "value-v2")) == float(np.sin(1.0))
    # forward mode: one tangent sweep per input, the derivatives at the end
    _open(browser, tmp_path, TWO, 1.0, 2.0, mode="forward")
    while not _at_end(browser):
        browser.find_element("id", "next").click()
    assert float(_text(browser, "deriv-x")) == float(gx)
    assert float(_text(browser, "deriv-y")) == float(gy)
    assert np.isclose(float(gx), 2.0 + np.cos(1.0))
    browser.save_screenshot(str(tmp_path / "two_forward.png"))


def _lit_edges(browser) -> set[tuple[str, str]]:
    pairs = browser.execute_script("""
        return [...document.querySelectorAll("#graph line.edge.current")].map(
            e => [e.dataset.from, e.dataset.to, e.getAttribute("marker-end")]);""")
    assert all(marker == "url(#arrow-hot)" for *_, marker in pairs)
    return {(a, b) for a, b, _ in pairs}


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_each_step_lights_the_edges_of_its_products_in_chromium(browser, tmp_path, mode):
    """A primal step lights the edges into the value computed; a sweep step lights the
    edge of every chain-rule product its line adds up (operand -> consumer)."""
    from selenium.webdriver.common.keys import Keys

    explanation = cr.explain(TWO, 1.0, 2.0, mode=mode)
    _open(browser, tmp_path, TWO, 1.0, 2.0, mode=mode)
    assert _lit_edges(browser) == set()
    for step in explanation.steps:
        _press(browser, Keys.ARROW_RIGHT)
        assert _lit_edges(browser) == {(o, step.name) for o in step.operands
                                       if o in explanation.inputs
                                       or any(o == s.name for s in explanation.steps)}
    lit_any = False
    for line in explanation.lines:
        _press(browser, Keys.ARROW_RIGHT)
        expected = {(operand, consumer) for consumer, operand, *_ in line.terms}
        assert _lit_edges(browser) == expected, (line.kind, line.target)
        lit_any |= bool(expected)
    assert lit_any and _at_end(browser)


def test_the_page_loads_nothing_from_the_network(browser, tmp_path):
    _open(browser, tmp_path, SEED, 3.0)
    names = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert names == []
    assert browser.execute_script("return document.readyState") == "complete"
