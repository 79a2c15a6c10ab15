"""Every code block in README.md and docs/**/*.md runs as written.

A file's fenced blocks are read in order and run in one namespace, in a fresh
temporary folder, so a later block can use the names of an earlier one:

* ```python blocks are executed. An expression statement whose line ends in
  ``# -> TEXT`` is also checked: the value's repr must read TEXT, numbers to
  the precision TEXT writes them (doctest's NUMBER and ELLIPSIS rules; NumPy's
  ``np.float64(3.0)`` reads as ``3.0``).
  A block written as a session (``>>>`` prompts, also ```pycon) runs as a
  doctest: each output shown must be the one printed.
* ```console blocks: each ``$ chainrule ...`` line is run through the
  command's entry point and must exit 0, or with N where the line ends in
  ``# exit status N``; other ``$`` lines (``make``, ``pip``) are not run.
* ```text (output, diagrams) and ```dot blocks are shown, not run.

A block without a language, or with one not listed here, fails the test: a
block is never skipped because of a missing or mistyped label. A new file
under docs/ is picked up without any change here.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import re
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN_PYTHON = {"python", "py", "pycon"}
RUN_CONSOLE = {"console", "shell-session"}
SHOWN_ONLY = {"text", "dot", "latex", "tex"}
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*(.*)$")
CHECK = re.compile(r"#\s*->\s*(.*?)\s*$")
EXIT = re.compile(r"#\s*exit status\s+(\d+)\s*$")
NUMPY_SCALAR = re.compile(r"np\.(?:float|int|uint|complex|bool_?)\d*\(([^()]*)\)")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the block's first content line
    language: str
    text: str

    @property
    def where(self) -> str:
        return f"{_name(self.path)}:{self.line}"


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order (CommonMark fences)."""
    found, lines = [], path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, language = match.group(1), match.group(2), match.group(3).lower()
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            line = lines[j]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        if j == len(lines):
            raise AssertionError(f"{_name(path)}:{i + 1}: unclosed code block")
        found.append(Block(path, i + 2, language, "\n".join(body) + "\n"))
        i = j + 1
    return found


def _shown(value: object) -> str:
    return NUMPY_SCALAR.sub(r"\1", repr(value))


NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _tolerance(written: str) -> float:
    """Half a unit in the last place written: ``0.123`` -> 5e-4; an integer is exact."""
    mantissa, _, exponent = written.lower().partition("e")
    if "." not in mantissa and not exponent:
        return 0.0
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def reads_as(expected: str, got: str) -> bool:
    """``got`` reads as ``expected``: same text up to spaces, ``...`` matches anything,
    numbers agree to the precision ``expected`` writes them."""
    pattern, numbers = "", []
    for piece in re.split(f"({NUMBER}|\\.\\.\\.|\\s+)", expected):
        if not piece:
            continue
        if piece == "...":
            pattern += ".*?"
        elif piece.isspace():
            pattern += r"\s*"
        elif re.fullmatch(NUMBER, piece):
            pattern += f"\\s*({NUMBER})"
            numbers.append(piece)
        else:
            pattern += r"\s*" + re.escape(piece)
    match = re.fullmatch(pattern + r"\s*", got.strip(), re.DOTALL)
    if not match:
        return False
    return all(_is_int(g) == _is_int(w)
               and abs(float(g) - float(w)) <= _tolerance(w) + 1e-12 * abs(float(w))
               for g, w in zip(match.groups(), numbers))


def _is_int(written: str) -> bool:
    return re.fullmatch(r"[-+]?\d+", written) is not None


def _check_value(block: Block, line: int, expected: str, value: object) -> None:
    got = _shown(value)
    if not reads_as(expected, got):
        raise AssertionError(f"{_name(block.path)}:{line}: the comment says "
                             f"-> {expected}, the value is {got}")


def run_session(block: Block, namespace: dict) -> None:
    """A block written as an interactive session (``>>>`` prompts) runs as a doctest:
    each shown output must be the one printed."""
    name = f"{_name(block.path)}:{block.line}"
    test = doctest.DocTestParser().get_doctest(block.text, namespace, name, name,
                                               block.line - 1)
    report = io.StringIO()
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=report.write, clear_globs=False)
    namespace.update(test.globs)  # DocTest works on a copy: later blocks see the names
    if result.failed:
        raise AssertionError(f"{name}: {result.failed} example(s) failed\n{report.getvalue()}")


def run_python(block: Block, namespace: dict) -> None:
    """Execute ``block`` statement by statement; tracebacks name the Markdown line."""
    if block.text.lstrip().startswith(">>>"):
        run_session(block, namespace)
        return
    filename = _name(block.path)
    source = "\n" * (block.line - 1) + block.text  # line numbers of the Markdown file
    tree = ast.parse(source, filename)
    source_lines = source.splitlines()
    for statement in tree.body:
        last = source_lines[statement.end_lineno - 1]
        check = CHECK.search(last) if isinstance(statement, ast.Expr) else None
        if check:
            code = compile(ast.Expression(statement.value), filename, "eval")
            _check_value(block, statement.end_lineno, check.group(1), eval(code, namespace))
        else:
            exec(compile(ast.Module([statement], []), filename, "exec"), namespace)


def run_console(block: Block) -> int:
    """Run each ``$ chainrule ...`` line of ``block``; return how many ran."""
    from chainrule.cli import main

    ran = 0
    for offset, line in enumerate(block.text.splitlines()):
        if not line.startswith("$ "):
            continue
        words = shlex.split(line[2:], comments=True)
        if not words or words[0] != "chainrule":
            continue
        expected = EXIT.search(line)
        want = int(expected.group(1)) if expected else 0
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(words[1:])
            except SystemExit as exit_:  # argparse: bad options, --help, --version
                status = exit_.code if isinstance(exit_.code, int) else 1
        if status != want:
            raise AssertionError(
                f"{_name(block.path)}:{block.line + offset}: `{line[2:]}` exited "
                f"{status}, expected {want}\nstdout:\n{out.getvalue()[-2000:]}\n"
                f"stderr:\n{err.getvalue()[-2000:]}")
        ran += 1
    return ran


def run_document(path: Path) -> None:
    """Run every block of ``path`` in order, in one namespace (the current folder)."""
    namespace: dict = {"__name__": "__docs__"}
    try:
        for block in blocks(path):
            if block.language in RUN_PYTHON:
                run_python(block, namespace)
            elif block.language in RUN_CONSOLE:
                run_console(block)
            elif block.language not in SHOWN_ONLY:
                raise AssertionError(
                    f"{block.where}: a code block labelled {block.language or 'nothing'!r}; "
                    f"label it python (run), console (its `$ chainrule` lines run) or text "
                    f"(shown)")
    finally:
        # the examples' functions live on in caches (cr.jit's) and keep their globals:
        # emptied, the document's tensors (and any hook one registered) go with it
        namespace.clear()


@pytest.mark.parametrize("path", documents(), ids=_name)
def test_every_block_runs_as_written(path, tmp_path, monkeypatch):
    import chainrule as cr

    monkeypatch.chdir(tmp_path)  # files the examples write land here,
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # temporary ones too (demo)
    np.random.seed(0)
    cr.random.seed(0)
    run_document(path)


# The collector itself: each rule fails when it should.

def _run_text(tmp_path: Path, monkeypatch, text: str) -> None:
    probe = tmp_path / "probe.md"
    probe.write_text(text)
    monkeypatch.chdir(tmp_path)
    run_document(probe)


def test_collector_shares_names_and_checks_values(tmp_path, monkeypatch):
    _run_text(tmp_path, monkeypatch, "```python\nx = 2.0\n```\n\n```python\n"
                                     "x * 3  # -> 6.0\nnp = __import__('numpy')\n"
                                     "np.float64(0.123456)  # -> 0.123\n```\n")
    with pytest.raises(AssertionError, match=r"probe.md:2: the comment says -> 7.0"):
        _run_text(tmp_path, monkeypatch, "```python\n2.0 * 3  # -> 7.0\n```\n")
    with pytest.raises(NameError):
        _run_text(tmp_path, monkeypatch, "```python\ng(1)\n```\n")
    with pytest.raises(ZeroDivisionError) as info:
        _run_text(tmp_path, monkeypatch, "text\n\n```python\nx = 1\n1 / 0\n```\n")
    assert info.traceback[-1].lineno + 1 == 5  # the Markdown line of `1 / 0`


@pytest.mark.parametrize("expected, got, same", [
    ("3.0", "3.0", True), ("3.0", "3.04", True), ("3.0", "3.1", False),
    ("0.918", "0.91821682", True), ("0.918", "0.9189", False),
    ("3", "3", True), ("3", "3.0", False), ("2.7e-11", "2.74e-11", True),
    ("tensor(3.)", "tensor(3.)", True), ("tensor(3.)", "tensor(4.)", False),
    ("(array([0.918, 1.382]),)", "(array([0.91821682, 1.38177329]),)", True),
    ("(array([0.918, 1.382]),)", "(array([0.91821682, 1.38177329]))", False),
    ("tensor(-1.01, grad_fn=...)", "tensor(-1.0122, grad_fn=sum)", True),
    ("True", "False", False), ("2*x - 3", "2*x-3", True), ("2*x - 3", "2*x + 3", False),
])
def test_values_read_to_the_precision_written(expected, got, same):
    assert reads_as(expected, got) is same


def test_collector_runs_sessions_as_doctests(tmp_path, monkeypatch):
    _run_text(tmp_path, monkeypatch, "```python\n>>> y = 3\n>>> y * 2\n6\n```\n\n"
                                     "```pycon\n>>> y + 1\n4\n```\n")
    with pytest.raises(AssertionError, match=r"probe.md:2: 1 example\(s\) failed"):
        _run_text(tmp_path, monkeypatch, "```python\n>>> 2 * 3\n7\n```\n")


def test_collector_runs_console_lines_and_refuses_unlabelled_blocks(tmp_path, monkeypatch):
    _run_text(tmp_path, monkeypatch, "```console\n$ make test\n"
                                     "$ chainrule diff x**2 --at x=3\nsome output\n"
                                     "$ chainrule diff x**2  # exit status 2\n```\n")
    with pytest.raises(AssertionError, match="exited 2, expected 0"):
        _run_text(tmp_path, monkeypatch, "```console\n$ chainrule diff x**2 --at y=3\n```\n")
    with pytest.raises(AssertionError, match="labelled 'nothing'"):
        _run_text(tmp_path, monkeypatch, "```\nx = 1\n```\n")
    _run_text(tmp_path, monkeypatch, "```text\nnot python at all (\n```\n")
