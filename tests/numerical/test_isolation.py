"""The numerical package is an independent oracle: NumPy and the standard library only.

Also runs the package's docstring examples, so ``pytest tests/numerical`` alone
checks that every example still runs.
"""

import ast
import doctest
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

import chainrule.numerical as numerical

PACKAGE_DIR = Path(numerical.__file__).parent
MODULES = sorted(PACKAGE_DIR.glob("*.py"))


def imported_roots(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], 0
        elif isinstance(node, ast.ImportFrom):
            yield (node.module or "").split(".")[0], node.level


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_only_numpy_and_stdlib(path):
    for root, level in imported_roots(path):
        if level == 1:
            continue  # a sibling module inside chainrule.numerical
        assert level == 0, f"{path.name} imports from outside the package (level {level})"
        assert root == "numpy" or root in sys.stdlib_module_names or root == "__future__", (
            f"{path.name} imports {root!r}: chainrule.numerical may use only NumPy and the "
            "standard library"
        )


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_files_stay_small(path):
    assert len(path.read_text().splitlines()) <= 400


def test_public_names_have_docstrings_with_examples():
    for name in numerical.__all__:
        obj = getattr(numerical, name)
        if callable(obj) and not isinstance(obj, type):
            assert obj.__doc__ and ">>>" in obj.__doc__, f"{name} needs a runnable example"


def submodules():
    yield numerical
    for info in pkgutil.iter_modules([str(PACKAGE_DIR)]):
        yield importlib.import_module(f"chainrule.numerical.{info.name}")


@pytest.mark.parametrize("module", list(submodules()), ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testmod(module, optionflags=flags, verbose=False)
    assert result.failed == 0
